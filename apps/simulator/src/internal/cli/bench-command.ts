// rackmem-sim bench: runs the simulator library's own benchmark (libs/sim/bench/engine.ts: the
// bare engine and a reference heap in the same process, the full model, a 10 M-access trace) in a
// child process and prints its JSON with the headline keys first.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { CliFailure } from './errors.js';
import { EXIT_FAILURE, type CliIo } from './io.js';

/** Headline keys, printed first. */
export const BENCH_KEYS = ['bareEventsPerSecond', 'modelEventsPerSecond', 'referenceHeapEventsPerSecond', 'traceAccessesPerSecond'] as const;

/** Environment of a quick run (1 repetition, 1 M-access trace): seconds instead of a minute. */
export const QUICK_BENCH_ENV = { BENCH_REPETITIONS: '1', BENCH_MODEL_REPETITIONS: '1', BENCH_TRACE_ACCESSES: '1000000' };

/** Where the library's benchmark is. */
export function simBenchFile(): string {
  const pkg = createRequire(import.meta.url).resolve('@rackmem/sim/package.json');
  return join(dirname(pkg), 'bench', 'engine.ts');
}

/** Runs the library benchmark; resolves with its parsed JSON. */
export function runSimBench(env: Readonly<Record<string, string | undefined>>): Promise<Record<string, unknown>> {
  const file = simBenchFile();
  if (!existsSync(file)) throw new CliFailure(EXIT_FAILURE, 'bench-missing', `${file} not found: the benchmark ships with the @rackmem/sim sources (run from the repository)`);
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@rackmem/source', file], { cwd: dirname(dirname(file)), env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) {
        reject(new CliFailure(EXIT_FAILURE, 'bench-failed', `the simulator benchmark exited with ${code}: ${err.trim().split('\n').slice(-3).join(' / ')}`));
        return;
      }
      try {
        resolvePromise(JSON.parse(out) as Record<string, unknown>);
      } catch {
        reject(new CliFailure(EXIT_FAILURE, 'bench-output', `the simulator benchmark printed no JSON: ${out.slice(0, 200)}`));
      }
    });
  });
}

/** The printed object: the headline keys first, then the rest of the library's output. */
export function benchOutput(raw: Record<string, unknown>, quick: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of BENCH_KEYS) out[key] = raw[key];
  out['quick'] = quick;
  for (const [k, v] of Object.entries(raw)) if (!(k in out)) out[k] = v;
  return out;
}

/** Adds `bench`. */
export function addBenchCommand(program: Command, io: CliIo, wrap: (action: () => Promise<void>) => Promise<void>): void {
  program
    .command('bench')
    .description('simulator throughput as JSON: bare engine and reference heap events/s, full-model events/s, trace accesses/s')
    .option('--quick', 'one repetition and a 1 M-access trace (seconds, noisier)')
    .action((options: { quick?: boolean }) =>
      wrap(async () => {
        const quick = options.quick === true;
        io.stderr(`rackmem-sim: running the simulator benchmarks (${quick ? 'quick, ~10 s' : '~1 minute'})...\n`);
        const raw = await runSimBench(quick ? QUICK_BENCH_ENV : {});
        io.stdout(`${JSON.stringify(benchOutput(raw, quick), null, 2)}\n`);
      }),
    );
}
