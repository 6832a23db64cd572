// The rackmem-sim command line (commander): run, scenarios, sweep, replay, compare, bench.
// Exit codes: 0 ok, 1 a checker failure / replay mismatch / runtime failure, 2 bad input.

import { Command, CommanderError } from 'commander';
import { addBenchCommand } from './bench-command.js';
import { addCompareCommand } from './compare-command.js';
import { CliFailure } from './errors.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, processIo, type CliIo } from './io.js';
import { addReplayCommand } from './replay-command.js';
import { addRunCommand } from './run-command.js';
import { addScenariosCommand } from './scenarios-command.js';
import { addSweepCommand } from './sweep-command.js';
import { CheckFailure } from '../run-files.js';

const OVERVIEW = `
Design studies on rackmem's deterministic simulator: the same paging and storage code as the
daemon, over modelled NICs, links and fault paths; every run replayable bit for bit from its seed.

Examples:
  $ rackmem-sim scenarios                                   list the built-in scenarios
  $ rackmem-sim run zipf --seed 7 --set localRatio=0.25     run one, write result.json + report.html
  $ rackmem-sim sweep zipf --vary localRatio=1,0.5,0.25 --vary policySet=rackmem2021,improved
  $ rackmem-sim sweep --study rackmem2021 --jobs 2          the built-in study
  $ rackmem-sim replay rackmem-sim-out/zipf/result.json     rerun and check it is identical
  $ rackmem-sim compare a/result.json b/result.json         key metrics side by side

Exit codes: 0 ok, 1 a checker failure, replay mismatch or runtime failure, 2 bad input.
`;

/** Builds the program (a fresh one per invocation: commander keeps state). */
export function buildProgram(io: CliIo, wrap: (action: () => Promise<void>) => Promise<void>): Command {
  const program = new Command('rackmem-sim');
  program
    .description('rackmem simulator: design studies, sweeps, replays and reports')
    .version('0.1.0', '-V, --version')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr, outputError: (text, write) => write(text.startsWith('error:') ? `rackmem-sim: ${text}` : text) })
    .showHelpAfterError('(run "rackmem-sim --help" or "rackmem-sim <command> --help" for usage)')
    .addHelpText('after', OVERVIEW);
  addRunCommand(program, io, wrap);
  addScenariosCommand(program, io, wrap);
  addSweepCommand(program, io, wrap);
  addReplayCommand(program, io, wrap);
  addCompareCommand(program, io, wrap);
  addBenchCommand(program, io, wrap);
  for (const command of program.commands) command.exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr, outputError: (text, write) => write(`rackmem-sim: ${text}`) });
  return program;
}

/** Runs rackmem-sim with `argv` (without node and the script); resolves with the exit code. */
export async function runCli(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  let exitCode = EXIT_OK;
  const wrap = async (action: () => Promise<void>): Promise<void> => {
    try {
      await action();
    } catch (error) {
      if (error instanceof CheckFailure) {
        io.stderr(`rackmem-sim: ${error.message}\n`);
        io.stdout(`${error.check.repro}\n`);
        exitCode = error.exitCode;
        return;
      }
      if (error instanceof CliFailure) {
        io.stderr(`rackmem-sim: ${error.message}\n`);
        exitCode = error.exitCode;
        return;
      }
      io.stderr(`rackmem-sim: unexpected error: ${(error as Error)?.stack ?? String(error)}\n`);
      exitCode = EXIT_FAILURE;
    }
  };
  const program = buildProgram(io, wrap);
  if (argv.length === 0) {
    program.outputHelp();
    return EXIT_USAGE;
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return EXIT_OK;
      if (error.code === 'commander.help') return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
      return EXIT_USAGE;
    }
    throw error;
  }
  return exitCode;
}
