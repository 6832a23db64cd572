import type { Daemon, StopResult } from '../daemon/daemon.js';
import type { RegionServiceFactory } from '../daemon/ports.js';
import type { FabricFactory } from '../daemon/transport.js';

/** Exit codes of the CLI. */
export const EXIT_OK = 0;
/** A runtime failure (the daemon is unreachable, a peer cannot be connected, a stop was not clean). */
export const EXIT_FAILURE = 1;
/** A usage or validation error (bad flags, bad config, a request out of range); nothing changed. */
export const EXIT_USAGE = 2;

/** Where the CLI writes and what it may use (the process by default; tests pass their own). */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  /** `node start`: the region runtime to plug in (default: none). */
  readonly regions?: RegionServiceFactory;
  /** `node start`: the fabric factory (default: TCP). */
  readonly fabricFactory?: FabricFactory;
  /** `node start`: install SIGINT/SIGTERM handlers and force-exit after a stop that leaves handles open (default true). */
  readonly processSignals?: boolean;
  /** `node start`: called once the daemon runs; the returned promise (if any) stops it when it resolves (tests). */
  readonly onDaemonStarted?: (daemon: Daemon) => Promise<string> | void;
  /** `node start`: called with the stop result. */
  readonly onDaemonStopped?: (result: StopResult) => void;
}

/** The process's I/O. */
export function processIo(): CliIo {
  return {
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    env: process.env,
    cwd: process.cwd(),
  };
}
