// The seams between the daemon shell (config, API, metrics, logs) and the paging runtime. The
// daemon calls these; the runtime implements RegionService, the fabric-backed PeerService is in
// fabric-peers.ts, and in-memory versions for tests are in in-memory.ts.
import type { Fabric, PeerEvent } from '@rackmem/krdma';
import type { Logger } from 'pino';
import type { NodeConfig } from '../config/types.js';
import type { RegionCreatedFields } from '../logging/events.js';

/** One region as the control API shows it (the original's `rack_vm/<pid>/stat`, and more). */
export interface RegionInfo {
  readonly name: string;
  readonly sizeBytes: number;
  readonly pageSizeBytes: number;
  /** The local memory budget in bytes (the original's `memory_limit_bytes`). */
  readonly localBytes: number;
  /** The policy switches in use, as one short text (for example "original" or "async-wb+prefetch:adaptive"). */
  readonly policySet: string;
  /** How the region learns which pages were written: `async` (WP_ASYNC + PAGEMAP_SCAN), `write-protect` faults, or `off`. */
  readonly dirtyTracking?: string;
  /** The vm event counters, in the original's order (pgfault, pgfault_read, ...). */
  readonly counters: Record<string, number>;
  /** Gauges: region_size, region_page_size, page_count, page_count_limit, full, active_list_size, inactive_list_size (and any others after them). */
  readonly gauges: Record<string, number>;
  /** The dvs counters, in the original's order (slab_alloc, slab_free, ...); empty over local storage. */
  readonly dvs: Record<string, number>;
  /** The pager thread's own counters (messagesRead, storeFills, storageSpins, ...; see PAGER_COUNTER_NAMES), for userfaultfd regions. */
  readonly pager?: Record<string, number>;
}

/** Codes of {@link RegionServiceError}: the HTTP status follows from them. */
export type RegionServiceErrorCode = 'unknown-region' | 'out-of-range' | 'busy' | 'internal';

/** A region request that was refused; nothing changed. */
export class RegionServiceError extends Error {
  constructor(readonly code: RegionServiceErrorCode, message: string) {
    super(message);
    this.name = 'RegionServiceError';
  }
}

/** The HTTP status of each region error code the control API knows. */
export const REGION_ERROR_STATUS: Readonly<Record<string, number>> = {
  'unknown-region': 404,
  'out-of-range': 400,
  'invalid-limit': 400,
  busy: 409,
  closed: 409,
};

/** The regions of this node, for the control API and metrics. */
export interface RegionService {
  /** Every region, in creation order. */
  list(): RegionInfo[];
  /** One region, or undefined. */
  get(name: string): RegionInfo | undefined;
  /**
   * Sets a region's local memory budget in bytes (the original's `memory_limit_bytes`), at once
   * or by the returned promise. When refused it throws (or rejects) without changing anything: a
   * {@link RegionServiceError}, or any error whose string `code` is one of
   * {@link REGION_ERROR_STATUS}'s keys (`unknown-region` 404; `out-of-range` / `invalid-limit` 400;
   * `busy` / `closed` 409). Other errors are answered 500.
   */
  setLimit(name: string, bytes: number): void | Promise<void>;
  /** Closes every region in order (unregister, close the userfaultfd, stop workers, release slabs). Called once at shutdown. */
  close?(): Promise<void>;
}

/** A peer as the control API shows it (krdma's PeerInfo with the address as text). */
export interface PeerInfoLike {
  /** The peer's id (hash of its node name), or null until it authenticated. */
  readonly id: number | null;
  readonly nodeName: string | null;
  /** `host:port` dialled (outbound) or the peer's address (inbound), when known. */
  readonly address: string | null;
  readonly state: 'connecting' | 'authenticating' | 'up' | 'lost' | 'refused' | 'closed';
  readonly direction: 'outbound' | 'inbound';
  /** Why the peer is lost, refused or closed, else null. */
  readonly reason: string | null;
}

/** Codes of {@link PeerError}. */
export type PeerErrorCode = 'bad-address' | 'unreachable' | 'refused' | 'timeout';

/** A connect that failed. */
export class PeerError extends Error {
  constructor(readonly code: PeerErrorCode, message: string, readonly peer: PeerInfoLike | null = null) {
    super(message);
    this.name = 'PeerError';
  }
}

/** The peers of this node: the original's `krdma/connect` and its node list. */
export interface PeerService {
  /** Connects to `host:port` (port 7472 when omitted); resolves when the peer is up, rejects with {@link PeerError}. */
  connect(address: string): Promise<PeerInfoLike>;
  /** Every peer with its state (current connections first, then recent failures). */
  list(): PeerInfoLike[];
}

/** What the runtime reports about regions, for the log. */
export interface RegionEvents {
  /** Logs `region created: NAME (size, page_size, local_pages, slab_size)`. */
  regionCreated(fields: RegionCreatedFields): void;
  /** Logs `region closed: NAME` with the final counters. */
  regionClosed(name: string, counters: Record<string, number>): void;
}

/** Everything a {@link RegionServiceFactory} may use. */
export interface DaemonContext {
  readonly config: NodeConfig;
  /** The node's fabric (connected peers, donor); do not call `onPeerEvent` on it: use `subscribePeerEvents`. */
  readonly fabric: Fabric;
  /** Peer up / lost events (the daemon owns the fabric's single listener and fans events out). Returns an unsubscribe function. */
  subscribePeerEvents(listener: (event: PeerEvent) => void): () => void;
  readonly events: RegionEvents;
  /** A child logger (`component: "regions"`). */
  readonly logger: Logger;
}

/** Builds the node's RegionService once the fabric listens (before the API starts). */
export type RegionServiceFactory = (context: DaemonContext) => RegionService | Promise<RegionService>;
