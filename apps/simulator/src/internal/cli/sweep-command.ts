// rackmem-sim sweep <scenario> --vary key=v1,v2,... [--vary ...] [--seeds N | --seed N]
//   [--set key=value]... [--jobs N] [--shard i/n] [--out DIR] [--list] [--quiet]
// rackmem-sim sweep --study rackmem2021 [...]

import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { formatNs, formatPercent, formatRatio, shellQuote, textTable } from '../format.js';
import { createProgress } from '../progress.js';
import { applySets, loadScenario } from '../scenario-input.js';
import { buildGrid, parseShard, parseVary, shardPoints, studyPoints, sweepSeeds, type SweepPoint, type VaryAxis } from '../sweep/grid.js';
import { runPool, type PointOutcome } from '../sweep/pool.js';
import { slowdownPivot, sweepDigest, sweepRows, type SweepDefinition } from '../sweep/tables.js';
import { writeSweepFiles } from '../sweep/write.js';
import { collect, parseSeed, safeName } from './run-command.js';
import { CliFailure, usage } from './errors.js';
import { EXIT_FAILURE, EXIT_USAGE, type CliIo } from './io.js';

interface SweepOptions {
  vary: string[];
  set: string[];
  study?: string;
  seeds?: string;
  seed?: string;
  jobs?: string;
  shard?: string;
  out?: string;
  list?: boolean;
  quiet?: boolean;
}

function parseJobs(text: string | undefined): number {
  if (text === undefined) return Math.max(1, availableParallelism());
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1 || n > 256) throw usage('invalid-jobs', `--jobs ${text}: expected a worker count between 1 and 256`);
  return n;
}

/** The command line that reruns this sweep (or shard). */
function sweepCommand(arg: string | undefined, o: SweepOptions): string {
  const parts = ['rackmem-sim', 'sweep'];
  if (o.study !== undefined) parts.push('--study', shellQuote(o.study));
  else if (arg !== undefined) parts.push(shellQuote(arg));
  for (const s of o.set) parts.push('--set', shellQuote(s));
  for (const v of o.vary) parts.push('--vary', shellQuote(v));
  if (o.seeds !== undefined) parts.push('--seeds', o.seeds);
  if (o.seed !== undefined) parts.push('--seed', shellQuote(o.seed));
  if (o.shard !== undefined) parts.push('--shard', o.shard);
  return parts.join(' ');
}

/** Expands the command line into the definition and the full grid. */
export function sweepGrid(arg: string | undefined, o: SweepOptions, cwd: string): { def: SweepDefinition; points: SweepPoint[] } {
  const seeds = sweepSeeds(o.seeds, o.seed === undefined ? undefined : parseSeed(o.seed));
  if (o.study !== undefined) {
    if (arg !== undefined) throw usage('invalid-sweep', `--study ${o.study} sweeps its own scenarios; drop the scenario argument "${arg}"`);
    if (o.vary.length > 0) throw usage('invalid-sweep', `--study ${o.study} has its own grid; --vary is not allowed with it (use --set to change every point)`);
    const { points, axes, bases } = studyPoints(o.study, seeds, cwd, o.set);
    return { def: { command: sweepCommand(arg, o), bases, study: o.study, axes, seeds, totalPoints: points.length }, points };
  }
  if (arg === undefined) throw usage('invalid-sweep', 'give a scenario (file or built-in name) or --study <name>');
  if (o.vary.length === 0 && o.seeds === undefined) throw usage('invalid-sweep', 'nothing to sweep: give --vary key=v1,v2,... and/or --seeds N');
  const input = loadScenario(arg, cwd);
  const scenario = applySets(input.scenario, o.set);
  const axes: VaryAxis[] = o.vary.map(parseVary);
  const points = buildGrid([{ name: scenario.name, scenario, baseDir: input.baseDir, source: input.source, sets: o.set }], axes, seeds);
  return { def: { command: sweepCommand(arg, o), bases: [scenario.name], axes, seeds, totalPoints: points.length }, points };
}

/** The slowdown pivot as text (series x local memory). */
export function pivotText(def: SweepDefinition, outcomes: readonly PointOutcome[]): string {
  const { ratios, series } = slowdownPivot(def, sweepRows(outcomes));
  if (series.length === 0) return '';
  const multi = def.bases.length > 1;
  const header = [...(multi ? ['scenario'] : []), 'series', ...ratios.map((r) => formatPercent(r))];
  const rows = series.map((s) => [...(multi ? [s.facet] : []), s.name, ...ratios.map((r) => (s.byRatio.has(r) ? `${formatRatio(s.byRatio.get(r) as number)}x` : '-'))]);
  return `slowdown against all-local, by local memory (mean over seeds):\n${textTable(header, rows)}`;
}

/** One line per point: label, local, slowdown, faults, p99, digest. */
export function pointsText(outcomes: readonly PointOutcome[]): string {
  const rows = sweepRows(outcomes).map((r) =>
    r.status === 'ok'
      ? [String(r.point), r.label, r.region ?? '', formatPercent(r.localRatio ?? 0), `${formatRatio(r.slowdown ?? 0)}x`, String(r.faults), formatNs(r.faultP99Ns ?? 0), r.digest ?? '']
      : [String(r.point), r.label, 'FAILED', '', '', '', '', ''],
  );
  return textTable(['point', 'label', 'region', 'local', 'slowdown', 'faults', 'p99', 'digest'], rows);
}

/** Adds `sweep`. */
export function addSweepCommand(program: Command, io: CliIo, wrap: (action: () => Promise<void>) => Promise<void>): void {
  program
    .command('sweep')
    .description('run a grid of scenario variants in parallel worker threads; writes sweep.csv, sweep.json, report.html and points/*.json')
    .argument('[scenario]', 'scenario file or built-in name (omit with --study)')
    .option('--vary <key=v1,v2,...>', 'a field and its values (repeatable; the grid is the cartesian product, first --vary outermost)', collect, [])
    .option('--study <name>', 'a built-in study instead of a scenario (rackmem2021)')
    .option('--set <key=value>', 'override a field of every point before varying (repeatable)', collect, [])
    .option('--seeds <N>', 'run every grid point with seeds 1..N')
    .option('--seed <N>', 'run every grid point with this seed (default 1)')
    .option('--jobs <N>', 'worker threads (default: available parallelism)')
    .option('--shard <i/n>', 'run only every n-th point starting at i (0 <= i < n), for a cluster scheduler')
    .option('--out <DIR>', 'output directory (default: rackmem-sim-out/sweep-<name>[-shard-i-of-n])')
    .option('--list', 'print the points (index and label) of the grid or shard, and run nothing')
    .option('-q, --quiet', 'no progress bar')
    .action((arg: string | undefined, options: SweepOptions) =>
      wrap(async () => {
        const jobs = parseJobs(options.jobs);
        const shard = options.shard === undefined ? undefined : parseShard(options.shard);
        const { def, points: grid } = sweepGrid(arg, options, io.cwd);
        const points = shardPoints(grid, shard);
        if (shard !== undefined) def.shard = `${shard.index}/${shard.count}`;
        if (options.list === true) {
          for (const p of points) io.stdout(`${p.index}\t${p.label}\t${p.rerun}\n`);
          return;
        }
        const name = def.study !== undefined ? `study-${def.study}` : `sweep-${def.bases[0]}`;
        const out = resolve(io.cwd, options.out ?? `rackmem-sim-out/${safeName(name)}${shard === undefined ? '' : `-shard-${shard.index}-of-${shard.count}`}`);
        io.stdout(`repro: ${def.command}  # ${points.length} of ${grid.length} points, ${Math.min(jobs, Math.max(1, points.length))} worker(s)\n`);
        const bar = createProgress(options.quiet === true ? undefined : io.progressStream, 'sweep', points.length, 'points');
        const running = new Map<number, number>();
        let done = 0;
        let failedCount = 0;
        const redraw = (): void => {
          let partial = 0;
          for (const f of running.values()) partial += f;
          bar.update(Math.min(points.length, done + partial), `${failedCount} failed`);
        };
        let outcomes: PointOutcome[];
        try {
          outcomes = await runPool(points, jobs, {
            onProgress: (p, fraction) => {
              running.set(p.index, fraction);
              redraw();
            },
            onOutcome: (o) => {
              running.delete(o.point.index);
              done++;
              if (o.status === 'failed') failedCount++;
              redraw();
            },
          });
        } finally {
          bar.stop();
        }
        const files = writeSweepFiles(def, outcomes, out, io.cwd);
        const pivot = pivotText(def, outcomes);
        io.stdout(`\n${pointsText(outcomes)}\n${pivot === '' ? '' : `${pivot}\n`}`);
        const failed = outcomes.filter((o): o is Extract<PointOutcome, { status: 'failed' }> => o.status === 'failed');
        for (const f of failed) {
          io.stdout(`point ${f.point.index} (${f.point.label}) failed: ${f.code}: ${f.message.split('\n')[0]}\n`);
          if (f.repro !== undefined) io.stdout(`  ${f.repro}\n`);
          io.stdout(`  rerun: ${f.point.rerun}\n`);
        }
        io.stdout(`wrote ${files.join(', ')}\n`);
        io.stdout(`digest: ${sweepDigest(outcomes)}\n`);
        if (failed.length > 0) {
          const onlyInput = failed.every((f) => f.kind === 'input');
          throw new CliFailure(onlyInput ? EXIT_USAGE : EXIT_FAILURE, 'sweep-points-failed', `${failed.length} of ${outcomes.length} point(s) failed (see above)`);
        }
      }),
    );
}
