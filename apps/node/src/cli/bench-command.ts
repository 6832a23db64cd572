// `rackmem bench fault`: the fault-latency benchmark (src/bench/fault-bench.ts), printing JSON.
import type { Command } from 'commander';
import { CliFailure } from './api-commands.js';
import { EXIT_FAILURE, EXIT_USAGE, type CliIo } from './io.js';

function positiveInt(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new CliFailure(EXIT_USAGE, `--${name} must be a positive whole number, got "${value}"`);
  return n;
}

/** Adds `bench fault`. */
export function addBenchCommands(program: Command, io: CliIo, run: (action: () => Promise<void>) => Promise<void>): void {
  const bench = program.command('bench').description('benchmarks that print JSON (measured against references in the same run)');
  bench
    .command('fault')
    .description('fault latency of the pager vs a C userfaultfd handler (local and over TCP), and sequential prefetch vs demand paging')
    .option('--pages <n>', 'pages timed per local run', '20000')
    .option('--rounds <n>', 'rounds per placement (medians are reported)', '5')
    .option('--seq-pages <n>', 'pages of the sequential scan', '16384')
    .option('--remote-pages <n>', 'pages timed per remote run', '8192')
    .addHelpText('after', '\nNeeds userfaultfd (root, or see the README) and gcc (the C reference is compiled at run time).\nExample:\n  $ rackmem bench fault --rounds 3\n')
    .action((options: Record<string, string>) => run(async () => {
      const { runFaultBench } = await import('../bench/fault-bench.js');
      const result = await runFaultBench({
        pages: positiveInt('pages', options.pages), rounds: positiveInt('rounds', options.rounds),
        seqPages: positiveInt('seq-pages', options.seqPages), remotePages: positiveInt('remote-pages', options.remotePages),
        progress: (line) => io.stderr(`bench fault: ${line}\n`),
      });
      io.stdout(`${JSON.stringify(result, null, 2)}\n`);
      if (result.skipped) throw new CliFailure(EXIT_FAILURE, `benchmark skipped: ${String(result.reason)}`);
    }));
}
