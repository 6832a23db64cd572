// `rackmem node start`: load the configuration (exit 2 on any problem, nothing started), start the
// daemon, run until SIGINT/SIGTERM, stop in order (exit 0 when clean, 1 otherwise).
import type { Command } from 'commander';
import { ConfigError } from '../config/errors.js';
import { loadNodeConfig, type ConfigFlags } from '../config/load.js';
import { CliFailure } from './api-commands.js';
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, type CliIo } from './io.js';

interface StartOptions {
  config?: string;
  name?: string;
  listen?: string;
  donate?: string;
  peer?: string[];
  secretFile?: string;
  transport?: string;
  api?: string;
  apiAllowRemote?: boolean;
  logFormat?: string;
  logLevel?: string;
  role?: string;
  shutdownTimeoutMs?: string;
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

const EXAMPLES = `
Examples:
  $ rackmem node start --config /etc/rackmem/node.yaml
  $ rackmem node start --name mem-1 --donate 64GiB --secret-file /etc/rackmem/secret
  $ rackmem node start --name cpu-1 --peer 10.0.0.18:7472 --peer 10.0.0.19:7472 \\
      --secret-file /etc/rackmem/secret --log-format pretty

Flags override the config file. Exit codes: 0 stopped cleanly, 1 runtime failure,
2 invalid configuration (nothing was started).
`;

/** Adds `node start` to the program. */
export function addStartCommand(program: Command, io: CliIo, run: (action: () => Promise<void>) => Promise<void>): void {
  const node = program.command('node').description('run a rackmem node (the daemon)');
  node
    .command('start')
    .description('start this node: donate memory, connect peers, serve the control API')
    .option('-c, --config <file>', 'a YAML or JSON config file')
    .option('--name <name>', 'node name (default: the host name)')
    .option('--listen <addr>', 'fabric listen address (default 0.0.0.0:7472)')
    .option('--donate <size>', 'bytes to lend to peers, like 64GiB, 512MiB or plain bytes (default 0)')
    .option('--peer <addr>', 'a peer to connect to as host:port (repeat the flag for more)', collect)
    .option('--secret-file <file>', 'file holding the cluster secret (at least 16 bytes, mode 600)')
    .option('--transport <kind>', 'rdma, tcp or auto (default auto: rdma when a device exists, else tcp)')
    .option('--api <addr>', 'control API address (default 127.0.0.1:7473; loopback only unless --api-allow-remote)')
    .option('--api-allow-remote', 'let the control API listen on a non-loopback address (it has no authentication)')
    .option('--log-format <format>', 'json (default) or pretty')
    .option('--log-level <level>', 'trace, debug, info (default), warn, error, fatal or silent')
    .option('--role <role>', 'donor, consumer or both (default: donor when --donate > 0, else consumer)')
    .option('--shutdown-timeout-ms <ms>', 'how long an orderly stop may take (default 10000)')
    .addHelpText('after', EXAMPLES)
    .action((options: StartOptions) => run(() => startNode(options, io)));
}

async function startNode(options: StartOptions, io: CliIo): Promise<void> {
  const flags: ConfigFlags = {
    nodeName: options.name,
    listen: options.listen,
    donateBytes: options.donate,
    peers: options.peer,
    secretFile: options.secretFile,
    transport: options.transport,
    api: options.api,
    apiAllowRemote: options.apiAllowRemote,
    logFormat: options.logFormat,
    logLevel: options.logLevel,
    role: options.role,
    shutdownTimeoutMs: options.shutdownTimeoutMs,
  };
  let config;
  try {
    config = loadNodeConfig({ configFile: options.config, flags: Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined)) as ConfigFlags, cwd: io.cwd });
  } catch (error) {
    if (error instanceof ConfigError) throw new CliFailure(EXIT_USAGE, `invalid configuration:\n  ${error.problems.join('\n  ')}`);
    throw error;
  }
  const { Daemon } = await import('../daemon/daemon.js');
  const { DaemonError } = await import('../daemon/errors.js');
  let daemon;
  try {
    daemon = await Daemon.start({ config, regions: io.regions, fabricFactory: io.fabricFactory });
  } catch (error) {
    if (error instanceof DaemonError) throw new CliFailure(EXIT_FAILURE, error.message);
    throw error;
  }
  const useSignals = io.processSignals !== false;
  const stopReason = await new Promise<string>((resolve) => {
    const external = io.onDaemonStarted?.(daemon);
    if (external !== undefined) void external.then(resolve);
    if (!useSignals) return;
    let signalled = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (signalled) {
        daemon.logger.error({ event: 'forced-exit', signal }, `${signal} again: exiting without finishing the shutdown`);
        process.exit(EXIT_FAILURE);
      }
      signalled = true;
      resolve(`${signal} received`);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    // A bug must not vanish from the log: record it, then exit (the default would only print to stderr).
    const crash = (error: unknown): void => {
      daemon.logger.fatal({ event: 'crash', err: error }, `crashed: ${(error as Error)?.message ?? String(error)}`);
      process.exit(EXIT_FAILURE);
    };
    process.once('uncaughtException', crash);
    process.once('unhandledRejection', crash);
  });
  const result = await daemon.stop(stopReason);
  io.onDaemonStopped?.(result);
  if (useSignals) {
    // Everything is closed: the event loop should now drain and the process exit on its own. If a
    // handle is still open, say which and exit anyway.
    const guard = setTimeout(() => {
      const open = process.getActiveResourcesInfo().filter((r) => r !== 'Timeout' && r !== 'TTYWrap');
      daemon.logger.warn({ event: 'handles-left-open', resources: open }, `handles left open after the stop: ${open.join(', ') || 'none'}; exiting`);
      process.exit(result.clean ? EXIT_OK : EXIT_FAILURE);
    }, 3_000);
    guard.unref();
  }
  if (!result.clean) throw new CliFailure(EXIT_FAILURE, `the node did not stop cleanly: ${result.problems.join('; ')}`);
}
