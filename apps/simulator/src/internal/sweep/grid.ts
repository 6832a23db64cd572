// The points of a sweep: base scenarios crossed with --vary values (first --vary outermost) and
// seeds (innermost), in a deterministic order; --shard i/n keeps every n-th point from i.

import { builtinStudies, parseFieldValue, scenarioDigest, studyGrid, type Scenario } from '@rackmem/sim';
import { usage } from '../cli/errors.js';
import { rerunCommand } from '../rerun.js';
import { applySets, resolveFieldPath, setField, splitAssignment } from '../scenario-input.js';

/** One --vary axis. */
export interface VaryAxis {
  /** As given on the command line (`localRatio`). */
  key: string;
  /** The values, parsed as for --set. */
  values: (string | number | boolean | null | object)[];
}

/** A base scenario of a sweep. */
export interface SweepBase {
  name: string;
  scenario: Scenario;
  /** Directory for relative trace paths. */
  baseDir: string;
  /** How the base was named on the command line (file or built-in name). */
  source: string;
  /** `--set` assignments already applied to `scenario`. */
  sets: readonly string[];
}

/** One point of a sweep. */
export interface SweepPoint {
  /** Position in the full grid (before sharding). */
  index: number;
  base: string;
  /** e.g. `touch policySet=improved localRatio=0.5`. */
  label: string;
  /** The axis values of this point, by key. */
  values: Record<string, unknown>;
  seed: string;
  scenario: Scenario;
  scenarioDigest: string;
  baseDir: string;
  /** The `rackmem-sim run` command that runs this point alone. */
  rerun: string;
}

/** Splits `a,b,[1,2],{"x":1}` at top-level commas. */
export function splitValues(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quote) {
      if (ch === '\\') i++;
      else if (ch === '"') quote = false;
    } else if (ch === '"') quote = true;
    else if (ch === '[' || ch === '{') depth++;
    else if (ch === ']' || ch === '}') depth--;
    else if (ch === ',' && depth === 0) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out.map((s) => s.trim());
}

/** Parses `--vary key=v1,v2,...`. */
export function parseVary(text: string): VaryAxis {
  const { key, value } = splitAssignment(text, '--vary');
  const parts = splitValues(value);
  if (parts.some((p) => p === '')) throw usage('invalid-vary', `--vary ${text}: empty value; expected key=v1,v2,...`);
  const values = parts.map((p) => parseFieldValue(p) as VaryAxis['values'][number]);
  const seen = new Set(values.map((v) => JSON.stringify(v)));
  if (seen.size !== values.length) throw usage('invalid-vary', `--vary ${text}: a value is repeated`);
  return { key, values };
}

function valueText(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** Seeds of a sweep: `--seeds N` gives 1..N, `--seed S` one seed, default 1. */
export function sweepSeeds(seeds: string | undefined, seed: string | undefined): string[] {
  if (seeds !== undefined && seed !== undefined) throw usage('invalid-seeds', '--seeds and --seed exclude each other');
  if (seeds !== undefined) {
    const n = Number(seeds);
    if (!Number.isSafeInteger(n) || n < 1 || n > 10_000) throw usage('invalid-seeds', `--seeds ${seeds}: expected a count between 1 and 10000`);
    return Array.from({ length: n }, (_v, i) => String(i + 1));
  }
  return [seed ?? '1'];
}

/** The full grid of `bases` x `axes` x `seeds`; every point's scenario is validated (errors name the field). */
export function buildGrid(bases: readonly SweepBase[], axes: readonly VaryAxis[], seeds: readonly string[]): SweepPoint[] {
  const keys = new Set<string>();
  for (const axis of axes) {
    if (keys.has(axis.key)) throw usage('invalid-vary', `--vary ${axis.key} is given twice; list all its values in one --vary`);
    keys.add(axis.key);
  }
  const points: SweepPoint[] = [];
  for (const base of bases) {
    for (const axis of axes) resolveFieldPath(base.scenario, axis.key);
    let combos: Record<string, unknown>[] = [{}];
    for (const axis of axes) combos = combos.flatMap((c) => axis.values.map((v) => ({ ...c, [axis.key]: v })));
    for (const values of combos) {
      let scenario = base.scenario;
      for (const axis of axes) scenario = setField(scenario, axis.key, values[axis.key], `--vary ${axis.key}=${valueText(values[axis.key])} (${base.name})`);
      const digest = scenarioDigest(scenario);
      for (const seed of seeds) {
        const varying = axes.filter((a) => a.values.length > 1);
        const parts = [...(bases.length > 1 ? [base.name] : []), ...varying.map((a) => `${a.key}=${valueText(values[a.key])}`), ...(seeds.length > 1 ? [`seed=${seed}`] : [])];
        const sets = [...base.sets, ...axes.map((a) => `${a.key}=${valueText(values[a.key])}`)];
        points.push({
          index: points.length, base: base.name, label: parts.join(' ') || base.name, values, seed, scenario, scenarioDigest: digest, baseDir: base.baseDir,
          rerun: rerunCommand(base.source, seed, sets),
        });
      }
    }
  }
  return points;
}

/** The grid of a built-in study (its scenarios x its values) x seeds; `sets` apply to every point first. */
export function studyPoints(name: string, seeds: readonly string[], baseDir: string, sets: readonly string[] = []): { points: SweepPoint[]; axes: VaryAxis[]; bases: string[] } {
  const study = builtinStudies[name];
  if (study === undefined) throw usage('no-such-study', `--study ${name}: not a built-in study (built-in: ${Object.keys(builtinStudies).join(', ')})`);
  const short = (path: string): string => path.replace(/^computeNodes\[0\]\.regions\[0\]\./, '');
  const axes: VaryAxis[] = Object.entries(study.vary).map(([path, values]) => ({ key: short(path), values: [...values] }));
  const points: SweepPoint[] = [];
  for (const p of studyGrid(study)) {
    const base = p.label.split(' ')[0];
    const values: Record<string, unknown> = {};
    for (const [path, v] of Object.entries(p.values)) values[short(path)] = v;
    const label = [base, ...axes.filter((a) => a.values.length > 1).map((a) => `${a.key}=${valueText(values[a.key])}`)].join(' ');
    const scenario = applySets(p.scenario, sets);
    const digest = scenarioDigest(scenario);
    const pointSets = [...sets, ...Object.entries(values).map(([k, v]) => `${k}=${valueText(v)}`)];
    for (const seed of seeds) {
      points.push({
        index: points.length, base, label: seeds.length > 1 ? `${label} seed=${seed}` : label, values, seed, scenario, scenarioDigest: digest, baseDir,
        rerun: rerunCommand(base, seed, pointSets),
      });
    }
  }
  return { points, axes, bases: [...study.scenarios] };
}

/** A shard `i/n` (0 <= i < n). */
export interface Shard {
  index: number;
  count: number;
}

/** Parses `--shard i/n`. */
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m === null ? NaN : Number(m[1]);
  const count = m === null ? NaN : Number(m[2]);
  if (!(count >= 1 && index >= 0 && index < count)) throw usage('invalid-shard', `--shard ${text}: expected i/n with 0 <= i < n, e.g. --shard 0/4 (every 4th point from the first)`);
  return { index, count };
}

/** The points of one shard: every n-th point of the grid, starting at i. */
export function shardPoints<T extends { index: number }>(points: readonly T[], shard: Shard | undefined): T[] {
  return shard === undefined ? [...points] : points.filter((p) => p.index % shard.count === shard.index);
}
