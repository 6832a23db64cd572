// The Fabric over RDMA verbs. The control plane is an inner TcpFabric (sessions, HMAC
// authentication, RPC, allocSlab/freeSlab/stats/ping, heartbeats, reconnect); the data plane
// (read/write/readv/writev) goes one-sided over an RC queue pair to each peer, against the
// donor's registered slab memory. See README.md ("The verbs fabric") for the design.
import { backoffDelayNs, checkBackoff, type BackoffPolicy } from '../../internal/backoff.js';
import { KrdmaError } from '../../internal/errors.js';
import type {
  AllocDone, ConnectDone, Fabric, PeerAddress, PeerEvent, PeerId, PeerInfo, PingDone, ReadOp, RemoteSlab, RpcDone, RpcHandler,
  StatsDone, StatusDone, WriteOp,
} from '../../internal/fabric.js';
import type { NodeIdentity } from '../../internal/identity.js';
import { DEFAULT_PORT } from '../../internal/identity.js';
import { DEFAULT_SESSION_TIMEOUTS } from '../../internal/session/ports.js';
import { resolveWireLimits } from '../../internal/wire/limits.js';
import type { DonorService } from '../../internal/donor/donor.js';
import { deferMicrotask, monotonicClock } from '../runtime.js';
import { TcpFabric, type TcpCounters, type TcpFabricOptions } from '../tcp/tcp-fabric.js';
import type { VerbsEndpoint } from './endpoint.js';
import { RdmaTransport, type RdmaTransportOptions } from './transport.js';
import { RegisteredSlabMemory, type SlabMemoryCounters } from './slab-memory.js';
import { VerbsLink, newLinkCounters, type VerbsLinkCounters } from './verbs-link.js';
import {
  VERBS_BIND_METHOD, VERBS_SIDE_CHANNEL_METHOD, decodeBindRequest, decodeSideChannelReply, encodeBindRequest, encodeSideChannelReply,
} from './verbs-rpc.js';

const MS_NS = 1_000_000;
const EMPTY = new Uint8Array(0);
/** Bind request with both QPNs 0 (QP 0 is never an RC queue pair): "my setup failed; use TCP until I bind one". */
const SETUP_FAILED_NOTICE = encodeBindRequest({ callerQpn: 0, calleeQpn: 0 });

/** Default backoff of queue-pair setup retries: 1 s doubling to 60 s, forever (jitter from Math.random). */
export const DEFAULT_QP_SETUP_RETRY: Omit<BackoffPolicy, 'random'> = Object.freeze({ initialDelayNs: 1000 * MS_NS, maxDelayNs: 60_000 * MS_NS, maxAttempts: 0 });

/**
 * The data plane to a peer: `connecting` (first queue-pair setup under way; requests wait),
 * `verbs` (RDMA over the queue pair), `tcp` (the peer has no verbs: data over TCP), `degraded`
 * (queue-pair setup failed and is retried with backoff; data over TCP meanwhile) and
 * `unavailable` (no queue pair and `tcpDataFallback` is off: data requests complete `rejected`;
 * setup is retried unless the peer has no verbs at all).
 */
export type VerbsDataPlane = 'connecting' | 'verbs' | 'tcp' | 'degraded' | 'unavailable';

/**
 * The data plane to a peer changed (emitted once per change, not per failed retry): for the
 * node's log. `reason` says why (the setup failure, or how many attempts it took).
 */
export interface DataPlaneEvent {
  readonly peer: PeerId;
  readonly nodeName: string | null;
  readonly plane: Exclude<VerbsDataPlane, 'connecting'>;
  readonly reason: string | null;
}

/** Options of a {@link VerbsFabric}: those of the inner {@link TcpFabric}, plus the verbs side. */
export interface VerbsFabricOptions extends TcpFabricOptions {
  /**
   * Opens the verbs transport (default `RdmaTransport.open`: the first device, or
   * `verbs.deviceName`). Tests run the fabric on the fake NIC with
   * `(o) => RdmaTransport.onDevice(nic.device(), o)`.
   */
  readonly openTransport?: (options: RdmaTransportOptions) => RdmaTransport;
  /** Device, port, GID index, queue sizes and setup timeout of the verbs transport. */
  readonly verbs?: Omit<RdmaTransportOptions, 'exposeBytes'>;
  /** Port of the verbs side channel (default 0: a free port; peers learn it by RPC). */
  readonly sideChannelPort?: number;
  /** Largest registered chunk of donor memory, also the largest slab (default 1 GiB). */
  readonly donorChunkBytes?: number;
  /**
   * Moves data over TCP with peers that offer no verbs side channel (a TcpFabric node), and for
   * slabs without an rkey (default true). When false, such requests complete `rejected`.
   */
  readonly tcpDataFallback?: boolean;
  /**
   * One queue-pair setup with a peer must finish within this (default 15 s), else it counts as
   * failed and is retried (see `qpSetupRetry`); the TCP session stays up.
   */
  readonly qpSetupTimeoutNs?: number;
  /**
   * Retries of a failed queue-pair setup by the side that dialled the peer (default 1 s doubling
   * to 60 s with equal jitter, forever; `maxAttempts` > 0 gives up after that many retries and
   * keeps the peer on TCP or unavailable). Meanwhile the peer's data goes over TCP
   * (`tcpDataFallback`) or its data requests complete `rejected`.
   */
  readonly qpSetupRetry?: Partial<BackoffPolicy>;
}

/** Counters of a {@link VerbsFabric}: the TCP control plane's, the data plane's and the donor memory's. */
export interface VerbsCounters extends TcpCounters, VerbsLinkCounters {
  /** Queue pairs set up (dialled and bound), and setups that failed (or timed out). */
  qpSetups: number;
  qpSetupFailures: number;
  /** Setups started again after a failure (with backoff; the TCP session stayed up). */
  qpSetupRetries: number;
  /** Queue pairs that closed while in use (the peer was dropped and redialled). */
  qpLost: number;
  /** Peers whose data goes over TCP (they offer no verbs side channel). */
  tcpFallbackPeers: number;
  /**
   * Peers whose queue-pair setup failed, now: their data goes over TCP (or is refused when
   * `tcpDataFallback` is off) while the setup is retried.
   */
  degradedPeers: number;
  /** Peers whose data goes over their queue pair now. */
  verbsPeers: number;
  /** Donor slab memory: chunks and bytes registered, slabs lent, refusals. */
  donorChunks: number;
  donorRegisteredBytes: number;
  donorSlabs: number;
  donorRefused: number;
}

interface LinkRecord {
  readonly peer: PeerId;
  readonly nodeName: string | null;
  readonly link: VerbsLink;
  /** The peer's address when this node dialled it (this side sets up and retries the queue pair), else null. */
  readonly dialAddress: PeerAddress | null;
  /** Deadline of the setup under way (dialler), or of the first bind (acceptor). */
  setupDeadlineNs: number;
  /** A setup attempt is under way (dialler); `attempt` tells a stale attempt's callbacks apart. */
  settingUp: boolean;
  attempt: number;
  /** Setups that failed since the last success: the retry backoff's exponent. */
  failuresInRow: number;
  /** The pending retry, or null. */
  retryTimer: ReturnType<typeof setTimeout> | null;
  /** Why the queue pair is not up while the setup is retried (degraded / unavailable), else null. */
  degradedReason: string | null;
  /** The data plane last reported to the listener. */
  reported: VerbsDataPlane;
  /** Made for a request before this fabric saw the peer's `up` event. */
  eventSeen: boolean;
  /** Closed by this fabric on purpose (replaced, disconnected, closed): its endpoint's close drops nothing. */
  retired: boolean;
}

/**
 * The {@link Fabric} over RDMA verbs. Every method goes to an inner {@link TcpFabric} except the
 * data plane: `read`, `write`, `readv` and `writev` are one-sided RDMA READ/WRITE over an RC
 * queue pair to the peer, straight into the donor's registered slab memory (the donor's CPU is
 * not involved). When a TCP session to a peer comes up, the dialling side asks the peer for its
 * side-channel port (RPC), sets up the queue pair over the side channel and binds it to the
 * session (RPC); requests issued meanwhile wait (bounded, with a deadline). When the setup fails,
 * the TCP session stays up: the peer's data goes over TCP (or is refused `rejected` when
 * `tcpDataFallback` is off) and the dialler retries the setup with bounded exponential backoff,
 * switching back to RDMA when it succeeds (`onDataPlaneEvent` reports each change). When a queue
 * pair in use fails, its requests complete `peer-lost` and the peer is dropped (and redialled by
 * whoever dialled it). `open` fails with the typed `no-rdma-device` or `libibverbs-missing`
 * error, whose message suggests `--transport tcp`.
 */
export class VerbsFabric implements Fabric {
  /** The verbs transport (device, side channel, endpoints). */
  readonly transport: RdmaTransport;
  /** The control plane. */
  readonly tcp: TcpFabric;
  private readonly slabMemory: RegisteredSlabMemory | null;
  private readonly links = new Map<PeerId, LinkRecord>();
  private readonly unbound = new Map<VerbsEndpoint, number>();
  private readonly linkCounters = newLinkCounters();
  private readonly setupCounters = { qpSetups: 0, qpSetupFailures: 0, qpSetupRetries: 0, qpLost: 0 };
  private readonly retryPolicy: BackoffPolicy;
  private dataPlaneListener: ((event: DataPlaneEvent) => void) | null = null;
  private readonly ticker: ReturnType<typeof setInterval>;
  private readonly qpSetupTimeoutNs: number;
  private readonly requestTimeoutNs: number;
  private readonly tcpDataFallback: boolean;
  private readonly sideChannelPort: number;
  private readonly linkLimits: { slotBytes: number; maxBatch: number; maxPending: number; maxVectorEntries: number; maxIoBytes: number };
  private listener: ((event: PeerEvent) => void) | null = null;
  private closing: Promise<void> | null = null;

  /** Opens the device and builds the fabric (see the class comment). Throws `no-rdma-device`, `libibverbs-missing`, ... */
  constructor(options: VerbsFabricOptions) {
    const { openTransport, verbs, sideChannelPort, donorChunkBytes, tcpDataFallback, qpSetupTimeoutNs, qpSetupRetry, ...tcpOptions } = options;
    this.retryPolicy = checkBackoff({ ...DEFAULT_QP_SETUP_RETRY, random: Math.random, ...qpSetupRetry });
    this.requestTimeoutNs = options.timeouts?.requestTimeoutNs ?? DEFAULT_SESSION_TIMEOUTS.requestTimeoutNs;
    this.qpSetupTimeoutNs = qpSetupTimeoutNs ?? 15_000 * MS_NS;
    this.tcpDataFallback = tcpDataFallback ?? true;
    this.sideChannelPort = sideChannelPort ?? 0;
    const transportOptions: RdmaTransportOptions = { requestTimeoutMs: Math.max(1, Math.round(this.requestTimeoutNs / MS_NS)), ...verbs, exposeBytes: 0 };
    this.transport = (openTransport ?? ((o: RdmaTransportOptions) => RdmaTransport.open(o)))(transportOptions);
    let slabMemory: RegisteredSlabMemory | null = null;
    try {
      const donor = options.donor ?? null;
      if (donor !== null) {
        slabMemory = new RegisteredSlabMemory({ registrar: this.transport.device.registrar, capacityBytes: donor.capacityBytes, chunkBytes: donorChunkBytes });
      }
      const donorOptions = donor === null || slabMemory === null
        ? donor
        : { ...donor, maxSlabBytes: Math.min(donor.maxSlabBytes ?? donor.capacityBytes, slabMemory.chunkBytes), slabMemory };
      this.tcp = new TcpFabric({ ...tcpOptions, donor: donorOptions });
    } catch (err) {
      slabMemory?.close();
      this.transport.close();
      throw err;
    }
    this.slabMemory = slabMemory;
    const limits = resolveWireLimits(options.limits);
    const stagingSlots = verbs?.stagingSlots ?? 64;
    this.linkLimits = {
      slotBytes: verbs?.slotBytes ?? 65536, maxBatch: Math.min(verbs?.maxBatch ?? 32, stagingSlots), maxPending: options.maxInFlight ?? 256,
      maxVectorEntries: limits.maxVectorEntries, maxIoBytes: limits.maxIoBytes,
    };
    this.tcp.onPeerEvent((event) => this.handlePeerEvent(event));
    this.tcp.registerHandler(VERBS_SIDE_CHANNEL_METHOD, (_peer, _payload, respond) => {
      const port = this.transport.listenPort;
      if (port === null) respond('error');
      else respond('ok', encodeSideChannelReply(port));
    });
    this.tcp.registerHandler(VERBS_BIND_METHOD, (peer, payload, respond) => this.onBind(peer, payload, respond));
    this.transport.onAccept((endpoint) => this.onAccepted(endpoint));
    this.ticker = setInterval(() => this.onTick(), options.tickIntervalMs ?? 100);
    this.ticker.unref();
  }

  get identity(): NodeIdentity {
    return this.tcp.identity;
  }

  /** This node's donor (slabs in registered memory), or null. */
  get donor(): DonorService | null {
    return this.tcp.donor;
  }

  /** The address the TCP listener is bound to, or null. */
  get address(): PeerAddress | null {
    return this.tcp.address;
  }

  /**
   * Accepts peers on `port` (default 7472) of `host` (default all interfaces), and opens the verbs
   * side channel on the same host (port `sideChannelPort`, default any free one). Resolves with
   * the TCP address.
   */
  async listen(port = DEFAULT_PORT, host?: string): Promise<PeerAddress> {
    const bound = await this.tcp.listen(port, host);
    try {
      await this.transport.listen(this.sideChannelPort, host ?? '0.0.0.0');
    } catch (err) {
      await this.tcp.close('the verbs side channel could not listen');
      throw err;
    }
    return bound;
  }

  /** The state of the data plane to a peer (see {@link VerbsDataPlane}), or null when there is no link. */
  dataPlane(peer: PeerId): VerbsDataPlane | null {
    const record = this.links.get(peer);
    return record === undefined ? null : planeOf(record);
  }

  /**
   * Sets the one listener of data-plane changes (queue pair up, degraded to TCP after a failed
   * setup, back on RDMA): once per change, for the node's log. Peer events are unchanged: a
   * failed setup keeps the peer up.
   */
  onDataPlaneEvent(listener: ((event: DataPlaneEvent) => void) | null): void {
    this.dataPlaneListener = listener;
  }

  connect(address: PeerAddress, done: ConnectDone): void {
    this.tcp.connect(address, done);
  }

  disconnect(peer: PeerId): void {
    this.retire(peer, 'disconnected locally');
    this.tcp.disconnect(peer);
  }

  peers(): PeerInfo[] {
    return this.tcp.peers();
  }

  onPeerEvent(listener: ((event: PeerEvent) => void) | null): void {
    this.listener = listener;
  }

  registerHandler(method: number, handler: RpcHandler): void {
    if (method === VERBS_SIDE_CHANNEL_METHOD || method === VERBS_BIND_METHOD) {
      throw new KrdmaError('invalid-method', `RPC method 0x${method.toString(16)} is reserved by the verbs fabric; pick another number`);
    }
    this.tcp.registerHandler(method, handler);
  }

  unregisterHandler(method: number): void {
    if (method === VERBS_SIDE_CHANNEL_METHOD || method === VERBS_BIND_METHOD) return;
    this.tcp.unregisterHandler(method);
  }

  rpc(peer: PeerId, method: number, payload: Uint8Array, done: RpcDone): void {
    this.tcp.rpc(peer, method, payload, done);
  }

  allocSlab(peer: PeerId, sizeBytes: number, done: AllocDone): void {
    this.tcp.allocSlab(peer, sizeBytes, done);
  }

  freeSlab(peer: PeerId, slab: RemoteSlab, done: StatusDone): void {
    this.tcp.freeSlab(peer, slab, done);
  }

  stats(peer: PeerId, done: StatsDone): void {
    this.tcp.stats(peer, done);
  }

  ping(peer: PeerId, done: PingDone): void {
    this.tcp.ping(peer, done);
  }

  read(peer: PeerId, slab: RemoteSlab, offsetBytes: number, into: Uint8Array, done: StatusDone): void {
    this.data(peer, 'read', [{ slab, offsetBytes, into }], done);
  }

  write(peer: PeerId, slab: RemoteSlab, offsetBytes: number, data: Uint8Array, done: StatusDone): void {
    this.data(peer, 'write', [{ slab, offsetBytes, data }], done);
  }

  readv(peer: PeerId, ops: readonly ReadOp[], done: StatusDone): void {
    this.data(peer, 'read', ops, done);
  }

  writev(peer: PeerId, ops: readonly WriteOp[], done: StatusDone): void {
    this.data(peer, 'write', ops, done);
  }

  /** Counters of both planes and of the donor memory (numbers by name). */
  counters(): VerbsCounters {
    let tcpFallbackPeers = 0;
    let verbsPeers = 0;
    let degradedPeers = 0;
    for (const record of this.links.values()) {
      const plane = planeOf(record);
      if (plane === 'tcp') tcpFallbackPeers += 1;
      else if (plane === 'verbs') verbsPeers += 1;
      else if (plane === 'degraded' || (plane === 'unavailable' && record.degradedReason !== null)) degradedPeers += 1;
    }
    const memory: SlabMemoryCounters = this.slabMemory?.counters() ?? { chunks: 0, registeredBytes: 0, slabs: 0, refused: 0 };
    return {
      ...this.tcp.counters(), ...this.linkCounters, ...this.setupCounters, tcpFallbackPeers, verbsPeers, degradedPeers,
      donorChunks: memory.chunks, donorRegisteredBytes: memory.registeredBytes, donorSlabs: memory.slabs, donorRefused: memory.refused,
    };
  }

  /**
   * Closes every queue pair (their requests complete `peer-lost`), cancels pending setup
   * retries, closes the TCP fabric, the donor's registered memory and the device. Resolves when
   * the sockets are closed.
   */
  close(reason = 'the node closed'): Promise<void> {
    if (this.closing !== null) return this.closing;
    clearInterval(this.ticker);
    for (const peer of [...this.links.keys()]) this.retire(peer, reason);
    for (const endpoint of [...this.unbound.keys()]) endpoint.close(reason);
    this.closing = this.tcp.close(reason).then(() => {
      this.slabMemory?.close();
      this.transport.close();
    });
    return this.closing;
  }

  // ---- data plane -----------------------------------------------------------------------------

  private data(peer: PeerId, kind: 'read' | 'write', ops: readonly (ReadOp | WriteOp)[], done: StatusDone): void {
    for (const op of ops) {
      if (op.slab.peer !== peer) {
        const slabId = op.slab.slabId;
        const owner = op.slab.peer;
        return void queueMicrotask(() => done('rejected', `slab ${slabId} lives on peer ${owner}, not on peer ${peer}`));
      }
    }
    const noKey = ops.some((op) => op.slab.rkey === 0);
    const record = noKey ? undefined : (this.links.get(peer) ?? this.linkOnDemand(peer));
    if (record === undefined) {
      // No rkey (a TCP donor's slab), or no session to the peer (TCP answers peer-lost).
      if (noKey && !this.tcpDataFallback) {
        return void queueMicrotask(() => done('rejected', 'the slab has no rkey (lent by a donor without verbs) and tcpDataFallback is off'));
      }
      return this.viaTcp(peer, kind, ops, done);
    }
    if (kind === 'read') record.link.read(ops as readonly ReadOp[], done);
    else record.link.write(ops as readonly WriteOp[], done);
  }

  private viaTcp(peer: PeerId, kind: 'read' | 'write', ops: readonly (ReadOp | WriteOp)[], done: StatusDone): void {
    if (kind === 'read') {
      const reads = ops as readonly ReadOp[];
      if (reads.length === 1) this.tcp.read(peer, reads[0].slab, reads[0].offsetBytes, reads[0].into, done);
      else this.tcp.readv(peer, reads, done);
    } else {
      const writes = ops as readonly WriteOp[];
      if (writes.length === 1) this.tcp.write(peer, writes[0].slab, writes[0].offsetBytes, writes[0].data, done);
      else this.tcp.writev(peer, writes, done);
    }
  }

  // ---- links ----------------------------------------------------------------------------------

  private newLink(info: PeerInfo, eventSeen: boolean): LinkRecord {
    const peer = info.id as PeerId;
    const link = new VerbsLink({
      ...this.linkLimits, queueTimeoutNs: this.requestTimeoutNs, nowNs: monotonicClock.nowNs, defer: deferMicrotask,
      viaTcp: (kind, ops, done) => this.viaTcp(peer, kind, ops, done), counters: this.linkCounters,
      onQueuePairFailed: (reason) => {
        if (!this.current(record)) return;
        this.setupCounters.qpLost += 1;
        this.fail(record, `an RDMA work request failed (${reason}), so the queue pair is in the error state; reconnecting`);
      },
    });
    const dialAddress = info.direction === 'outbound' ? info.address : null;
    const record: LinkRecord = {
      peer, nodeName: info.nodeName, link, dialAddress, setupDeadlineNs: monotonicClock.nowNs() + this.qpSetupTimeoutNs, settingUp: false,
      attempt: 0, failuresInRow: 0, retryTimer: null, degradedReason: null, reported: 'connecting', eventSeen, retired: false,
    };
    this.links.set(peer, record);
    if (dialAddress !== null) this.startSetup(record, dialAddress);
    else this.probe(record);
    return record;
  }

  /** A request before this fabric saw the peer's `up` event (connect's completion comes first). */
  private linkOnDemand(peer: PeerId): LinkRecord | undefined {
    if (this.closing !== null) return undefined;
    const info = this.tcp.peers().find((p) => p.id === peer && p.state === 'up');
    return info === undefined ? undefined : this.newLink(info, false);
  }

  private current(record: LinkRecord): boolean {
    return this.links.get(record.peer) === record && !record.retired && record.link.state !== 'closed';
  }

  private handlePeerEvent(event: PeerEvent): void {
    const peer = event.peer.id;
    if (peer !== null && this.closing === null) {
      if (event.kind === 'up') {
        const existing = this.links.get(peer);
        if (existing !== undefined && !existing.eventSeen) existing.eventSeen = true;
        else {
          if (existing !== undefined) this.retire(peer, 'replaced by a new connection to the peer');
          this.newLink(event.peer, true);
        }
      } else if (!this.tcp.peers().some((p) => p.id === peer && p.state === 'up')) {
        this.retire(peer, `peer ${event.peer.nodeName ?? peer} ${event.kind}: ${event.reason ?? 'no reason given'}`);
      }
    }
    this.listener?.(event);
  }

  /** Takes a link out of service: no retry fires for it, its requests complete `peer-lost`. */
  private detach(record: LinkRecord, reason: string): void {
    this.links.delete(record.peer);
    record.retired = true;
    record.settingUp = false;
    if (record.retryTimer !== null) clearTimeout(record.retryTimer);
    record.retryTimer = null;
    record.link.close(reason);
  }

  /** Closes a link on purpose: nothing is dropped when its endpoint closes. */
  private retire(peer: PeerId, reason: string): void {
    const record = this.links.get(peer);
    if (record !== undefined) this.detach(record, reason);
  }

  /**
   * A queue pair in use failed: close the link and drop the TCP session (the dialler redials and
   * sets up a new queue pair). A failed *setup* does not come here: see `failSetup`.
   */
  private fail(record: LinkRecord, reason: string): void {
    if (!this.current(record)) return;
    this.detach(record, reason);
    this.tcp.dropPeer(record.peer, reason);
  }

  /** The data plane to the peer changed: tell the listener once per change. */
  private report(record: LinkRecord, reason: string | null): void {
    const plane = planeOf(record);
    if (plane === null || plane === 'connecting' || plane === record.reported) return;
    record.reported = plane;
    this.dataPlaneListener?.({ peer: record.peer, nodeName: record.nodeName, plane, reason });
  }

  /**
   * No queue pair for now (its setup failed): the peer's data goes over TCP, or its requests are
   * refused when `tcpDataFallback` is off. The TCP session stays up.
   */
  private degrade(record: LinkRecord, reason: string): void {
    const state = record.link.state;
    if (state === 'verbs' || state === 'closed' || (state === 'tcp' && record.degradedReason === null)) return;
    record.degradedReason = reason;
    if (this.tcpDataFallback) record.link.useTcp();
    else {
      record.link.refuse('rejected', `no RDMA queue pair to peer ${record.nodeName ?? record.peer} (${reason}), and tcpDataFallback is off; `
        + 'data requests are refused until the queue pair is up');
    }
    this.report(record, reason);
  }

  /** Dialling side: starts a queue-pair setup attempt (first, or a retry). */
  private startSetup(record: LinkRecord, address: PeerAddress): void {
    record.settingUp = true;
    record.attempt += 1;
    record.setupDeadlineNs = monotonicClock.nowNs() + this.qpSetupTimeoutNs;
    this.dialQueuePair(record, address, record.attempt);
  }

  private retrySetup(record: LinkRecord): void {
    record.retryTimer = null;
    if (!this.current(record) || this.closing !== null || record.settingUp || record.link.state === 'verbs' || record.dialAddress === null) return;
    this.setupCounters.qpSetupRetries += 1;
    this.startSetup(record, record.dialAddress);
  }

  /**
   * Dialling side: setup attempt `attempt` failed. The TCP session stays up; the data plane is
   * degraded (TCP, or refused) and the setup is retried with bounded exponential backoff.
   */
  private failSetup(record: LinkRecord, attempt: number, reason: string): void {
    if (!this.current(record) || !record.settingUp || record.attempt !== attempt) return;
    record.settingUp = false;
    if (record.link.state === 'verbs') return;
    this.setupCounters.qpSetupFailures += 1;
    record.failuresInRow += 1;
    const retries = record.failuresInRow - 1;
    let next: string;
    if (this.closing !== null) next = 'the node is closing';
    else if (this.retryPolicy.maxAttempts > 0 && retries >= this.retryPolicy.maxAttempts) {
      next = `gave up after ${retries} retries; disconnect and reconnect the peer to try again`;
    } else {
      const delayMs = Math.max(1, Math.round(backoffDelayNs(retries, this.retryPolicy) / MS_NS));
      next = `retry ${retries + 1} in ${delayMs} ms`;
      record.retryTimer = setTimeout(() => this.retrySetup(record), delayMs);
      record.retryTimer.unref();
    }
    const data = this.tcpDataFallback ? 'data goes over TCP meanwhile' : 'data requests are refused meanwhile';
    this.degrade(record, `RDMA queue pair setup failed: ${reason} (${next}; ${data})`);
    // The acceptor's requests may be waiting for this queue pair: tell it (an older peer rejects the notice, harmlessly).
    if (record.failuresInRow === 1) this.tcp.rpc(record.peer, VERBS_BIND_METHOD, SETUP_FAILED_NOTICE, () => undefined);
  }

  private linkUp(record: LinkRecord, endpoint: VerbsEndpoint): void {
    this.setupCounters.qpSetups += 1;
    const failures = record.failuresInRow;
    const wasDown = record.degradedReason !== null;
    record.settingUp = false;
    record.failuresInRow = 0;
    record.degradedReason = null;
    if (record.retryTimer !== null) clearTimeout(record.retryTimer);
    record.retryTimer = null;
    endpoint.watchClose((reason) => {
      if (record.link.endpoint !== endpoint || !this.current(record) || this.closing !== null) return;
      this.setupCounters.qpLost += 1;
      this.fail(record, `the RDMA queue pair closed (${reason}); reconnecting`);
    });
    record.link.up(endpoint);
    const again = failures > 0 ? `the RDMA queue pair is up after ${failures} failed setups` : 'the RDMA queue pair is up again (the peer set it up)';
    this.report(record, wasDown ? again : null);
  }

  /** Dialling side: side-channel port by RPC, queue pair over the side channel, bind by RPC. */
  private dialQueuePair(record: LinkRecord, address: PeerAddress, attempt: number): void {
    const peer = record.peer;
    const live = (): boolean => this.current(record) && this.closing === null && record.settingUp && record.attempt === attempt && record.link.state !== 'verbs';
    this.tcp.rpc(peer, VERBS_SIDE_CHANNEL_METHOD, EMPTY, (status, reply, reason) => {
      if (!live()) return;
      if (status === 'rejected') return this.noVerbs(record, reason);
      if (status !== 'ok' || reply === null) return this.failSetup(record, attempt, `asking the peer for its side-channel port: ${status} (${reason ?? 'no reason'})`);
      let port: number;
      try {
        port = decodeSideChannelReply(reply);
      } catch (err) {
        return this.failSetup(record, attempt, (err as Error).message);
      }
      this.transport.connect(address.host, port).then(
        (endpoint) => {
          if (!live()) return endpoint.close('the queue pair setup was abandoned (timed out, or the peer connection ended)');
          const remote = endpoint.remoteInfo;
          const bind = encodeBindRequest({ callerQpn: endpoint.localInfo.qpn, calleeQpn: remote?.qpn ?? 0 });
          this.tcp.rpc(peer, VERBS_BIND_METHOD, bind, (bound, _reply, why) => {
            // The peer bound it: use it even if this attempt timed out meanwhile (closing it would make the peer drop us).
            if (bound === 'ok' && this.current(record) && this.closing === null && record.link.state !== 'verbs') return this.linkUp(record, endpoint);
            endpoint.close(bound === 'ok' ? 'the peer connection ended during queue pair setup' : 'the peer did not bind the queue pair');
            if (bound !== 'ok') this.failSetup(record, attempt, `the peer did not bind the queue pair: ${bound} (${why ?? 'no reason'})`);
          });
        },
        (err: unknown) => this.failSetup(record, attempt, `side channel ${address.host}:${port}: ${(err as Error).message}`),
      );
    });
  }

  /** Accepting side: learn whether the peer has verbs at all (a TcpFabric peer answers unknown-method). */
  private probe(record: LinkRecord): void {
    this.tcp.rpc(record.peer, VERBS_SIDE_CHANNEL_METHOD, EMPTY, (status, _reply, reason) => {
      if (this.current(record) && status === 'rejected') this.noVerbs(record, reason);
    });
  }

  /** The peer has no verbs (a TcpFabric node): its data goes over TCP, or is refused without the fallback; no retry. */
  private noVerbs(record: LinkRecord, reason: string | null): void {
    record.settingUp = false;
    record.degradedReason = null;
    const why = `the peer offers no verbs side channel (${reason ?? 'rejected'})`;
    if (this.tcpDataFallback) record.link.useTcp();
    else record.link.refuse('rejected', `${why} and tcpDataFallback is off; run the peer with --transport rdma or turn tcpDataFallback on`);
    this.report(record, why);
  }

  private onAccepted(endpoint: VerbsEndpoint): void {
    if (this.closing !== null) return endpoint.close('the fabric is closing');
    this.unbound.set(endpoint, monotonicClock.nowNs());
    endpoint.watchClose(() => this.unbound.delete(endpoint));
  }

  private onBind(peer: PeerId, payload: Uint8Array, respond: (status: 'ok' | 'rejected', reply?: Uint8Array) => void): void {
    const request = decodeBindRequest(payload);
    if (request === null) return respond('rejected');
    if (request.callerQpn === 0 && request.calleeQpn === 0) return respond(this.onPeerSetupFailed(peer) ? 'ok' : 'rejected');
    let endpoint: VerbsEndpoint | null = null;
    for (const candidate of this.unbound.keys()) {
      if (candidate.localInfo.qpn === request.calleeQpn && candidate.remoteInfo?.qpn === request.callerQpn) endpoint = candidate;
    }
    if (endpoint === null) return respond('rejected');
    const record = this.links.get(peer) ?? this.linkOnDemand(peer);
    if (record === undefined || !(record.link.state === 'connecting' || record.degradedReason !== null)) {
      endpoint.close('bound to a peer that is not setting up a queue pair');
      return respond('rejected');
    }
    this.unbound.delete(endpoint);
    this.linkUp(record, endpoint);
    respond('ok');
  }

  /** Accepting side: the dialler's setup failed (it retries): stop waiting for the queue pair. */
  private onPeerSetupFailed(peer: PeerId): boolean {
    const record = this.links.get(peer);
    if (record === undefined || !(record.link.state === 'connecting' || record.degradedReason !== null)) return false;
    this.degrade(record, 'the peer could not set up the RDMA queue pair (it retries with backoff)');
    return true;
  }

  private onTick(): void {
    const nowNs = monotonicClock.nowNs();
    const ms = Math.round(this.qpSetupTimeoutNs / MS_NS);
    for (const record of [...this.links.values()]) {
      record.link.expire(nowNs);
      if (nowNs < record.setupDeadlineNs) continue;
      if (record.settingUp) this.failSetup(record, record.attempt, `not done within ${ms} ms`);
      else if (record.dialAddress === null && record.link.state === 'connecting') {
        this.setupCounters.qpSetupFailures += 1;
        this.degrade(record, `no RDMA queue pair was bound within ${ms} ms (the peer dialled, so it retries the setup)`);
      }
    }
    for (const [endpoint, acceptedNs] of this.unbound) {
      if (nowNs - acceptedNs >= this.qpSetupTimeoutNs) endpoint.close('no peer bound the queue pair in time');
    }
  }
}

/** The data plane of a link, or null when it is closed. */
function planeOf(record: LinkRecord): VerbsDataPlane | null {
  switch (record.link.state) {
    case 'connecting':
    case 'verbs':
      return record.link.state;
    case 'tcp':
      return record.degradedReason === null ? 'tcp' : 'degraded';
    case 'refusing':
      return 'unavailable';
    case 'closed':
      return null;
  }
}
