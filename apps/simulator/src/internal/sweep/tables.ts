// The combined tables of a sweep: one row per (point, region), the sweep.json document, the
// slowdown pivot (series x local-memory ratio) and the sweep digest.

import { scenarioDigest, SIMULATOR_VERSION } from '@rackmem/sim';
import { regionSummary, REGION_SUMMARY_COLUMNS, type RegionSummary } from '../summary.js';
import type { VaryAxis } from './grid.js';
import type { PointOutcome } from './pool.js';

/** What a sweep was: enough to rerun it and to label its tables. */
export interface SweepDefinition {
  /** The command that reruns this sweep (or shard). */
  command: string;
  bases: string[];
  study?: string;
  axes: VaryAxis[];
  seeds: string[];
  /** Points of the whole grid. */
  totalPoints: number;
  /** `i/n` when this is one shard. */
  shard?: string;
}

/** One row of the combined table. */
export interface SweepRow extends Partial<RegionSummary> {
  point: number;
  label: string;
  base: string;
  seed: string;
  values: Record<string, unknown>;
  status: 'ok' | 'failed';
  scenarioDigest: string;
  digest?: string;
  error?: string;
}

/** Path of a point's result file inside the sweep directory. */
export function pointFile(index: number): string {
  return `points/${String(index).padStart(4, '0')}.json`;
}

/** Rows of the combined table (points in order, regions in order). */
export function sweepRows(outcomes: readonly PointOutcome[]): SweepRow[] {
  const rows: SweepRow[] = [];
  for (const o of outcomes) {
    const p = o.point;
    const head = { point: p.index, label: p.label, base: p.base, seed: p.seed, values: p.values, scenarioDigest: p.scenarioDigest };
    if (o.status === 'ok') for (const r of o.result.regions) rows.push({ ...head, status: 'ok', ...regionSummary(r), digest: o.result.digest });
    else rows.push({ ...head, status: 'failed', error: o.repro ?? `${o.code}: ${o.message.split('\n')[0]}` });
  }
  return rows;
}

/** The sweep digest: FNV-1a over the (point, digest) list; the same for any --jobs. */
export function sweepDigest(outcomes: readonly PointOutcome[]): string {
  return scenarioDigest(outcomes.map((o) => [o.point.index, o.status === 'ok' ? o.result.digest : `failed:${o.code}`]));
}

/** CSV header and rows of the combined table. */
export function sweepCsvTable(def: SweepDefinition, rows: readonly SweepRow[]): { header: string[]; rows: unknown[][] } {
  const keys = def.axes.map((a) => a.key);
  const header = ['point', 'label', 'base', 'seed', ...keys.map((k) => `vary.${k}`), ...REGION_SUMMARY_COLUMNS, 'digest', 'status', 'error'];
  return {
    header,
    rows: rows.map((r) => [r.point, r.label, r.base, r.seed, ...keys.map((k) => r.values[k]), ...REGION_SUMMARY_COLUMNS.map((c) => r[c]), r.digest, r.status, r.error]),
  };
}

/** The sweep.json document. */
export function sweepDocument(def: SweepDefinition, outcomes: readonly PointOutcome[]): Record<string, unknown> {
  return {
    sweep: {
      simulator: SIMULATOR_VERSION,
      command: def.command,
      bases: def.bases,
      study: def.study ?? null,
      vary: Object.fromEntries(def.axes.map((a) => [a.key, a.values])),
      seeds: def.seeds,
      totalPoints: def.totalPoints,
      shard: def.shard ?? null,
      pointsRun: outcomes.length,
      failed: outcomes.filter((o) => o.status === 'failed').length,
      digest: sweepDigest(outcomes),
    },
    points: outcomes.map((o) => ({
      index: o.point.index,
      label: o.point.label,
      base: o.point.base,
      seed: o.point.seed,
      values: o.point.values,
      scenarioDigest: o.point.scenarioDigest,
      status: o.status,
      ...(o.status === 'ok' ? { digest: o.result.digest, resultFile: pointFile(o.point.index) } : { error: { code: o.code, message: o.message, repro: o.repro ?? null } }),
    })),
    rows: sweepRows(outcomes),
  };
}

function isRatioKey(key: string): boolean {
  return /(^|\.)local(Ratio|Pages)$/.test(key);
}

/** A series of the slowdown pivot: its name, and per local ratio the mean slowdown over seeds. */
export interface PivotSeries {
  facet: string;
  name: string;
  byRatio: Map<number, number>;
}

/** Groups ok rows into series (base, other axes, region) over the actual local-memory ratio; slowdown averaged over seeds. */
export function slowdownPivot(def: SweepDefinition, rows: readonly SweepRow[]): { ratios: number[]; series: PivotSeries[] } {
  const otherKeys = def.axes.map((a) => a.key).filter((k) => !isRatioKey(k));
  const multiRegion = rows.some((r) => r.status === 'ok' && r.region !== undefined && rows.some((q) => q.point === r.point && q.region !== r.region));
  const groups = new Map<string, { facet: string; name: string; sums: Map<number, { sum: number; n: number }> }>();
  const ratios = new Set<number>();
  for (const r of rows) {
    if (r.status !== 'ok' || r.localRatio === undefined || r.slowdown === undefined) continue;
    const parts = otherKeys.filter((k) => def.axes.find((a) => a.key === k)!.values.length > 1).map((k) => `${k}=${typeof r.values[k] === 'string' ? r.values[k] : JSON.stringify(r.values[k])}`);
    if (multiRegion) parts.push(`region=${r.region}`);
    const facet = def.bases.length > 1 ? r.base : '';
    const name = parts.join(' ') || r.base;
    const key = `${facet}\u0000${name}`;
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = { facet, name, sums: new Map() }));
    const s = g.sums.get(r.localRatio) ?? { sum: 0, n: 0 };
    s.sum += r.slowdown;
    s.n += 1;
    g.sums.set(r.localRatio, s);
    ratios.add(r.localRatio);
  }
  const series = [...groups.values()].map((g) => ({
    facet: g.facet,
    name: g.name,
    byRatio: new Map([...g.sums.entries()].map(([ratio, s]) => [ratio, Math.round((s.sum / s.n) * 10_000) / 10_000])),
  }));
  return { ratios: [...ratios].sort((a, b) => b - a), series };
}
