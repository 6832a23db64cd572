// SimFabric: krdma's Fabric port implemented over the NIC model, one per simulated node. A
// connection is a pair of nodes; requests become NIC operations (one-sided READ / WRITE for the
// data path, RPCs served by the remote CPU for alloc, free, stats, ping, the handshake and
// registered methods), and their effects (the donor's slab table, RPC handlers) happen when the
// request is served at the remote host. Completions are engine events: never inside the posting
// call, exactly once. Node failures and the failure detector live in SimNetwork (sim-network.ts).

import type {
  AllocDone,
  ConnectDone,
  Fabric,
  FabricStatus,
  NodeIdentity,
  PeerAddress,
  PeerEvent,
  PeerId,
  PeerInfo,
  PeerState,
  PingDone,
  ReadOp,
  RemoteSlab,
  RemoteStats,
  RpcDone,
  RpcHandler,
  RpcRespond,
  StatsDone,
  StatusDone,
  WriteOp,
} from '@rackmem/krdma';
import { SimError } from '../errors.js';
import type { SimMemoryNode, SimVectorEntry } from './memory-node.js';
import { OpClass, OpKind, type NicModel, type NicOp, type NicStatus, type OpCompletion, type RemoteEffect } from './nic-model.js';

/** Default listening port of a simulated node (krdma's). */
export const SIM_DEFAULT_PORT = 7472;

const M_READ = 1;
const M_WRITE = 2;
const M_READV = 3;
const M_WRITEV = 4;
const M_ALLOC = 5;
const M_FREE = 6;
const M_STATS = 7;
const M_PING = 8;
const M_RPC = 9;
const M_HELLO = 10;
const M_PROOF = 11;

const utf8 = new TextEncoder();

/** krdma's node hash: FNV-1a (32-bit) over the UTF-8 bytes of the name (computed here: importing krdma's values would load its transports). */
export function simNodeHash(nodeName: string): number {
  const bytes = utf8.encode(nodeName);
  let hash = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    hash ^= bytes[i];
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** What a SimFabric needs from its network (implemented by SimNetwork). */
export interface SimNetworkPort {
  readonly nic: NicModel;
  readonly storageScale: number;
  readonly maxInFlightPerPeer: number;
  /** The node listening at an address, if any. */
  listener(address: PeerAddress): SimFabric | undefined;
  /** The node at a NIC host index. */
  fabricOfHost(host: number): SimFabric;
  /** Runs `thunk` as an engine event at `atNs` (>= now). */
  defer(atNs: number, thunk: () => void): void;
  /** A connection ended (lost, closed or its handshake failed): re-dial bookkeeping. */
  connectionEnded(conn: SimConnection, handshakeFailed: boolean): void;
  now(): number;
}

/** A connection between two simulated nodes (shared by both ends). */
export class SimConnection {
  state: PeerState = 'connecting';
  reason: string | null = null;
  inFlight = 0;
  /** Re-dialled by the network after a node failure. */
  redial = false;
  readonly waiters: ConnectDone[] = [];
  constructor(readonly client: SimFabric, readonly server: SimFabric) {}

  /** The other end. */
  other(end: SimFabric): SimFabric {
    return end === this.client ? this.server : this.client;
  }
}

/** Options of one simulated node. */
export interface SimNodeOptions {
  readonly nodeName: string;
  /** Listening port (default 7472); the node is reached at { host: nodeName, port }. */
  readonly port?: number;
}

/** Counters of one SimFabric. */
export interface SimFabricCounters {
  /** Requests failed locally without touching the NIC (peer not up, busy, wrong peer). */
  failedLocally: number;
}

/**
 * krdma's {@link Fabric} port for one simulated node (compute or memory node), over the
 * simulator's NIC model. Byte counts in the API are stored bytes; the NIC is charged for
 * `length x storageScale` real bytes. Simulator-only extension: {@link setPostContext} tells it
 * the queue class (demand or prefetch) and the pager's CPU time of the next posts.
 */
export class SimFabric implements Fabric, RemoteEffect, OpCompletion {
  readonly identity: NodeIdentity;
  readonly port: number;
  /** NIC host index. */
  readonly host: number;
  /** The node's donor (a memory node), or null. */
  readonly donor: SimMemoryNode | null;
  readonly counters: SimFabricCounters = { failedLocally: 0 };
  /** Crashed (set by SimNetwork). */
  down = false;
  /** Cut off from the network (set by SimNetwork). */
  cutOff = false;
  /** Declared lost by the failure detector since it crashed or was cut off (set by SimNetwork). */
  declaredLost = false;
  /** Failures so far (crash or cut-off), for stale detector events (set by SimNetwork). */
  failures = 0;
  /** Connections by peer id (both directions). */
  readonly conns = new Map<PeerId, SimConnection>();
  private readonly network: SimNetworkPort;
  private readonly nic: NicModel;
  private readonly scale: number;
  private readonly handlers = new Map<number, RpcHandler>();
  private readonly history: PeerInfo[] = [];
  private listener: ((event: PeerEvent) => void) | null = null;
  private opClass: number = OpClass.Demand;
  private issueAtNs = 0;

  constructor(network: SimNetworkPort, options: SimNodeOptions, host: number, donor: SimMemoryNode | null) {
    this.network = network;
    this.nic = network.nic;
    this.scale = network.storageScale;
    this.identity = { nodeName: options.nodeName, nodeHash: simNodeHash(options.nodeName) };
    this.port = options.port ?? SIM_DEFAULT_PORT;
    this.host = host;
    this.donor = donor;
  }

  /**
   * Simulator-only: the queue class of the next READs (`OpClass.Demand` or `OpClass.Prefetch`:
   * prefetches wait behind demand reads at the queue pair) and the time the pager's CPU posts
   * them (>= now). Set it around the storage calls; `clearPostContext` restores the defaults.
   */
  setPostContext(opClass: number, issueAtNs: number): void {
    this.opClass = opClass;
    this.issueAtNs = issueAtNs;
  }

  /** Back to demand class, posted at the current time. */
  clearPostContext(): void {
    this.opClass = OpClass.Demand;
    this.issueAtNs = 0;
  }

  // ------------------------------------------------------------------ peers

  connect(address: PeerAddress, done: ConnectDone): void {
    if (this.down) return this.failConnect(address, 'peer-lost', `node ${this.identity.nodeName} is down`, done);
    const target = this.network.listener(address);
    if (target === undefined) return this.failConnect(address, 'peer-lost', `no node listens at ${address.host}:${address.port}`, done);
    if (target === this) return this.failConnect(address, 'rejected', 'a node cannot connect to itself', done);
    const existing = this.conns.get(target.identity.nodeHash);
    if (existing !== undefined && existing.client === this) {
      if (existing.state === 'up') {
        const info = this.info(existing);
        this.later(() => done('ok', info, null));
        return;
      }
      if (existing.state === 'connecting') {
        existing.waiters.push(done);
        return;
      }
    }
    this.dial(target, done, false);
  }

  /** @internal Dials `target` (the handshake: two RPC round trips); `redial` marks a reconnect after a failure. */
  dial(target: SimFabric, done: ConnectDone | null, redial: boolean): void {
    const conn = new SimConnection(this, target);
    conn.redial = redial;
    if (done !== null) conn.waiters.push(done);
    const old = this.conns.get(target.identity.nodeHash);
    if (old !== undefined) this.forget(old);
    this.conns.set(target.identity.nodeHash, conn);
    this.handshake(conn, M_HELLO);
  }

  disconnect(peer: PeerId): void {
    const conn = this.conns.get(peer);
    if (conn === undefined) return;
    this.endConnection(conn, 'closed', 'disconnected locally', `closed by ${this.identity.nodeName}`);
  }

  peers(): PeerInfo[] {
    return [...[...this.conns.values()].map((conn) => this.info(conn)), ...this.history];
  }

  onPeerEvent(listener: ((event: PeerEvent) => void) | null): void {
    this.listener = listener;
  }

  registerHandler(method: number, handler: RpcHandler): void {
    if (!Number.isInteger(method) || method < 0 || method > 0xffffffff) throw new SimError('invalid-argument', `RPC method must be a u32, got ${method}`);
    this.handlers.set(method, handler);
  }

  unregisterHandler(method: number): void {
    this.handlers.delete(method);
  }

  // ------------------------------------------------------------------ requests

  rpc(peer: PeerId, method: number, payload: Uint8Array, done: RpcDone): void {
    const conn = this.upConnection(peer);
    if (conn === null) return this.failLater((s, r) => done(s, null, r));
    const op = this.newOp(conn, OpKind.Rpc, M_RPC);
    op.arg = method;
    op.bytes = this.nic.params.rpcBytes + payload.length;
    op.aux = payload.slice();
    op.ctx = done;
    this.post(op);
  }

  allocSlab(peer: PeerId, sizeBytes: number, done: AllocDone): void {
    const conn = this.upConnection(peer);
    if (conn === null) return this.failLater((s, r) => done(s, null, r));
    const op = this.newOp(conn, OpKind.Rpc, M_ALLOC);
    op.arg = sizeBytes;
    op.ctx = done;
    this.post(op);
  }

  freeSlab(peer: PeerId, slab: RemoteSlab, done: StatusDone): void {
    if (slab.peer !== peer) return this.wrongPeer(peer, slab, done);
    const conn = this.upConnection(peer);
    if (conn === null) return this.failLater(done);
    const op = this.newOp(conn, OpKind.Rpc, M_FREE);
    op.slab = slab.slabId;
    op.ctx = done;
    this.post(op);
  }

  read(peer: PeerId, slab: RemoteSlab, offsetBytes: number, into: Uint8Array, done: StatusDone): void {
    if (slab.peer !== peer) return this.wrongPeer(peer, slab, done);
    const conn = this.upConnection(peer);
    if (conn === null) return this.failLater(done);
    const op = this.newOp(conn, OpKind.Read, M_READ);
    op.bytes = into.length * this.scale;
    op.slab = slab.slabId;
    op.offsetBytes = offsetBytes;
    op.buffer = into;
    op.ctx = done;
    this.post(op);
  }

  write(peer: PeerId, slab: RemoteSlab, offsetBytes: number, data: Uint8Array, done: StatusDone): void {
    if (slab.peer !== peer) return this.wrongPeer(peer, slab, done);
    const conn = this.upConnection(peer);
    if (conn === null) return this.failLater(done);
    const op = this.newOp(conn, OpKind.Write, M_WRITE);
    op.bytes = data.length * this.scale;
    op.slab = slab.slabId;
    op.offsetBytes = offsetBytes;
    op.buffer = data;
    op.ctx = done;
    this.post(op);
  }

  readv(peer: PeerId, ops: readonly ReadOp[], done: StatusDone): void {
    for (const o of ops) if (o.slab.peer !== peer) return this.wrongPeer(peer, o.slab, done);
    const conn = this.upConnection(peer);
    if (conn === null) return this.failLater(done);
    const op = this.newOp(conn, OpKind.Read, M_READV);
    let bytes = 0;
    const entries: SimVectorEntry[] = ops.map((o) => {
      bytes += o.into.length;
      return { slabId: o.slab.slabId, offsetBytes: o.offsetBytes, bytes: o.into };
    });
    op.bytes = bytes * this.scale;
    op.aux = entries;
    op.ctx = done;
    this.post(op);
  }

  writev(peer: PeerId, ops: readonly WriteOp[], done: StatusDone): void {
    for (const o of ops) if (o.slab.peer !== peer) return this.wrongPeer(peer, o.slab, done);
    const conn = this.upConnection(peer);
    if (conn === null) return this.failLater(done);
    const op = this.newOp(conn, OpKind.Write, M_WRITEV);
    let bytes = 0;
    const entries: SimVectorEntry[] = ops.map((o) => {
      bytes += o.data.length;
      return { slabId: o.slab.slabId, offsetBytes: o.offsetBytes, bytes: o.data };
    });
    op.bytes = bytes * this.scale;
    op.aux = entries;
    op.ctx = done;
    this.post(op);
  }

  stats(peer: PeerId, done: StatsDone): void {
    const conn = this.upConnection(peer);
    if (conn === null) return this.failLater((s, r) => done(s, null, r));
    const op = this.newOp(conn, OpKind.Rpc, M_STATS);
    op.ctx = done;
    this.post(op);
  }

  ping(peer: PeerId, done: PingDone): void {
    const conn = this.upConnection(peer);
    if (conn === null) return this.failLater((s, r) => done(s, null, r));
    const op = this.newOp(conn, OpKind.Rpc, M_PING);
    op.ctx = done;
    this.post(op);
  }

  // ------------------------------------------------------------------ the serving side

  /** @internal The request is served at this node (the NIC model's ARRIVE stage). */
  apply(op: NicOp): NicStatus | 'pending' {
    const conn = op.link as SimConnection;
    const method = op.method;
    if (method === M_HELLO || method === M_PROOF) return 'ok';
    if (conn.state !== 'up') return this.refuse(op, 'peer-lost', `the connection was ${conn.state} before the request was served`);
    const owner = conn.client.identity.nodeName;
    if (method === M_PING) return 'ok';
    if (method === M_RPC) return this.serveRpc(op, conn);
    const donor = this.donor;
    if (donor === null) return this.refuse(op, 'rejected', `node ${this.identity.nodeName} donates no memory`);
    let status: NicStatus;
    switch (method) {
      case M_READ:
        status = donor.read(owner, op.slab, op.offsetBytes, op.buffer as Uint8Array);
        break;
      case M_WRITE:
        status = donor.write(owner, op.slab, op.offsetBytes, op.buffer as Uint8Array);
        break;
      case M_READV:
        status = donor.readv(owner, op.aux as SimVectorEntry[]);
        break;
      case M_WRITEV:
        status = donor.writev(owner, op.aux as SimVectorEntry[]);
        break;
      case M_ALLOC: {
        const slab = donor.alloc(owner, op.arg);
        if (slab < 0) return this.refuse(op, donor.lastStatus, donor.lastReason);
        op.slab = slab;
        return 'ok';
      }
      case M_FREE:
        status = donor.free(owner, op.slab);
        break;
      case M_STATS:
        op.aux = donor.stats(owner);
        return 'ok';
      default:
        return this.refuse(op, 'error', `unknown request ${method}`);
    }
    return status === 'ok' ? 'ok' : this.refuse(op, status, donor.lastReason);
  }

  private serveRpc(op: NicOp, conn: SimConnection): NicStatus | 'pending' {
    const handler = this.handlers.get(op.arg);
    if (handler === undefined) return this.refuse(op, 'rejected', `node ${this.identity.nodeName} has no handler for RPC method ${op.arg}`);
    const payload = op.aux as Uint8Array;
    const serial = op.serial;
    const rpcBytes = this.nic.params.rpcBytes;
    let inCall = true;
    let answered = false;
    let status: NicStatus = 'ok';
    const respond: RpcRespond = (answer: FabricStatus, reply?: Uint8Array) => {
      if (answered) return;
      answered = true;
      status = answer;
      if (!inCall && (op.serial !== serial || !op.awaitingReply)) return; // the caller gave up
      const bytes = answer === 'ok' ? (reply ?? new Uint8Array(0)).slice() : null;
      op.aux = bytes ?? `the handler of RPC method ${op.arg} answered ${answer}`;
      op.replyBytes = rpcBytes + (bytes === null ? 0 : bytes.length);
      if (!inCall) this.nic.reply(op, serial, answer);
    };
    try {
      handler(conn.client.identity.nodeHash, payload, respond);
    } catch (error) {
      if (!answered) {
        answered = true;
        inCall = false;
        return this.refuse(op, 'error', `the handler of RPC method ${op.arg} threw: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    inCall = false;
    return answered ? status : 'pending';
  }

  private refuse(op: NicOp, status: NicStatus, reason: string): NicStatus {
    op.aux = reason;
    op.replyBytes = this.nic.params.rpcBytes;
    return status;
  }

  // ------------------------------------------------------------------ completions

  /** @internal The NIC model's COMPLETE stage at this (the issuing) node. */
  complete(op: NicOp, nicStatus: NicStatus): void {
    const conn = op.link as SimConnection;
    conn.inFlight--;
    const method = op.method;
    if (method === M_HELLO || method === M_PROOF) {
      this.handshakeStep(conn, method, nicStatus, nicStatus === 'ok' ? null : this.reasonOf(op, nicStatus, conn));
      return;
    }
    // Everything in flight when the connection ended completes 'peer-lost'.
    const status: FabricStatus = nicStatus === 'ok' && conn.state !== 'up' ? 'peer-lost' : nicStatus;
    const reason = status === 'ok' ? null : this.reasonOf(op, status, conn);
    const ok = status === 'ok';
    switch (method) {
      case M_ALLOC: {
        const slab: RemoteSlab | null = ok ? { peer: conn.server.identity.nodeHash, slabId: op.slab, sizeBytes: op.arg, rkey: 0, remoteAddress: 0 } : null;
        (op.ctx as AllocDone)(status, slab, reason);
        return;
      }
      case M_STATS:
        (op.ctx as StatsDone)(status, ok ? (op.aux as RemoteStats) : null, reason);
        return;
      case M_PING:
        (op.ctx as PingDone)(status, ok ? this.network.now() - op.issueNs : null, reason);
        return;
      case M_RPC:
        (op.ctx as RpcDone)(status, ok ? (op.aux as Uint8Array) : null, reason);
        return;
      default:
        (op.ctx as StatusDone)(status, reason);
    }
  }

  private reasonOf(op: NicOp, status: FabricStatus, conn: SimConnection): string {
    if (typeof op.aux === 'string') return op.aux;
    const peer = conn.other(this).identity.nodeName;
    if (conn.state !== 'up' && conn.state !== 'connecting') return `connection to ${peer} ${conn.state}${conn.reason !== null ? `: ${conn.reason}` : ''}`;
    const timeoutNs = this.nic.params.opTimeoutNs;
    if (status === 'peer-lost') return `${peer} crashed or restarted (no answer within ${timeoutNs} ns)`;
    if (status === 'timeout') return `no answer from ${peer} within ${timeoutNs} ns`;
    return `${peer} answered ${status}`;
  }

  // ------------------------------------------------------------------ connections

  private handshake(conn: SimConnection, step: number): void {
    const op = this.newOp(conn, OpKind.Rpc, step);
    this.post(op);
  }

  private handshakeStep(conn: SimConnection, step: number, status: NicStatus, reason: string | null): void {
    if (conn.state !== 'connecting') {
      // Ended while connecting (its node failed or it was replaced): tell the waiters.
      this.finishConnect(conn, 'peer-lost', conn.reason ?? 'the connection ended during the handshake');
      return;
    }
    if (status !== 'ok') {
      conn.state = status === 'rejected' ? 'refused' : 'lost';
      conn.reason = reason;
      this.forget(conn);
      this.emit(this, conn.state === 'refused' ? 'refused' : 'lost', conn);
      this.finishConnect(conn, status, reason);
      this.network.connectionEnded(conn, true);
      return;
    }
    if (step === M_HELLO) {
      this.handshake(conn, M_PROOF);
      return;
    }
    conn.state = 'up';
    const server = conn.server;
    const previous = server.conns.get(this.identity.nodeHash);
    if (previous !== undefined && previous !== conn) server.forget(previous);
    server.conns.set(this.identity.nodeHash, conn);
    this.emit(this, 'up', conn);
    this.emit(server, 'up', conn);
    this.finishConnect(conn, 'ok', null);
  }

  private finishConnect(conn: SimConnection, status: FabricStatus, reason: string | null): void {
    if (conn.waiters.length === 0) return;
    const info = this.info(conn);
    const waiters = conn.waiters.splice(0);
    for (const done of waiters) done(status, info, reason);
  }

  /**
   * @internal Ends a connection on both sides (`state` lost or closed), lists it in both
   * histories, emits the peer events on the sides that are alive, and lets the server's donor
   * free the client's slabs.
   */
  endConnection(conn: SimConnection, state: 'lost' | 'closed', reasonHere: string, reasonThere: string): void {
    if (conn.state !== 'up' && conn.state !== 'connecting') return;
    const wasUp = conn.state === 'up';
    conn.state = state;
    const there = conn.other(this);
    conn.reason = reasonHere;
    this.forget(conn);
    if (!this.down) this.emit(this, state, conn);
    if (wasUp) {
      conn.reason = reasonThere;
      there.forget(conn);
      if (!there.down) there.emit(there, state, conn);
      conn.reason = reasonHere;
      const server = conn.server;
      if (!server.down) server.donor?.releaseAll(conn.client.identity.nodeName);
    }
    this.network.connectionEnded(conn, false);
  }

  /** @internal Drops a connection from this node's table (if it is the one listed) and lists it in the history. */
  forget(conn: SimConnection): void {
    const peer = conn.other(this).identity.nodeHash;
    if (this.conns.get(peer) === conn) this.conns.delete(peer);
    else return;
    this.history.unshift(this.info(conn));
    if (this.history.length > 32) this.history.length = 32;
  }

  private emit(side: SimFabric, kind: PeerEvent['kind'], conn: SimConnection): void {
    const listener = side.listener;
    if (listener === null) return;
    const peer = side.info(conn);
    const event: PeerEvent = { kind, peer, reason: peer.reason };
    this.network.defer(this.network.now(), () => listener(event));
  }

  /** The peer entry of a connection as seen from this node. */
  info(conn: SimConnection): PeerInfo {
    const peer = conn.other(this);
    const outbound = conn.client === this;
    const known = conn.state !== 'connecting' || !outbound;
    return {
      id: known ? peer.identity.nodeHash : null,
      nodeName: known ? peer.identity.nodeName : null,
      address: { host: peer.identity.nodeName, port: peer.port },
      direction: outbound ? 'outbound' : 'inbound',
      state: conn.state,
      reason: conn.reason,
    };
  }

  // ------------------------------------------------------------------ helpers

  private failReason = '';
  private failStatus: FabricStatus = 'peer-lost';

  /** The up connection to a peer, or null with the failure in failStatus / failReason. */
  private upConnection(peer: PeerId): SimConnection | null {
    if (this.down) return this.noConnection('peer-lost', `node ${this.identity.nodeName} is down`);
    const conn = this.conns.get(peer);
    if (conn === undefined || conn.state !== 'up') return this.noConnection('peer-lost', `not connected to peer ${peer}`);
    if (conn.inFlight >= this.network.maxInFlightPerPeer) {
      return this.noConnection('busy', `${conn.inFlight} requests in flight to ${conn.other(this).identity.nodeName} (the bound); retry after some complete`);
    }
    return conn;
  }

  private noConnection(status: FabricStatus, reason: string): null {
    this.failStatus = status;
    this.failReason = reason;
    return null;
  }

  /** Completes a request that failed before reaching the NIC, as an event at the post time. */
  private failLater(done: (status: FabricStatus, reason: string) => void): void {
    const status = this.failStatus;
    const reason = this.failReason;
    this.counters.failedLocally++;
    this.later(() => done(status, reason));
  }

  private wrongPeer(peer: PeerId, slab: RemoteSlab, done: StatusDone): void {
    this.counters.failedLocally++;
    this.later(() => done('rejected', `slab ${slab.slabId} lives on peer ${slab.peer}, not on peer ${peer}`));
  }

  private failConnect(address: PeerAddress, status: FabricStatus, reason: string, done: ConnectDone): void {
    const info: PeerInfo = { id: null, nodeName: null, address, direction: 'outbound', state: status === 'rejected' ? 'refused' : 'lost', reason };
    this.history.unshift(info);
    if (this.history.length > 32) this.history.length = 32;
    this.later(() => done(status, info, reason));
  }

  private later(thunk: () => void): void {
    this.network.defer(this.postTimeNs(), thunk);
  }

  private postTimeNs(): number {
    const now = this.network.now();
    return this.issueAtNs > now ? this.issueAtNs : now;
  }

  private newOp(conn: SimConnection, kind: number, method: number): NicOp {
    const op = this.nic.take();
    const params = this.nic.params;
    op.kind = kind;
    op.method = method;
    op.cls = kind === OpKind.Read ? this.opClass : OpClass.Demand;
    op.src = this.host;
    op.dst = conn.other(this).host;
    op.bytes = params.rpcBytes;
    op.replyBytes = params.rpcBytes;
    op.effect = conn.other(this);
    op.completion = this;
    op.link = conn;
    conn.inFlight++;
    return op;
  }

  private post(op: NicOp): void {
    this.nic.issue(op, this.postTimeNs());
  }
}
