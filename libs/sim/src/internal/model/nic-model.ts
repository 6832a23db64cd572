// The simulated NIC and links of a rack (LogGP costs, simulation.md §2.5). Per host: a NIC engine (a FIFO
// server at the message rate), a PCIe FIFO server for payload DMA plus a latency per crossing,
// and one link with a FIFO per direction (egress = host to switch, ingress = switch to host)
// serialising MTU packets store-and-forward. Per queue pair (compute host x memory host): at
// most `qpMaxOutstandingReads` READs and `qpMaxOutstandingWrites` WRITEs in flight; the rest wait
// in a demand queue and a prefetch queue (demand first). Messages are FIFO at message
// granularity per link direction; packets within a message pipeline across hops (the first
// packet leaves as soon as it is ready, the last one cannot finish before its data is DMA'd).
//
// An operation is four stages, three of them events: POST (inline, at issue: posting, doorbell,
// NIC, payload DMA, egress), ARRIVE (request at the remote host: ingress, remote NIC / CPU, the
// storage effect, reply egress), RETURN (reply at the issuer: ingress, DMA, CQE) and COMPLETE
// (poll; the completion callback runs). Op records are pooled: nothing is allocated per event.
//
// This is the timing model underneath `SimFabric` (the simulator's implementation of krdma's
// Fabric port, sim-fabric.ts); it knows hosts, queue pairs and bytes, not peers or slabs.

import type { Engine, EventHandler } from '../engine.js';
import type { RandomStream } from '../random-stream.js';
import type { NicParams } from './nic-presets.js';

/** Operation kinds. */
export const OpKind = { Read: 0, Write: 1, Rpc: 2 } as const;
/** Queue classes at a queue pair: demand before prefetch. */
export const OpClass = { Demand: 0, Prefetch: 1 } as const;

/** Completion status of an operation: the statuses of krdma's Fabric port. */
export type NicStatus = 'ok' | 'timeout' | 'peer-lost' | 'rejected' | 'no-space' | 'busy' | 'error';

/**
 * What an operation does at the remote host, called at ARRIVE (the moment the request is
 * served) when the host is up and reachable. Returns the status the issuer will see, or
 * 'pending' for an RPC whose reply is posted later with {@link NicModel.reply}.
 */
export interface RemoteEffect {
  apply(op: NicOp): NicStatus | 'pending';
}

/** Completion of an operation (called at COMPLETE). */
export interface OpCompletion {
  complete(op: NicOp, status: NicStatus): void;
}

/** A pooled operation record; valid until its completion returns. */
export class NicOp {
  serial = 0;
  kind = 0;
  cls = 0;
  src = 0;
  dst = 0;
  /** Payload bytes moved (real, unscaled); for an RPC, the request's payload bytes. */
  bytes = 0;
  /** RPC only: payload bytes of the reply. */
  replyBytes = 0;
  issueNs = 0;
  incarnation = 0;
  status: NicStatus = 'ok';
  firstArrivalNs = 0;
  lastArrivalNs = 0;
  wireBytes = 0;
  lastPacketWireBytes = 0;
  effect: RemoteEffect | null = null;
  completion: OpCompletion | null = null;
  /** Free fields for the owner (callbacks, request code, slab, offset, buffer, connection). */
  ctx: unknown = null;
  method = 0;
  arg = 0;
  slab = 0;
  offsetBytes = 0;
  buffer: Uint8Array | null = null;
  link: unknown = null;
  aux: unknown = null;
  result = 0;
  /** RPC with a deferred reply: when the handler's CPU time ends, and whether the reply is still due. */
  handlerDoneNs = 0;
  awaitingReply = false;
  next: NicOp | null = null;
}

const STAGE_ARRIVE = 1;
const STAGE_RETURN = 2;
const STAGE_COMPLETE = 3;

/** Fault state of one host, set by fault injection. */
interface HostFaults {
  down: boolean;
  unreachable: boolean;
  incarnation: number;
  /** Link time multiplier in 1/1000 (1000 = nominal; 4000 = a quarter of the bandwidth). */
  slowPermille: number;
  /** Mean extra delay per message while a latency spike is on (0 = none). */
  spikeMeanNs: number;
}

/** Per-host and per-link counters of the fabric. */
export interface FabricCounters {
  reads: number;
  writes: number;
  rpcs: number;
  failedOps: number;
  readBytes: number;
  writeBytes: number;
  maxQueuedAtQp: number;
}

/** The simulated NICs, PCIe and links of one rack. */
export class NicModel {
  readonly params: NicParams;
  readonly hostNames: string[] = [];
  readonly counters: FabricCounters = { reads: 0, writes: 0, rpcs: 0, failedOps: 0, readBytes: 0, writeBytes: 0, maxQueuedAtQp: 0 };
  private readonly engine: Engine;
  private readonly spikes: RandomStream;
  private readonly linkNsPerByte: number;
  private readonly pcieNsPerByte: number;
  private readonly gapNs: number;
  private hostCount = 0;
  // Per host.
  private nicBusy: Float64Array = new Float64Array(0);
  private pcieBusy: Float64Array = new Float64Array(0);
  private cpuBusy: Float64Array = new Float64Array(0);
  private egressBusy: Float64Array = new Float64Array(0);
  private ingressBusy: Float64Array = new Float64Array(0);
  /** Bytes on the wire per host and direction. */
  egressBytes: Float64Array = new Float64Array(0);
  ingressBytes: Float64Array = new Float64Array(0);
  private readonly faults: HostFaults[] = [];
  // Per queue pair (src * MAX + dst): outstanding counts and the two waiting queues.
  private readonly qpReads = new Map<number, number>();
  private readonly qpWrites = new Map<number, number>();
  private readonly qpQueues = new Map<number, QpQueues>();
  private pool: NicOp[] = [];
  private serials = 0;
  private inFlight = 0;
  private readonly handler: EventHandler<NicOp>;
  private readonly timeoutHandler: EventHandler<NicOp>;

  constructor(engine: Engine, params: NicParams, spikes: RandomStream) {
    this.engine = engine;
    this.params = params;
    this.spikes = spikes;
    this.linkNsPerByte = 8 / params.linkGbps;
    this.pcieNsPerByte = 8 / params.pcieGbps;
    this.gapNs = Math.max(1, Math.round(1000 / params.nicMsgRateMps));
    this.handler = { kindId: 0x46, onEvent: (op, stage) => this.onStage(op, stage) };
    this.timeoutHandler = { kindId: 0x47, onEvent: (op, serial) => this.replyTimedOut(op, serial) };
  }

  /** Adds a host (compute or memory node); returns its index. */
  addHost(name: string): number {
    const index = this.hostCount++;
    this.hostNames.push(name);
    const grow = (a: Float64Array): Float64Array => {
      const b = new Float64Array(this.hostCount);
      b.set(a);
      return b;
    };
    this.nicBusy = grow(this.nicBusy);
    this.pcieBusy = grow(this.pcieBusy);
    this.cpuBusy = grow(this.cpuBusy);
    this.egressBusy = grow(this.egressBusy);
    this.ingressBusy = grow(this.ingressBusy);
    this.egressBytes = grow(this.egressBytes);
    this.ingressBytes = grow(this.ingressBytes);
    this.faults.push({ down: false, unreachable: false, incarnation: 0, slowPermille: 1000, spikeMeanNs: 0 });
    return index;
  }

  /** Operations issued and not yet completed. */
  get opsInFlight(): number {
    return this.inFlight;
  }

  // ------------------------------------------------------------------ fault injection

  /** Crash a host: requests arriving from now on fail with 'peer-lost' after the op timeout. */
  crash(host: number): void {
    this.faults[host].down = true;
  }

  /** Restart a crashed host (a new incarnation: requests issued before fail 'peer-lost'). */
  restart(host: number): void {
    const f = this.faults[host];
    f.down = false;
    f.incarnation++;
  }

  /** Whether a host is crashed. */
  isDown(host: number): boolean {
    return this.faults[host].down;
  }

  /** Incarnation of a host (bumped on restart). */
  incarnationOf(host: number): number {
    return this.faults[host].incarnation;
  }

  /** Make a host unreachable (requests to it, and its own requests, time out) or reachable again. */
  setUnreachable(host: number, unreachable: boolean): void {
    this.faults[host].unreachable = unreachable;
  }

  /** Scale a host's link bandwidth (both directions): 1 = nominal, 0.25 = a quarter. */
  setLinkBandwidthFactor(host: number, factor: number): void {
    this.faults[host].slowPermille = Math.round(1000 / factor);
  }

  /** Add an exponential extra delay with this mean to every message from or to the host (0 = off). */
  setLatencySpike(host: number, meanNs: number): void {
    this.faults[host].spikeMeanNs = meanNs;
  }

  // ------------------------------------------------------------------ issuing

  /** Takes a pooled op record; fill its fields and pass it to `issue`. */
  take(): NicOp {
    const op = this.pool.pop() ?? new NicOp();
    op.serial = ++this.serials;
    op.next = null;
    op.status = 'ok';
    op.result = 0;
    op.replyBytes = 0;
    op.method = 0;
    op.arg = 0;
    op.awaitingReply = false;
    return op;
  }

  /**
   * Issues an op at `startNs` (>= now; the CPU time before the post is the caller's). READs and
   * WRITEs respect the queue pair's outstanding limits; the rest wait, demand first.
   */
  issue(op: NicOp, startNs: number): void {
    this.inFlight++;
    op.issueNs = startNs;
    op.incarnation = this.faults[op.dst].incarnation;
    if (op.kind === OpKind.Rpc) {
      this.counters.rpcs++;
      this.post(op, startNs);
      return;
    }
    const qp = op.src * 65536 + op.dst;
    const isRead = op.kind === OpKind.Read;
    if (isRead) this.counters.reads++;
    else this.counters.writes++;
    const counts = isRead ? this.qpReads : this.qpWrites;
    const limit = isRead ? this.params.qpMaxOutstandingReads : this.params.qpMaxOutstandingWrites;
    const outstanding = counts.get(qp) ?? 0;
    if (outstanding < limit) {
      counts.set(qp, outstanding + 1);
      this.post(op, startNs);
      return;
    }
    let queues = this.qpQueues.get(qp);
    if (queues === undefined) this.qpQueues.set(qp, (queues = new QpQueues()));
    const depth = queues.push(op, isRead);
    if (depth > this.counters.maxQueuedAtQp) this.counters.maxQueuedAtQp = depth;
  }

  // ------------------------------------------------------------------ stages

  private onStage(op: NicOp, stage: number): void {
    if (stage === STAGE_ARRIVE) this.arrive(op);
    else if (stage === STAGE_RETURN) this.returned(op);
    else this.complete(op);
  }

  /** Posting, doorbell, sender NIC, payload DMA and egress of the request. */
  private post(op: NicOp, startNs: number): void {
    const p = this.params;
    const src = op.src;
    let t = startNs + p.postNs + p.pcieNs; // build + post the WR, doorbell / WQE fetch over PCIe
    t = this.nicServe(src, t);
    let payload = 0;
    let extra = p.requestExtraBytes;
    if (op.kind === OpKind.Write) payload = op.bytes;
    else if (op.kind === OpKind.Rpc) {
      payload = p.rpcBytes;
      extra = 0;
    }
    let firstReady = t;
    let allReady = t;
    if (payload > p.inlineMaxBytes) {
      // Payload DMA read from host memory, pipelined with the wire.
      const dmaStart = Math.max(t, this.pcieBusy[src]);
      const dmaNs = Math.round(payload * this.pcieNsPerByte);
      this.pcieBusy[src] = dmaStart + dmaNs;
      firstReady = dmaStart + p.pcieNs + Math.round(Math.min(payload, p.mtuBytes) * this.pcieNsPerByte);
      allReady = dmaStart + p.pcieNs + dmaNs;
    }
    this.egress(op, src, payload, extra, firstReady, allReady, op.dst);
    this.engine.scheduleAt(op.firstArrivalNs, this.handler, op, STAGE_ARRIVE, op.serial);
  }

  /** The request reaches the remote host. */
  private arrive(op: NicOp): void {
    const p = this.params;
    const dst = op.dst;
    const f = this.faults[dst];
    const cutOffIssuer = this.faults[op.src].unreachable;
    if (f.down || f.unreachable || f.incarnation !== op.incarnation || cutOffIssuer) {
      op.status = (f.unreachable || cutOffIssuer) && !f.down && f.incarnation === op.incarnation ? 'timeout' : 'peer-lost';
      this.counters.failedOps++;
      const at = Math.max(this.engine.now(), op.issueNs + p.opTimeoutNs);
      this.engine.scheduleAt(at, this.handler, op, STAGE_COMPLETE, op.serial);
      return;
    }
    const inEnd = this.ingress(op, dst);
    let t = this.nicServe(dst, inEnd);
    let replyPayload = 0;
    let firstReady = t;
    let allReady = t;
    if (op.kind === OpKind.Rpc || !p.oneSided) {
      // Two-sided: the message lands in host memory, the remote CPU serves it and posts a reply.
      const cpuStart = Math.max(t + p.pcieNs + p.pollNs, this.cpuBusy[dst]);
      this.cpuBusy[dst] = cpuStart + p.rpcHandlerNs;
      t = cpuStart + p.rpcHandlerNs + p.postNs + p.pcieNs;
      t = this.nicServe(dst, t);
      firstReady = t;
      allReady = t;
      replyPayload = op.kind === OpKind.Rpc ? op.replyBytes : op.kind === OpKind.Read ? op.bytes : 0;
      if (op.kind === OpKind.Write) {
        // The payload is copied out of the receive buffer by the CPU (counted in rpcHandlerNs).
        const dmaStart = Math.max(inEnd, this.pcieBusy[dst]);
        this.pcieBusy[dst] = dmaStart + Math.round(op.bytes * this.pcieNsPerByte);
      }
      if (op.kind === OpKind.Read) {
        const dmaStart = Math.max(t, this.pcieBusy[dst]);
        const dmaNs = Math.round(op.bytes * this.pcieNsPerByte);
        this.pcieBusy[dst] = dmaStart + dmaNs;
        firstReady = dmaStart + p.pcieNs + Math.round(Math.min(op.bytes, p.mtuBytes) * this.pcieNsPerByte);
        allReady = dmaStart + p.pcieNs + dmaNs;
      }
    } else if (op.kind === OpKind.Read) {
      // One-sided READ: the remote NIC DMAs the payload out of memory and streams it back.
      const dmaStart = Math.max(t, this.pcieBusy[dst]);
      const dmaNs = Math.round(op.bytes * this.pcieNsPerByte);
      this.pcieBusy[dst] = dmaStart + dmaNs;
      firstReady = dmaStart + p.pcieNs + Math.round(Math.min(op.bytes, p.mtuBytes) * this.pcieNsPerByte);
      allReady = dmaStart + p.pcieNs + dmaNs;
      replyPayload = op.bytes;
    } else {
      // One-sided WRITE: the payload is DMA'd into memory as it streams in; the NIC acks.
      const dmaStart = Math.max(inEnd, this.pcieBusy[dst]);
      this.pcieBusy[dst] = dmaStart + Math.round(op.bytes * this.pcieNsPerByte);
    }
    const status = op.effect === null ? 'ok' : op.effect.apply(op);
    if (status === 'pending') {
      // The handler answers later (NicModel.reply); the issuer gives up after the op timeout.
      op.awaitingReply = true;
      op.handlerDoneNs = this.cpuBusy[dst];
      this.engine.scheduleAt(Math.max(this.engine.now(), op.issueNs + p.opTimeoutNs), this.timeoutHandler, op, op.serial);
      return;
    }
    op.status = status;
    if (op.kind === OpKind.Rpc) replyPayload = op.replyBytes;
    this.egress(op, dst, replyPayload, 0, firstReady, allReady, op.src);
    this.engine.scheduleAt(op.firstArrivalNs, this.handler, op, STAGE_RETURN, op.serial);
  }

  /**
   * Posts the reply of an RPC whose effect answered 'pending' (set `replyBytes` first). A reply
   * after the op timed out, or from a host that crashed or restarted since, is dropped. `serial`
   * is the op's serial when the effect ran (the record is pooled). Returns whether it was posted.
   */
  reply(op: NicOp, serial: number, status: NicStatus): boolean {
    if (op.serial !== serial || !op.awaitingReply) return false;
    const f = this.faults[op.dst];
    if (f.down || f.incarnation !== op.incarnation) return false;
    op.awaitingReply = false;
    op.status = status;
    const p = this.params;
    const t = this.nicServe(op.dst, Math.max(this.engine.now(), op.handlerDoneNs) + p.postNs + p.pcieNs);
    this.egress(op, op.dst, op.replyBytes, 0, t, t, op.src);
    this.engine.scheduleAt(op.firstArrivalNs, this.handler, op, STAGE_RETURN, op.serial);
    return true;
  }

  private replyTimedOut(op: NicOp, serial: number): void {
    if (op.serial !== serial || !op.awaitingReply) return;
    op.awaitingReply = false;
    op.status = this.faults[op.dst].down ? 'peer-lost' : 'timeout';
    this.counters.failedOps++;
    this.complete(op);
  }

  /** The reply reaches the issuer: ingress, DMA of the payload and the CQE. */
  private returned(op: NicOp): void {
    const p = this.params;
    const src = op.src;
    const inEnd = this.ingress(op, src);
    const t = this.nicServe(src, inEnd);
    let done = t + p.pcieNs; // payload (pipelined with ingress) and CQE written over PCIe
    if (op.kind === OpKind.Read) {
      const dmaStart = Math.max(inEnd, this.pcieBusy[src]);
      this.pcieBusy[src] = dmaStart + Math.round(op.bytes * this.pcieNsPerByte);
      if (dmaStart + p.pcieNs > done) done = dmaStart + p.pcieNs;
    }
    this.engine.scheduleAt(done + p.pollNs, this.handler, op, STAGE_COMPLETE, op.serial);
  }

  private complete(op: NicOp): void {
    this.inFlight--;
    if (op.kind !== OpKind.Rpc) {
      const isRead = op.kind === OpKind.Read;
      const qp = op.src * 65536 + op.dst;
      const queues = this.qpQueues.get(qp);
      const next = queues === undefined ? null : queues.pop(isRead);
      if (next !== null) {
        this.post(next, this.engine.now());
      } else {
        const counts = isRead ? this.qpReads : this.qpWrites;
        counts.set(qp, (counts.get(qp) as number) - 1);
      }
      if (op.status === 'ok') {
        if (isRead) this.counters.readBytes += op.bytes;
        else this.counters.writeBytes += op.bytes;
      }
    }
    const completion = op.completion;
    const status = op.status;
    if (completion !== null) completion.complete(op, status);
    op.completion = null;
    op.effect = null;
    op.ctx = null;
    op.buffer = null;
    op.link = null;
    op.aux = null;
    this.pool.push(op);
  }

  // ------------------------------------------------------------------ resources

  /** The NIC engine of a host serves one message: returns when its processing is done. */
  private nicServe(host: number, readyNs: number): number {
    const start = readyNs > this.nicBusy[host] ? readyNs : this.nicBusy[host];
    this.nicBusy[host] = start + this.gapNs;
    return start + this.params.nicProcNs;
  }

  /** Egress of a message of `payload` bytes from `host`: sets the op's arrival times at the switch. */
  private egress(op: NicOp, host: number, payload: number, extra: number, firstReady: number, allReady: number, peer: number): void {
    const p = this.params;
    const packets = payload <= p.mtuBytes ? 1 : Math.ceil(payload / p.mtuBytes);
    const wire = payload + extra + packets * p.headerBytes;
    const lastPacket = payload - (packets - 1) * p.mtuBytes + p.headerBytes + (packets === 1 ? extra : 0);
    const firstPacket = packets === 1 ? wire : p.mtuBytes + p.headerBytes + extra;
    const slow = this.faults[host].slowPermille;
    const k = slow === 1000 ? this.linkNsPerByte : (this.linkNsPerByte * slow) / 1000;
    const start = firstReady > this.egressBusy[host] ? firstReady : this.egressBusy[host];
    let end = start + Math.round(wire * k);
    const tail = allReady + Math.round(lastPacket * k);
    if (tail > end) end = tail;
    this.egressBusy[host] = end;
    this.egressBytes[host] += wire;
    let delay = p.propNs;
    const spikeA = this.faults[host].spikeMeanNs;
    const spikeB = this.faults[peer].spikeMeanNs;
    if (spikeA > 0) delay += this.spikes.exponentialNs(spikeA);
    if (spikeB > 0) delay += this.spikes.exponentialNs(spikeB);
    op.wireBytes = wire;
    op.lastPacketWireBytes = lastPacket;
    op.firstArrivalNs = start + Math.round(firstPacket * k) + delay;
    op.lastArrivalNs = end + delay;
  }

  /** Ingress (switch to host) of the op's current message: returns when the last packet is in. */
  private ingress(op: NicOp, host: number): number {
    const slow = this.faults[host].slowPermille;
    const k = slow === 1000 ? this.linkNsPerByte : (this.linkNsPerByte * slow) / 1000;
    const now = this.engine.now();
    const start = now > this.ingressBusy[host] ? now : this.ingressBusy[host];
    let end = start + Math.round(op.wireBytes * k);
    const tail = op.lastArrivalNs + Math.round(op.lastPacketWireBytes * k);
    if (tail > end) end = tail;
    this.ingressBusy[host] = end;
    this.ingressBytes[host] += op.wireBytes;
    return end;
  }
}

/** The two waiting queues of one queue pair, for reads and for writes. */
class QpQueues {
  private readonly heads: (NicOp | null)[] = [null, null, null, null];
  private readonly tails: (NicOp | null)[] = [null, null, null, null];
  private readonly sizes = [0, 0, 0, 0];

  /** Queues an op (index: reads 0/1, writes 2/3 by class); returns that queue kind's depth. */
  push(op: NicOp, isRead: boolean): number {
    const q = (isRead ? 0 : 2) + (op.cls === OpClass.Prefetch ? 1 : 0);
    op.next = null;
    const tail = this.tails[q];
    if (tail === null) this.heads[q] = op;
    else tail.next = op;
    this.tails[q] = op;
    this.sizes[q]++;
    const base = isRead ? 0 : 2;
    return this.sizes[base] + this.sizes[base + 1];
  }

  /** The next op to post, demand first. */
  pop(isRead: boolean): NicOp | null {
    const base = isRead ? 0 : 2;
    for (let q = base; q < base + 2; q++) {
      const head = this.heads[q];
      if (head !== null) {
        this.heads[q] = head.next;
        if (head.next === null) this.tails[q] = null;
        head.next = null;
        this.sizes[q]--;
        return head;
      }
    }
    return null;
  }
}
