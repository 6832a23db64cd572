import type { NodeIdentity } from './identity.js';

/**
 * Status of a completion. `ok`: done. `timeout`: no answer within the request timeout (the
 * request may or may not have taken effect). `peer-lost`: the connection to the peer is gone.
 * `rejected`: the peer (or this node) refused the request: bad range, not the owner, auth
 * refused, unknown method. `no-space`: the donor has no capacity left. `busy`: too much work in
 * flight; retry after some completions. `error`: anything else (protocol fault, internal).
 */
export type FabricStatus = 'ok' | 'timeout' | 'peer-lost' | 'rejected' | 'no-space' | 'busy' | 'error';

/** A peer is named by the 32-bit hash of its node name (see `nodeHash`). */
export type PeerId = number;

/** Where to reach a node: host (a host name or IP; the node name on loopback) and port (default 7472). */
export interface PeerAddress {
  readonly host: string;
  readonly port: number;
}

/** Life cycle of a peer connection. */
export type PeerState = 'connecting' | 'authenticating' | 'up' | 'lost' | 'refused' | 'closed';

/** One entry of the peer list. */
export interface PeerInfo {
  /** The peer's id (hash of its name), or null until it authenticated. */
  readonly id: PeerId | null;
  /** The peer's node name, or null until it authenticated. */
  readonly nodeName: string | null;
  /** The address dialled (outbound) or the peer's address (inbound), when known. */
  readonly address: PeerAddress | null;
  readonly direction: 'outbound' | 'inbound';
  readonly state: PeerState;
  /** Why the peer is lost, refused or closed (for the log), else null. */
  readonly reason: string | null;
}

/** A peer went up, was lost, was refused or was closed. */
export interface PeerEvent {
  readonly kind: 'up' | 'lost' | 'refused' | 'closed';
  readonly peer: PeerInfo;
  readonly reason: string | null;
}

/**
 * A slab of memory lent by a donor. `rkey` and `remoteAddress` are for one-sided verbs (zero on
 * transports that do not use them).
 */
export interface RemoteSlab {
  readonly peer: PeerId;
  readonly slabId: number;
  readonly sizeBytes: number;
  readonly rkey: number;
  readonly remoteAddress: number;
}

/** A donor's usage as reported by `stats`. */
export interface RemoteStats {
  readonly capacityBytes: number;
  readonly usedBytes: number;
  readonly slabCount: number;
  /** Bytes lent to the asking node. */
  readonly peerUsedBytes: number;
}

/** One page of a vectored read: fill `into` from `offsetBytes` of `slab`. */
export interface ReadOp {
  readonly slab: RemoteSlab;
  readonly offsetBytes: number;
  readonly into: Uint8Array;
}

/** One page of a vectored write: `data` to `offsetBytes` of `slab`. */
export interface WriteOp {
  readonly slab: RemoteSlab;
  readonly offsetBytes: number;
  readonly data: Uint8Array;
}

/** Completion of a request with no result. `reason` explains a non-ok status (for the log), else null. */
export type StatusDone = (status: FabricStatus, reason: string | null) => void;
/** Completion of `connect`: the peer entry (up, refused or lost). */
export type ConnectDone = (status: FabricStatus, peer: PeerInfo, reason: string | null) => void;
/** Completion of `allocSlab`. */
export type AllocDone = (status: FabricStatus, slab: RemoteSlab | null, reason: string | null) => void;
/** Completion of `rpc`: the reply payload when ok. */
export type RpcDone = (status: FabricStatus, reply: Uint8Array | null, reason: string | null) => void;
/** Completion of `stats`. */
export type StatsDone = (status: FabricStatus, stats: RemoteStats | null, reason: string | null) => void;
/** Completion of `ping`: the round trip in ns by the node's clock when ok. */
export type PingDone = (status: FabricStatus, rttNs: number | null, reason: string | null) => void;

/** Answers an RPC once: `ok` with a reply payload, or a failure status (the payload is then ignored). */
export type RpcRespond = (status: FabricStatus, reply?: Uint8Array) => void;

/**
 * Serves one RPC method. `payload` is a private copy. Call `respond` exactly once, now or later;
 * a throw is answered as `error`.
 */
export type RpcHandler = (peer: PeerId, payload: Uint8Array, respond: RpcRespond) => void;

/**
 * The Fabric port: node-to-node RPC and one-sided access to remote slabs, in the verbs style
 * (post work, get a completion with a status). Completions are callbacks, always called
 * asynchronously (never from inside the posting call), exactly once, with a status; every
 * request has a timeout. Implemented by the loopback transport (here), TCP and verbs (next),
 * and the simulator's NIC (libs/sim).
 */
export interface Fabric {
  /** This node's name and hash. */
  readonly identity: NodeIdentity;
  /** Dials a node and authenticates; completes `ok` when the peer is up (or with the existing entry when already up). */
  connect(address: PeerAddress, done: ConnectDone): void;
  /** Closes the connection to a peer; its outstanding requests complete `peer-lost`. */
  disconnect(peer: PeerId): void;
  /** The peer list with states (up peers, and recent failures). */
  peers(): PeerInfo[];
  /** Sets the one listener of peer events (apps log them; libraries do not). */
  onPeerEvent(listener: ((event: PeerEvent) => void) | null): void;
  /** Registers the handler of an RPC method (a u32), replacing any previous one. */
  registerHandler(method: number, handler: RpcHandler): void;
  /** Removes the handler of an RPC method. */
  unregisterHandler(method: number): void;
  /** Calls `method` on `peer` with `payload`. */
  rpc(peer: PeerId, method: number, payload: Uint8Array, done: RpcDone): void;
  /** Asks `peer`'s donor for a slab of `sizeBytes`. */
  allocSlab(peer: PeerId, sizeBytes: number, done: AllocDone): void;
  /** Returns a slab to its donor. */
  freeSlab(peer: PeerId, slab: RemoteSlab, done: StatusDone): void;
  /** One-sided read of `into.length` bytes at `offsetBytes` of a remote slab into `into`. */
  read(peer: PeerId, slab: RemoteSlab, offsetBytes: number, into: Uint8Array, done: StatusDone): void;
  /**
   * One-sided write of `data` at `offsetBytes` of a remote slab. Keep `data` unchanged until the
   * completion: like RDMA verbs, a transport may send it straight from the caller's buffer (TCP does).
   */
  write(peer: PeerId, slab: RemoteSlab, offsetBytes: number, data: Uint8Array, done: StatusDone): void;
  /** Vectored read: one request for a batch of pages on slabs of one peer; all or nothing. */
  readv(peer: PeerId, ops: readonly ReadOp[], done: StatusDone): void;
  /** Vectored write: one request for a batch of pages on slabs of one peer; all or nothing. Keep the data unchanged until the completion. */
  writev(peer: PeerId, ops: readonly WriteOp[], done: StatusDone): void;
  /** The peer donor's usage. */
  stats(peer: PeerId, done: StatsDone): void;
  /** A round trip to the peer. */
  ping(peer: PeerId, done: PingDone): void;
}
