// One RC connection to one peer on a real device: CQ, QP, registered staging and receive memory,
// the data path, the channel and the CQ poller. Set up with create() (QP in INIT, receives
// posted), then connect() with the peer's ConnectionInfo (RTR, RTS).
import { randomInt } from 'node:crypto';
import type { FabricStatus, RpcDone, StatusDone } from '../../internal/fabric.js';
import { monotonicClock } from '../runtime.js';
import { VerbsChannel, type ChannelRpcHandler, type RegionRead, type RegionWrite, type RemoteRegion } from './channel.js';
import { VerbsDataPath } from './data-path.js';
import type { VerbsHca } from './hca.js';
import { VerbsError } from './errors.js';
import type { NativePointer } from './library.js';
import { ACCESS_ALL, type RegisteredBuffer } from './memory.js';
import { contextOps } from './ops.js';
import { CqPoller } from './poller.js';
import { DEFAULT_QP_TUNING, errorTransition, initTransition, rtrTransition, rtsTransition, type ConnectionInfo, type QpTuning } from './queue-pair.js';

/** Options of a {@link VerbsEndpoint}. */
export interface VerbsEndpointOptions {
  /** Outstanding one-sided requests (each owns a staging slot); default 64. */
  readonly stagingSlots?: number;
  /** Largest single READ/WRITE in bytes (one staging slot); default 64 KiB. */
  readonly slotBytes?: number;
  /** Pre-posted receive buffers for RPC messages; default 32. */
  readonly recvSlots?: number;
  /** Size of each receive buffer (largest message, header included); default 8 KiB. */
  readonly messageBytes?: number;
  /** Most work requests in one vectored post; default 32. */
  readonly maxBatch?: number;
  /** Completions read per poll_cq call; default 32. */
  readonly pollBatch?: number;
  /** Timeout of every request (one-sided or RPC) in ms; default 5000. */
  readonly requestTimeoutMs?: number;
  /** QP transition tunables. */
  readonly tuning?: Partial<QpTuning>;
}

/** The endpoint's life cycle. */
export type VerbsEndpointState = 'init' | 'connected' | 'closed';

/** One RC queue pair to one peer (see the module comment). */
export class VerbsEndpoint {
  /** This end's connection info (send it to the peer). */
  readonly localInfo: ConnectionInfo;
  private state: VerbsEndpointState = 'init';
  private remote: ConnectionInfo | null = null;
  private closeListener: ((reason: string) => void) | null = null;
  private readonly closeWatchers: ((reason: string) => void)[] = [];
  private closeReason: string | null = null;

  private constructor(
    private readonly device: VerbsHca,
    private readonly tuning: QpTuning,
    private readonly cq: NativePointer,
    private readonly qp: NativePointer,
    private readonly staging: RegisteredBuffer,
    private readonly recv: RegisteredBuffer,
    private readonly dataPath: VerbsDataPath,
    private readonly channel: VerbsChannel,
    private readonly poller: CqPoller,
    localInfo: ConnectionInfo,
    private readonly stagingSlotBytes: number,
    private readonly batchLimit: number,
  ) {
    this.localInfo = localInfo;
  }

  /** Creates the CQ, QP (to INIT), staging and receive memory, and posts the receives. */
  static create(device: VerbsHca, exposed: RegisteredBuffer | null, options: VerbsEndpointOptions = {}): VerbsEndpoint {
    const stagingSlots = options.stagingSlots ?? 64;
    const slotBytes = options.slotBytes ?? 65536;
    const recvSlots = options.recvSlots ?? 32;
    const messageBytes = options.messageBytes ?? 8192;
    const timeoutNs = (options.requestTimeoutMs ?? 5000) * 1e6;
    const tuning: QpTuning = { ...DEFAULT_QP_TUNING, portNum: device.port.portNum, gidIndex: device.gidIndex, ...options.tuning };
    const registrar = device.registrar;
    const cleanup: (() => void)[] = [];
    try {
      const cq = device.createCq(stagingSlots + recvSlots);
      cleanup.push(() => device.destroyCq(cq));
      const { qp, qpn } = device.createRcQp(cq, { maxSendWr: stagingSlots, maxRecvWr: recvSlots });
      cleanup.push(() => device.destroyQp(qp));
      device.modifyQp(qp, initTransition(tuning));
      const staging = registrar.register(stagingSlots * slotBytes, ACCESS_ALL);
      cleanup.push(() => staging.release());
      const recv = registrar.register(recvSlots * messageBytes, ACCESS_ALL);
      cleanup.push(() => recv.release());
      const stagingArea = { address: staging.address, lkey: staging.lkey, bytes: staging.bytes, slotBytes };
      const nowNs = monotonicClock.nowNs;
      const defer = (fn: () => void): void => void setImmediate(fn);
      const maxBatch = Math.min(options.maxBatch ?? 32, stagingSlots);
      const dataPath = new VerbsDataPath({
        qp, cq, ops: contextOps(device.context), maxOutstanding: stagingSlots, maxBatch,
        pollBatch: options.pollBatch ?? 32, timeoutNs, nowNs, defer, staging: stagingArea,
      });
      cleanup.push(() => dataPath.close());
      let poller: CqPoller | null = null;
      const channel = new VerbsChannel({
        dataPath, staging: stagingArea, recv, recvSlots, messageBytes, peerRecvSlots: 2, peerMessageBytes: 0, rpcTimeoutNs: timeoutNs,
        nowNs, defer, kick: () => poller?.kick(),
      });
      channel.postReceives();
      let lastExpireNs = 0;
      const info: ConnectionInfo = {
        lid: device.port.lid, qpn, psn: randomInt(0, 1 << 24), gid: device.gid, activeMtu: device.port.activeMtu, roce: device.isRoce,
        rkey: exposed?.rkey ?? 0, address: exposed === null ? 0 : Number(exposed.address), lengthBytes: exposed?.sizeBytes ?? 0,
        recvSlots, messageBytes,
      };
      let endpoint: VerbsEndpoint | null = null;
      poller = new CqPoller({
        pollOnce: () => dataPath.poll(),
        busy: () => dataPath.pending > 0 || channel.callsInFlight > 0,
        onRound: () => {
          const now = nowNs();
          if (now - lastExpireNs < 1_000_000) return;
          lastExpireNs = now;
          dataPath.expire(now);
          channel.expire(now);
        },
        onError: (err) => endpoint?.close(`completion queue failed: ${(err as Error).message}`),
      });
      endpoint = new VerbsEndpoint(device, tuning, cq, qp, staging, recv, dataPath, channel, poller, info, slotBytes, maxBatch);
      return endpoint;
    } catch (err) {
      for (const undo of cleanup.reverse()) undo();
      throw err;
    }
  }

  /** init, connected or closed. */
  get endpointState(): VerbsEndpointState {
    return this.state;
  }

  /** The peer's connection info once connected. */
  get remoteInfo(): ConnectionInfo | null {
    return this.remote;
  }

  /** The memory region the peer exposed (null when it exposed none). */
  get peerRegion(): RemoteRegion | null {
    const r = this.remote;
    return r === null || r.lengthBytes === 0 ? null : { address: r.address, rkey: r.rkey, lengthBytes: r.lengthBytes };
  }

  /** Brings the QP to RTR then RTS towards `remote`, and starts polling. */
  connect(remote: ConnectionInfo): void {
    if (this.state !== 'init') throw new VerbsError('closed', `the endpoint is ${this.state}; create a new one to connect again`);
    this.device.modifyQp(this.qp, rtrTransition({ activeMtu: this.device.port.activeMtu, roce: this.device.isRoce }, remote, this.tuning));
    this.device.modifyQp(this.qp, rtsTransition(this.localInfo.psn, this.tuning));
    this.channel.setPeerLimits(remote.recvSlots, remote.messageBytes);
    this.remote = remote;
    this.state = 'connected';
    this.poller.start();
  }

  /** One-sided READ of `into.length` bytes at `offsetBytes` of the peer's exposed region. */
  read(offsetBytes: number, into: Uint8Array, done: StatusDone): void {
    this.channel.read(this.regionOrEmpty(), offsetBytes, into, done);
  }

  /** One-sided WRITE of `data` at `offsetBytes` of the peer's exposed region. */
  write(offsetBytes: number, data: Uint8Array, done: StatusDone): void {
    this.channel.write(this.regionOrEmpty(), offsetBytes, data, done);
  }

  /**
   * Vectored READ from any regions of this peer (one post). When `abandoned` returns true at a
   * completion, the data is not copied into `into` (the caller gave up on the request).
   */
  readv(ops: readonly RegionRead[], done: StatusDone, abandoned?: () => boolean): void {
    this.channel.readv(ops, done, abandoned);
  }

  /** Vectored WRITE to any regions of this peer (one post). */
  writev(ops: readonly RegionWrite[], done: StatusDone): void {
    this.channel.writev(ops, done);
  }

  /** Calls `method` on the peer by SEND/RECV. */
  rpc(method: number, payload: Uint8Array, done: RpcDone): void {
    this.channel.rpc(method, payload, done);
  }

  /** Registers the handler of an RPC method. */
  registerHandler(method: number, handler: ChannelRpcHandler): void {
    this.channel.registerHandler(method, handler);
  }

  /** Counters of the data path and channel. */
  stats(): Record<string, number> {
    return { ...this.dataPath.counters, ...this.channel.counters, outstanding: this.dataPath.outstanding };
  }

  /** Adds a watcher called once when the endpoint closes (with the reason), besides the `onClose` listener. */
  watchClose(watcher: (reason: string) => void): void {
    if (this.state === 'closed') return void setImmediate(() => watcher(this.closeReason ?? 'closed'));
    this.closeWatchers.push(watcher);
  }

  /** Send-queue slots free for new one-sided requests (each READ/WRITE of a vector takes one); 0 once closed. */
  get freeSlotCount(): number {
    return this.state === 'connected' ? this.dataPath.freeSlotCount : 0;
  }

  /** Largest single READ/WRITE in bytes (one staging slot). */
  get slotBytes(): number {
    return this.stagingSlotBytes;
  }

  /** Most work requests in one vectored post. */
  get maxBatch(): number {
    return this.batchLimit;
  }

  /** Sets the one listener called when the endpoint closes (with the reason). */
  onClose(listener: ((reason: string) => void) | null): void {
    this.closeListener = listener;
  }

  /** Why the endpoint closed, or null. */
  get closedReason(): string | null {
    return this.closeReason;
  }

  /**
   * Tears down: QP to ERR and destroyed, requests in flight complete `status` (default
   * peer-lost), CQ destroyed, memory deregistered. Idempotent.
   */
  close(reason = 'the endpoint was closed', status: FabricStatus = 'peer-lost'): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.closeReason = reason;
    this.poller.stop();
    try {
      this.device.modifyQp(this.qp, errorTransition());
    } catch {
      // The QP may already be in error; it is destroyed next either way.
    }
    this.device.destroyQp(this.qp);
    this.channel.fail(status, reason);
    this.dataPath.close(status, reason);
    this.device.destroyCq(this.cq);
    this.staging.release();
    this.recv.release();
    this.closeListener?.(reason);
    for (const watcher of this.closeWatchers.splice(0)) watcher(reason);
  }

  private regionOrEmpty(): RemoteRegion {
    return this.peerRegion ?? { address: 0, rkey: 0, lengthBytes: 0 };
  }
}
