// The `rackmem` command line (commander): `node start` runs the daemon; connect, nodes, stat and
// limit call its control API. Exit codes: 0 ok, 1 runtime failure, 2 usage or validation error.
import { Command, CommanderError } from 'commander';
import { addApiCommands, CliFailure } from './api-commands.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, processIo, type CliIo } from './io.js';
import { addStartCommand } from './start-command.js';
import { addBenchCommands } from './bench-command.js';
import { KvCommandError, registerKvCommands } from '../kv/index.js';

const OVERVIEW = `
rackmem pages memory regions out to idle DRAM on other nodes of the rack (userfaultfd, RDMA or TCP).

Examples:
  $ rackmem node start --config /etc/rackmem/node.yaml   run this node
  $ rackmem connect 10.0.0.18:7472                       connect it to a peer
  $ rackmem nodes                                        list peers and their state
  $ rackmem stat kv0                                     counters of region kv0
  $ rackmem limit kv0 32MiB                              set its local memory budget
  $ rackmem bench fault                                  fault latency vs a C handler (JSON)
  $ rackmem kv serve --size 1GiB --local 256MiB          a key-value service on paged memory
  $ rackmem kv bench                                     its throughput at 100/50/25% local memory

Exit codes: 0 ok, 1 runtime failure, 2 usage or validation error.
`;

/** Builds the program (a fresh one per run: commander keeps state). */
export function buildProgram(io: CliIo, run: (action: () => Promise<void>) => Promise<void>): Command {
  const program = new Command('rackmem');
  program
    .description('rackmem node daemon and control CLI')
    .version('0.1.0', '-V, --version')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr, outputError: (text, write) => write(text.startsWith('error:') ? `rackmem: ${text}` : text) })
    .showHelpAfterError('(run "rackmem --help" or "rackmem <command> --help" for usage)')
    .addHelpText('after', OVERVIEW);
  addStartCommand(program, io, run);
  addApiCommands(program, io, run);
  addBenchCommands(program, io, run);
  registerKvCommands(program, {
    stdout: io.stdout,
    stderr: io.stderr,
    run: (action) => run(async () => {
      try {
        await action();
      } catch (error) {
        if (error instanceof KvCommandError) throw new CliFailure(error.exitCode, error.message);
        throw error;
      }
    }),
  });
  return program;
}

/** Runs the CLI with `argv` (without node and the script) and resolves with the exit code. */
export async function runCli(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  let exitCode = EXIT_OK;
  const run = async (action: () => Promise<void>): Promise<void> => {
    try {
      await action();
    } catch (error) {
      if (error instanceof CliFailure) {
        io.stderr(`rackmem: ${error.message}\n`);
        exitCode = error.exitCode;
        return;
      }
      io.stderr(`rackmem: unexpected error: ${(error as Error)?.stack ?? String(error)}\n`);
      exitCode = EXIT_FAILURE;
    }
  };
  const program = buildProgram(io, run);
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
