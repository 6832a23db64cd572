import type { HostPort } from './address.js';

/** How peers are reached: RDMA verbs, TCP, or RDMA when this machine has a device, else TCP. */
export type TransportChoice = 'rdma' | 'tcp' | 'auto';
/** What a node does: lend memory (donor), page regions out to donors (consumer), or both. */
export type NodeRole = 'donor' | 'consumer' | 'both';
/** Log output: JSON lines (pino) or human-readable (pino-pretty). */
export type LogFormat = 'json' | 'pretty';
/** The least severe log level written. */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';

/** The validated configuration of a rackmem node (file and flags merged, secret loaded). */
export interface NodeConfig {
  /** This node's name (default: the host name). */
  readonly nodeName: string;
  /** Where the fabric listens for peers (default 0.0.0.0:7472). */
  readonly listen: HostPort;
  /** Bytes this node lends to peers (0: it donates nothing). */
  readonly donateBytes: number;
  /** Peers to connect to at start (kept connected). */
  readonly peers: readonly HostPort[];
  /** Path of the cluster secret file (absolute). */
  readonly secretFile: string;
  /** The cluster secret (at least 16 bytes; one trailing newline of the file is not part of it). */
  readonly secret: Uint8Array;
  /** The transport asked for. */
  readonly transport: TransportChoice;
  /** Where the control HTTP API listens (default 127.0.0.1:7473). */
  readonly api: HostPort;
  /** The API may listen on a non-loopback address. */
  readonly apiAllowRemote: boolean;
  readonly logFormat: LogFormat;
  readonly logLevel: LogLevel;
  /** donor, consumer or both (default: donor when donateBytes > 0, else consumer). */
  readonly role: NodeRole;
  /** How long an orderly shutdown may take before the process exits anyway (default 10 s). */
  readonly shutdownTimeoutMs: number;
  /** The config file read, or null. */
  readonly configFile: string | null;
  /** Problems that do not stop the node (for example a group-readable secret file). */
  readonly warnings: readonly string[];
}
