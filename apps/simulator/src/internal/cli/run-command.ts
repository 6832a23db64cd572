// rackmem-sim run <scenario> [--seed N] [--set key=value]... [--out DIR] [--quiet]

import { resolve } from 'node:path';
import { scenarioDigest, SIMULATOR_VERSION } from '@rackmem/sim';
import type { Command } from 'commander';
import { rerunCommand } from '../rerun.js';
import { runWithProgress, writeRunFiles } from '../run-files.js';
import { applySets, loadScenario } from '../scenario-input.js';
import { runLine, summaryTable } from '../summary.js';
import { usage } from './errors.js';
import type { CliIo } from './io.js';

/** Options of run. */
interface RunOptions {
  seed: string;
  set: string[];
  out?: string;
  quiet?: boolean;
}

/** Collects a repeatable flag. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Checks a seed: letters, digits, '.', '_' or '-', at most 64 characters. */
export function parseSeed(text: string): string {
  if (!/^[\w.-]{1,64}$/.test(text)) throw usage('invalid-seed', `--seed ${text}: expected a number or a word of letters, digits, '.', '_', '-'`);
  return text;
}

/** A directory name from a scenario name. */
export function safeName(name: string): string {
  return name.replace(/[^\w.-]+/g, '_').slice(0, 80) || 'scenario';
}


/** Adds `run`. */
export function addRunCommand(program: Command, io: CliIo, wrap: (action: () => Promise<void>) => Promise<void>): void {
  program
    .command('run')
    .description('run a scenario (a YAML or JSON file, or a built-in name); writes result.json, timeseries.csv, summary.csv, report.html')
    .argument('<scenario>', 'scenario file (.yaml, .yml, .json) or built-in name (see "rackmem-sim scenarios")')
    .option('--seed <N>', 'root seed of the run', '1')
    .option('--set <key=value>', 'override a scenario field (repeatable), e.g. --set localRatio=0.5 --set network=edr100', collect, [])
    .option('--out <DIR>', 'output directory (default: rackmem-sim-out/<scenario name>)')
    .option('-q, --quiet', 'no progress bar')
    .action((arg: string, options: RunOptions) =>
      wrap(async () => {
        const seed = parseSeed(options.seed);
        const input = loadScenario(arg, io.cwd);
        const scenario = applySets(input.scenario, options.set);
        const out = resolve(io.cwd, options.out ?? `rackmem-sim-out/${safeName(scenario.name)}`);
        const rerun = rerunCommand(input.source, seed, options.set);
        const nodeMajor = Number(process.versions.node.split('.')[0]);
        io.stdout(`repro: ${rerun}  # scenario ${scenarioDigest(scenario)}, ${SIMULATOR_VERSION}, node ${nodeMajor}\n`);
        const result = runWithProgress(scenario, seed, input.baseDir, options.quiet === true ? undefined : io.progressStream);
        const files = writeRunFiles(result, out, io.cwd, rerun);
        io.stdout(`${runLine(result)}\n\n${summaryTable(result)}\nwrote ${files.join(', ')}\n`);
        io.stdout(`digest: ${result.digest}\n`);
      }),
    );
}
