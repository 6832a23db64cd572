// rackmem-sim replay <result.json>: reruns the file's scenario with its seed and checks that the
// digest and the whole result are identical.

import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { SimResult } from '@rackmem/sim';
import type { Command } from 'commander';
import { resultFileText } from '../canonical-json.js';
import { firstDifference } from '../diff.js';
import { runWithProgress } from '../run-files.js';
import { validateIn } from '../scenario-input.js';
import { CliFailure, usage } from './errors.js';
import { EXIT_FAILURE, type CliIo } from './io.js';

/** Reads a result file (exit 2 when it is not one). */
export function readResultFile(path: string, cwd: string): SimResult {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(resolve(cwd, path), 'utf8'));
  } catch (error) {
    throw usage('unreadable-result', `${path}: cannot read a result: ${(error as Error).message}`);
  }
  const r = value as Partial<SimResult>;
  if (typeof r !== 'object' || r === null || typeof r.digest !== 'string' || typeof r.identity?.seed !== 'string' || typeof r.scenario !== 'object' || !Array.isArray(r.regions)) {
    throw usage('not-a-result', `${path}: not a rackmem-sim result (expected identity.seed, scenario, regions and digest)`);
  }
  return r as SimResult;
}

/** Adds `replay`. */
export function addReplayCommand(program: Command, io: CliIo, wrap: (action: () => Promise<void>) => Promise<void>): void {
  program
    .command('replay')
    .description('rerun a result file\'s scenario with its seed; check the digest and the result are identical')
    .argument('<result.json>', 'a result written by run or sweep')
    .option('--trace-dir <DIR>', 'directory that relative trace paths of the scenario are resolved against (default: the result file\'s directory)')
    .option('-q, --quiet', 'no progress bar')
    .action((path: string, options: { traceDir?: string; quiet?: boolean }) =>
      wrap(async () => {
        const recorded = readResultFile(path, io.cwd);
        const scenario = validateIn(recorded.scenario, `${path}: scenario`);
        const seed = recorded.identity.seed;
        const nodeMajor = Number(process.versions.node.split('.')[0]);
        io.stdout(`replay: ${recorded.identity.scenarioName} seed ${seed}, scenario ${recorded.identity.scenarioDigest}, recorded digest ${recorded.digest}\n`);
        if (recorded.identity.nodeMajor !== nodeMajor) io.stderr(`rackmem-sim: note: recorded with Node ${recorded.identity.nodeMajor}, replaying with Node ${nodeMajor}; digests are only promised equal for the same Node major\n`);
        const traceDir = resolve(io.cwd, options.traceDir ?? dirname(resolve(io.cwd, path)));
        const rerun = runWithProgress(scenario, seed, traceDir, options.quiet === true ? undefined : io.progressStream);
        const expectedText = resultFileText(recorded);
        const actualText = resultFileText(rerun);
        if (rerun.digest === recorded.digest && expectedText === actualText) {
          io.stdout(`replay: identical\ndigest: ${rerun.digest}\n`);
          return;
        }
        const d = firstDifference(JSON.parse(expectedText), JSON.parse(actualText));
        io.stdout(`replay: DIFFERENT: digest ${recorded.digest} recorded, ${rerun.digest} now\n`);
        if (d !== undefined) io.stdout(`first difference at ${d.path}: recorded ${d.expected}, now ${d.actual}\n`);
        else io.stdout(`first difference: the files differ in formatting only\n`);
        io.stdout(`digest: ${rerun.digest}\n`);
        throw new CliFailure(EXIT_FAILURE, 'replay-mismatch', `replay of ${path} differs${d === undefined ? '' : ` (first at ${d.path})`}`);
      }),
    );
}
