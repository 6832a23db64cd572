// The Fabric over RDMA verbs. The control plane is an inner TcpFabric (sessions, HMAC
// authentication, RPC, allocSlab/freeSlab/stats/ping, heartbeats, reconnect); the data plane
// (read/write/readv/writev) goes one-sided over an RC queue pair to each peer, against the
// donor's registered slab memory. See README.md ("The verbs fabric") for the design.
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
import { monotonicClock } from '../runtime.js';
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
  /** Whole queue-pair setup with a peer must finish within this (default 15 s), else the peer is dropped and redialled. */
  readonly qpSetupTimeoutNs?: number;
}

/** Counters of a {@link VerbsFabric}: the TCP control plane's, the data plane's and the donor memory's. */
export interface VerbsCounters extends TcpCounters, VerbsLinkCounters {
  /** Queue pairs set up (dialled and bound), and setups that failed. */
  qpSetups: number;
  qpSetupFailures: number;
  /** Queue pairs that closed while in use (the peer was dropped and redialled). */
  qpLost: number;
  /** Peers whose data goes over TCP (they offer no verbs side channel). */
  tcpFallbackPeers: number;
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
  readonly link: VerbsLink;
  readonly setupDeadlineNs: number;
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
 * session (RPC); requests issued meanwhile wait (bounded, with a deadline). When the queue pair
 * closes, its requests complete `peer-lost` and the peer is dropped (and redialled by whoever
 * dialled it), so a peer is only ever used with both planes up. `open` fails with the typed
 * `no-rdma-device` or `libibverbs-missing` error, whose message suggests `--transport tcp`.
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
  private readonly setupCounters = { qpSetups: 0, qpSetupFailures: 0, qpLost: 0 };
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
    const { openTransport, verbs, sideChannelPort, donorChunkBytes, tcpDataFallback, qpSetupTimeoutNs, ...tcpOptions } = options;
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

  /** The state of the data plane to a peer (`connecting`, `verbs`, `tcp`), or null when there is no link. */
  dataPlane(peer: PeerId): 'connecting' | 'verbs' | 'tcp' | null {
    const state = this.links.get(peer)?.link.state;
    return state === undefined || state === 'closed' ? null : state;
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
    for (const record of this.links.values()) {
      if (record.link.state === 'tcp') tcpFallbackPeers += 1;
      if (record.link.state === 'verbs') verbsPeers += 1;
    }
    const memory: SlabMemoryCounters = this.slabMemory?.counters() ?? { chunks: 0, registeredBytes: 0, slabs: 0, refused: 0 };
    return {
      ...this.tcp.counters(), ...this.linkCounters, ...this.setupCounters, tcpFallbackPeers, verbsPeers,
      donorChunks: memory.chunks, donorRegisteredBytes: memory.registeredBytes, donorSlabs: memory.slabs, donorRefused: memory.refused,
    };
  }

  /**
   * Closes every queue pair (their requests complete `peer-lost`), the TCP fabric, the donor's
   * registered memory and the device. Resolves when the sockets are closed.
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
      ...this.linkLimits, queueTimeoutNs: this.requestTimeoutNs, nowNs: monotonicClock.nowNs, defer: (fn) => queueMicrotask(fn),
      viaTcp: (kind, ops, done) => this.viaTcp(peer, kind, ops, done), counters: this.linkCounters,
      onQueuePairFailed: (reason) => {
        if (!this.current(record)) return;
        this.setupCounters.qpLost += 1;
        this.fail(record, `an RDMA work request failed (${reason}), so the queue pair is in the error state; reconnecting`);
      },
    });
    const record: LinkRecord = { peer, link, setupDeadlineNs: monotonicClock.nowNs() + this.qpSetupTimeoutNs, eventSeen, retired: false };
    this.links.set(peer, record);
    if (info.direction === 'outbound' && info.address !== null) this.dialQueuePair(record, info.address);
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

  /** Closes a link on purpose: nothing is dropped when its endpoint closes. */
  private retire(peer: PeerId, reason: string): void {
    const record = this.links.get(peer);
    if (record === undefined) return;
    this.links.delete(peer);
    record.retired = true;
    record.link.close(reason);
  }

  /** The link failed: close it and drop the TCP session (the dialler redials and sets up a new queue pair). */
  private fail(record: LinkRecord, reason: string): void {
    if (!this.current(record)) return;
    this.links.delete(record.peer);
    record.retired = true;
    record.link.close(reason);
    this.tcp.dropPeer(record.peer, reason);
  }

  private failSetup(record: LinkRecord, reason: string): void {
    if (!this.current(record)) return;
    this.setupCounters.qpSetupFailures += 1;
    this.fail(record, `RDMA queue pair setup failed: ${reason}`);
  }

  private linkUp(record: LinkRecord, endpoint: VerbsEndpoint): void {
    this.setupCounters.qpSetups += 1;
    endpoint.watchClose((reason) => {
      if (record.link.endpoint !== endpoint || !this.current(record) || this.closing !== null) return;
      this.setupCounters.qpLost += 1;
      this.fail(record, `the RDMA queue pair closed (${reason}); reconnecting`);
    });
    record.link.up(endpoint);
  }

  /** Dialling side: side-channel port by RPC, queue pair over the side channel, bind by RPC. */
  private dialQueuePair(record: LinkRecord, address: PeerAddress): void {
    const peer = record.peer;
    this.tcp.rpc(peer, VERBS_SIDE_CHANNEL_METHOD, EMPTY, (status, reply, reason) => {
      if (!this.current(record)) return;
      if (status === 'rejected') return this.noVerbs(record, reason);
      if (status !== 'ok' || reply === null) return this.failSetup(record, `asking the peer for its side-channel port: ${status} (${reason ?? 'no reason'})`);
      let port: number;
      try {
        port = decodeSideChannelReply(reply);
      } catch (err) {
        return this.failSetup(record, (err as Error).message);
      }
      this.transport.connect(address.host, port).then(
        (endpoint) => {
          if (!this.current(record) || this.closing !== null) return endpoint.close('the peer connection ended during queue pair setup');
          const remote = endpoint.remoteInfo;
          const bind = encodeBindRequest({ callerQpn: endpoint.localInfo.qpn, calleeQpn: remote?.qpn ?? 0 });
          this.tcp.rpc(peer, VERBS_BIND_METHOD, bind, (bound, _reply, why) => {
            if (!this.current(record) || this.closing !== null) return endpoint.close('the peer connection ended during queue pair setup');
            if (bound !== 'ok') {
              endpoint.close('the peer did not bind the queue pair');
              return this.failSetup(record, `the peer did not bind the queue pair: ${bound} (${why ?? 'no reason'})`);
            }
            this.linkUp(record, endpoint);
          });
        },
        (err: unknown) => this.failSetup(record, `side channel ${address.host}:${port}: ${(err as Error).message}`),
      );
    });
  }

  /** Accepting side: learn whether the peer has verbs at all (a TcpFabric peer answers unknown-method). */
  private probe(record: LinkRecord): void {
    this.tcp.rpc(record.peer, VERBS_SIDE_CHANNEL_METHOD, EMPTY, (status, _reply, reason) => {
      if (this.current(record) && status === 'rejected') this.noVerbs(record, reason);
    });
  }

  private noVerbs(record: LinkRecord, reason: string | null): void {
    if (!this.tcpDataFallback) return this.failSetup(record, `the peer offers no verbs side channel (${reason ?? 'rejected'}) and tcpDataFallback is off`);
    record.link.useTcp();
  }

  private onAccepted(endpoint: VerbsEndpoint): void {
    if (this.closing !== null) return endpoint.close('the fabric is closing');
    this.unbound.set(endpoint, monotonicClock.nowNs());
    endpoint.watchClose(() => this.unbound.delete(endpoint));
  }

  private onBind(peer: PeerId, payload: Uint8Array, respond: (status: 'ok' | 'rejected', reply?: Uint8Array) => void): void {
    const request = decodeBindRequest(payload);
    if (request === null) return respond('rejected');
    let endpoint: VerbsEndpoint | null = null;
    for (const candidate of this.unbound.keys()) {
      if (candidate.localInfo.qpn === request.calleeQpn && candidate.remoteInfo?.qpn === request.callerQpn) endpoint = candidate;
    }
    if (endpoint === null) return respond('rejected');
    const record = this.links.get(peer) ?? this.linkOnDemand(peer);
    if (record === undefined || record.link.state !== 'connecting') {
      endpoint.close('bound to a peer that is not setting up a queue pair');
      return respond('rejected');
    }
    this.unbound.delete(endpoint);
    this.linkUp(record, endpoint);
    respond('ok');
  }

  private onTick(): void {
    const nowNs = monotonicClock.nowNs();
    for (const record of [...this.links.values()]) {
      record.link.expire(nowNs);
      if (record.link.state === 'connecting' && nowNs >= record.setupDeadlineNs) {
        this.failSetup(record, `not done within ${Math.round(this.qpSetupTimeoutNs / MS_NS)} ms`);
      }
    }
    for (const [endpoint, acceptedNs] of this.unbound) {
      if (nowNs - acceptedNs >= this.qpSetupTimeoutNs) endpoint.close('no peer bound the queue pair in time');
    }
  }
}
