import { MIN_SECRET_BYTES } from '../auth/handshake.js';
import { DonorService, type DonorOptions } from '../donor/donor.js';
import { KrdmaError } from '../errors.js';
import type {
  AllocDone,
  ConnectDone,
  Fabric,
  FabricStatus,
  PeerAddress,
  PeerEvent,
  PeerId,
  PeerInfo,
  PeerState,
  PingDone,
  ReadOp,
  RemoteSlab,
  RpcDone,
  RpcHandler,
  StatsDone,
  StatusDone,
  WriteOp,
} from '../fabric.js';
import { nodeIdentity, type NodeIdentity } from '../identity.js';
import { resolveWireLimits, type WireLimits } from '../wire/limits.js';
import type { ReceiveBudget } from '../wire/receive-budget.js';
import { NONCE_BYTES, type WireMessage } from '../wire/messages.js';
import { DEFAULT_SESSION_TIMEOUTS, type Clock, type NonceSource, type Scheduler, type SessionTimeouts } from './ports.js';
import { Session, type SessionConfig, type SessionEnd } from './session.js';

/** Options shared by every Fabric built on sessions (loopback now; TCP and verbs next). */
export interface SessionFabricOptions {
  /** This node's name (the hash is derived from it). */
  readonly nodeName: string;
  /** The shared cluster secret (at least 16 bytes). */
  readonly secret: Uint8Array;
  /** Delivers completions asynchronously, in FIFO order. */
  readonly scheduler: Scheduler;
  /** The time source for deadlines. */
  readonly clock: Clock;
  /** Fresh random bytes for handshake nonces. */
  readonly nonceSource: NonceSource;
  /** The donor this node runs (null or omitted: it donates nothing). */
  readonly donor?: DonorOptions | null;
  readonly limits?: Partial<WireLimits>;
  readonly timeouts?: Partial<SessionTimeouts>;
  /** Most outstanding requests per peer (default 256); beyond it requests complete `busy`. */
  readonly maxInFlight?: number;
  /** Most RPCs served at once per peer (default 64). */
  readonly maxServing?: number;
  /** How many ended peer entries `peers()` keeps listing (default 32). */
  readonly peerHistory?: number;
  /** Shared bound on bytes the decoders of this node's connections hold for partial frames (default: none). */
  readonly receiveBudget?: ReceiveBudget | null;
}

interface PeerRecord {
  readonly session: Session;
  readonly direction: 'outbound' | 'inbound';
  readonly address: PeerAddress | null;
  state: PeerState;
  reason: string | null;
  waiter: ConnectDone | null;
}

/**
 * A {@link Fabric} over {@link Session}s: the peer table, RPC handler registry, the donor, and
 * the rules for duplicate connections. A transport subclass moves bytes: it implements `dial`
 * and feeds sessions it opens with `openSession`.
 *
 * Duplicate connections between two nodes (both dialled at once, or a peer that restarted):
 * when a second session to the same peer comes up, a session of the same direction replaces the
 * older one (the peer restarted); of opposite directions, both nodes keep the one dialled by the
 * node with the smaller hash. A different name with the same hash is refused.
 */
export abstract class SessionFabric implements Fabric {
  readonly identity: NodeIdentity;
  /** This node's donor, or null. */
  readonly donor: DonorService | null;
  protected readonly sessionConfig: SessionConfig;
  protected readonly scheduler: Scheduler;
  private readonly nonceSource: NonceSource;
  private readonly handlers = new Map<number, RpcHandler>();
  private readonly records = new Map<Session, PeerRecord>();
  private readonly byPeer = new Map<PeerId, Session>();
  private readonly history: PeerInfo[] = [];
  private readonly historyBound: number;
  private listener: ((event: PeerEvent) => void) | null = null;
  private stopped: string | null = null;

  constructor(options: SessionFabricOptions) {
    this.identity = nodeIdentity(options.nodeName);
    this.donor = options.donor ? new DonorService(options.donor) : null;
    this.scheduler = options.scheduler;
    this.nonceSource = options.nonceSource;
    this.historyBound = options.peerHistory ?? 32;
    const maxInFlight = options.maxInFlight ?? 256;
    const maxServing = options.maxServing ?? 64;
    if (!(maxInFlight >= 1 && maxServing >= 1)) throw new KrdmaError('invalid-options', 'maxInFlight and maxServing must be at least 1');
    this.sessionConfig = {
      identity: this.identity,
      secret: options.secret,
      limits: resolveWireLimits(options.limits),
      donor: this.donor,
      handlers: this.handlers,
      scheduler: options.scheduler,
      clock: options.clock,
      timeouts: { ...DEFAULT_SESSION_TIMEOUTS, ...options.timeouts },
      maxInFlight,
      maxServing,
      receiveBudget: options.receiveBudget ?? null,
    };
    if (options.secret.length < MIN_SECRET_BYTES) {
      throw new KrdmaError('secret-too-short', `the cluster secret is ${options.secret.length} bytes; use at least ${MIN_SECRET_BYTES} random bytes`);
    }
  }

  /** Transport-specific dialling: reach `address`, then `openSession('client', ...)` and `start()` it; or `failConnect`. */
  protected abstract dial(address: PeerAddress, done: ConnectDone): void;

  connect(address: PeerAddress, done: ConnectDone): void {
    if (this.stopped !== null) return this.failConnect(address, 'peer-lost', this.stopped, done);
    for (const record of this.records.values()) {
      const sameAddress = record.address !== null && record.address.host === address.host && record.address.port === address.port;
      if (sameAddress && record.direction === 'outbound' && record.state === 'up') {
        const info = this.info(record);
        this.scheduler.defer(() => done('ok', info, null));
        return;
      }
    }
    this.dial(address, done);
  }

  disconnect(peer: PeerId): void {
    this.byPeer.get(peer)?.close('disconnected locally');
  }

  peers(): PeerInfo[] {
    return [...[...this.records.values()].map((record) => this.info(record)), ...this.history];
  }

  onPeerEvent(listener: ((event: PeerEvent) => void) | null): void {
    this.listener = listener;
  }

  registerHandler(method: number, handler: RpcHandler): void {
    if (!Number.isInteger(method) || method < 0 || method > 0xffffffff) throw new KrdmaError('invalid-method', `RPC method must be a u32, got ${method}`);
    this.handlers.set(method, handler);
  }

  unregisterHandler(method: number): void {
    this.handlers.delete(method);
  }

  rpc(peer: PeerId, method: number, payload: Uint8Array, done: RpcDone): void {
    const session = this.sessionOf(peer, (s, r) => done(s, null, r));
    session?.rpc(method, payload, done);
  }

  allocSlab(peer: PeerId, sizeBytes: number, done: AllocDone): void {
    this.sessionOf(peer, (s, r) => done(s, null, r))?.allocSlab(sizeBytes, done);
  }

  freeSlab(peer: PeerId, slab: RemoteSlab, done: StatusDone): void {
    if (slab.peer !== peer) return this.wrongPeer(peer, slab, done);
    this.sessionOf(peer, done)?.freeSlab(slab, done);
  }

  read(peer: PeerId, slab: RemoteSlab, offsetBytes: number, into: Uint8Array, done: StatusDone): void {
    if (slab.peer !== peer) return this.wrongPeer(peer, slab, done);
    this.sessionOf(peer, done)?.read(slab, offsetBytes, into, done);
  }

  write(peer: PeerId, slab: RemoteSlab, offsetBytes: number, data: Uint8Array, done: StatusDone): void {
    if (slab.peer !== peer) return this.wrongPeer(peer, slab, done);
    this.sessionOf(peer, done)?.write(slab, offsetBytes, data, done);
  }

  readv(peer: PeerId, ops: readonly ReadOp[], done: StatusDone): void {
    if (this.checkSlabs(peer, ops.map((op) => op.slab), done)) this.sessionOf(peer, done)?.readv(ops, done);
  }

  writev(peer: PeerId, ops: readonly WriteOp[], done: StatusDone): void {
    if (this.checkSlabs(peer, ops.map((op) => op.slab), done)) this.sessionOf(peer, done)?.writev(ops, done);
  }

  stats(peer: PeerId, done: StatsDone): void {
    this.sessionOf(peer, (s, r) => done(s, null, r))?.stats(done);
  }

  ping(peer: PeerId, done: PingDone): void {
    this.sessionOf(peer, (s, r) => done(s, null, r))?.ping(done);
  }

  /** Expires deadlines and sends heartbeats on every session; the runtime calls it periodically. */
  tick(): void {
    for (const session of [...this.records.keys()]) session.tick();
  }

  /** Closes every connection; later requests complete `peer-lost` with `reason`. */
  stop(reason = 'the node stopped'): void {
    this.stopped = reason;
    for (const session of [...this.records.keys()]) session.close(reason);
  }

  /** True after `stop`. */
  get isStopped(): boolean {
    return this.stopped !== null;
  }

  // ---- for transports -------------------------------------------------------------------------

  /**
   * Opens a session on a new connection. `send` writes bytes to the peer; `closeTransport` closes
   * the connection (called once, when the session ends). For outbound sessions pass the connect
   * completion as `waiter`. `sendMessage`, when given, replaces `send` (the transport encodes
   * frames itself, see {@link SessionHooks.sendMessage}).
   */
  protected openSession(
    role: 'client' | 'server',
    address: PeerAddress | null,
    send: (frame: Uint8Array) => void,
    closeTransport: (end: SessionEnd) => void,
    waiter: ConnectDone | null,
    refuseReason: string | null = null,
    sendMessage?: (requestId: number, message: WireMessage) => void,
  ): Session {
    const nonce = new Uint8Array(NONCE_BYTES);
    this.nonceSource(nonce);
    const session = new Session(role, this.sessionConfig, nonce, {
      send,
      ...(sendMessage !== undefined ? { sendMessage } : {}),
      up: (s) => this.onUp(s),
      ended: (s, end) => {
        closeTransport(end);
        this.onEnded(s, end);
      },
    }, refuseReason);
    this.records.set(session, {
      session,
      direction: role === 'client' ? 'outbound' : 'inbound',
      address,
      state: role === 'client' ? 'connecting' : 'authenticating',
      reason: null,
      waiter,
    });
    return session;
  }

  /** Completes a connect that could not reach the address, and lists the failure. */
  protected failConnect(address: PeerAddress, status: FabricStatus, reason: string, done: ConnectDone): void {
    const info: PeerInfo = { id: null, nodeName: null, address, direction: 'outbound', state: status === 'rejected' ? 'refused' : 'lost', reason };
    this.remember(info);
    this.scheduler.defer(() => done(status, info, reason));
  }

  // ---- internals ------------------------------------------------------------------------------

  private info(record: PeerRecord): PeerInfo {
    return {
      id: record.session.peerId,
      nodeName: record.session.peerName,
      address: record.address,
      direction: record.direction,
      state: record.state,
      reason: record.reason,
    };
  }

  private remember(info: PeerInfo): void {
    this.history.unshift(info);
    if (this.history.length > this.historyBound) this.history.length = this.historyBound;
  }

  private emit(kind: PeerEvent['kind'], record: PeerRecord): void {
    const listener = this.listener;
    if (listener === null) return;
    const event: PeerEvent = { kind, peer: this.info(record), reason: record.reason };
    this.scheduler.defer(() => listener(event));
  }

  private onUp(session: Session): void {
    const record = this.records.get(session);
    const id = session.peerId;
    const name = session.peerName;
    if (record === undefined || id === null || name === null) return;
    if (id === this.identity.nodeHash) {
      session.refuse(name === this.identity.nodeName ? 'a node cannot connect to itself' : `peer "${name}" has the same hash as this node; rename one of them`);
      return;
    }
    const existing = this.byPeer.get(id);
    if (existing !== undefined && existing !== session) {
      if (existing.peerName !== name) {
        session.refuse(`peer "${name}" has the same hash as connected peer "${existing.peerName}"; rename one of them`);
        return;
      }
      const keepNew = existing.role === session.role || (session.role === 'client') === this.identity.nodeHash < id;
      if (!keepNew) {
        session.close('duplicate connection; the other connection to this peer is kept');
        return;
      }
      this.byPeer.set(id, session);
      existing.close('replaced by a newer connection to the same peer');
    }
    this.byPeer.set(id, session);
    record.state = 'up';
    const waiter = record.waiter;
    record.waiter = null;
    if (waiter !== null) {
      const info = this.info(record);
      this.scheduler.defer(() => waiter('ok', info, null));
    }
    this.emit('up', record);
  }

  private onEnded(session: Session, end: SessionEnd): void {
    const record = this.records.get(session);
    if (record === undefined) return;
    this.records.delete(session);
    const wasUp = record.state === 'up';
    record.state = end.state;
    record.reason = end.reason;
    const id = session.peerId;
    const name = session.peerName;
    const owned = id !== null && this.byPeer.get(id) === session;
    if (owned && id !== null) this.byPeer.delete(id);
    const waiter = record.waiter;
    record.waiter = null;
    if (waiter !== null) {
      // A connection dropped as a duplicate still connected us: answer with the kept one.
      const kept = id !== null ? this.byPeer.get(id) : undefined;
      const keptRecord = kept !== undefined ? this.records.get(kept) : undefined;
      const answer = keptRecord !== undefined && keptRecord.state === 'up' ? this.info(keptRecord) : this.info(record);
      const status = keptRecord !== undefined && keptRecord.state === 'up' ? 'ok' : end.status;
      const reason = status === 'ok' ? null : end.reason;
      this.scheduler.defer(() => waiter(status, answer, reason));
    }
    if (owned || !wasUp) {
      this.remember(this.info(record));
      this.emit(end.state === 'refused' ? 'refused' : end.state === 'closed' ? 'closed' : 'lost', record);
    }
    if (owned && name !== null && this.donor !== null) this.donor.peerGone(name);
  }

  private sessionOf(peer: PeerId, fail: (status: FabricStatus, reason: string) => void): Session | null {
    const session = this.byPeer.get(peer);
    if (session !== undefined && session.isUp) return session;
    const reason = this.stopped ?? `not connected to peer ${peer}`;
    this.scheduler.defer(() => fail('peer-lost', reason));
    return null;
  }

  private wrongPeer(peer: PeerId, slab: RemoteSlab, fail: StatusDone): void {
    this.scheduler.defer(() => fail('rejected', `slab ${slab.slabId} lives on peer ${slab.peer}, not on peer ${peer}`));
  }

  private checkSlabs(peer: PeerId, slabs: readonly RemoteSlab[], fail: StatusDone): boolean {
    for (const slab of slabs) {
      if (slab.peer !== peer) {
        this.scheduler.defer(() => fail('rejected', `slab ${slab.slabId} lives on peer ${slab.peer}, not on peer ${peer}`));
        return false;
      }
    }
    return true;
  }
}
