// The data plane to one peer of a VerbsFabric: a bounded FIFO of one-sided requests in front of
// the peer's RC queue pair. A request is checked whole first (slab bounds, size limits), then cut
// into pieces of at most one staging slot and chains of at most one post (maxBatch pieces), and
// its chains are posted in order as the endpoint has free slots. While the queue pair is being set
// up, requests wait in the queue; every queued request has a deadline (`timeout`), and closing the
// link completes every request `peer-lost`. When the queue pair cannot be set up, the fabric moves
// the link to TCP (`useTcp`: what waits and what comes later goes over TCP) or makes it refuse
// requests (`refuse`), and back to the queue pair (`up`) once a later setup succeeds; requests
// already sent over TCP then finish there. Each request completes exactly once, never from inside
// the call that submitted it.
import type { FabricStatus, ReadOp, RemoteSlab, StatusDone, WriteOp } from '../../internal/fabric.js';
import type { RemoteRegion } from './channel.js';
import type { VerbsEndpoint } from './endpoint.js';

/**
 * Where a link is: setting up its queue pair, moving data over it, over TCP (the peer has no
 * verbs, or its queue pair could not be set up), refusing requests (no queue pair and no TCP
 * fallback), or closed.
 */
export type VerbsLinkState = 'connecting' | 'verbs' | 'tcp' | 'refusing' | 'closed';

/** Counters shared by the links of one fabric. */
export interface VerbsLinkCounters {
  /** One-sided READs / WRITEs posted (pieces). */
  verbsReads: number;
  verbsWrites: number;
  /** Bytes moved by them (completed ok). */
  verbsBytesRead: number;
  verbsBytesWritten: number;
  /** Requests that waited for the queue pair or for free slots. */
  requestsQueued: number;
  /** Requests timed out while queued. */
  queuedTimeouts: number;
  /** Requests refused `busy` (too many pending on one link). */
  requestsBusy: number;
  /** Requests sent over TCP because the link is in TCP mode. */
  tcpRequests: number;
}

/** A fresh counters object. */
export function newLinkCounters(): VerbsLinkCounters {
  return { verbsReads: 0, verbsWrites: 0, verbsBytesRead: 0, verbsBytesWritten: 0, requestsQueued: 0, queuedTimeouts: 0, requestsBusy: 0, tcpRequests: 0 };
}

/** Options of a {@link VerbsLink}. */
export interface VerbsLinkOptions {
  /** Largest piece (the endpoints' staging slot), bytes. */
  readonly slotBytes: number;
  /** Most pieces per post (the endpoints' maxBatch). */
  readonly maxBatch: number;
  /** Most requests pending (queued or posted) on the link; beyond it requests complete `busy`. */
  readonly maxPending: number;
  /** Most entries of one vectored request, and most bytes of one request (as TCP's wire limits). */
  readonly maxVectorEntries: number;
  readonly maxIoBytes: number;
  /** How long a request may wait in the queue. */
  readonly queueTimeoutNs: number;
  readonly nowNs: () => number;
  /** Runs work later (completions that fail at submission). */
  readonly defer: (fn: () => void) => void;
  /** Sends a request over TCP (the link is in TCP mode). */
  readonly viaTcp: (kind: 'read' | 'write', ops: readonly (ReadOp | WriteOp)[], done: StatusDone) => void;
  readonly counters: VerbsLinkCounters;
  /**
   * A posted request completed with a work-completion error (any status but ok and timeout): on
   * an RC queue pair that moves the QP to the error state, so the link is done for.
   */
  readonly onQueuePairFailed?: (reason: string) => void;
}

interface Request {
  readonly kind: 'read' | 'write';
  readonly ops: readonly (ReadOp | WriteOp)[];
  readonly done: StatusDone;
  readonly deadlineNs: number;
  chainsLeft: number;
  finished: boolean;
}

interface Piece {
  readonly region: RemoteRegion;
  readonly offsetBytes: number;
  readonly bytes: Uint8Array;
}

interface Chain {
  readonly request: Request;
  readonly pieces: Piece[];
}

function regionOf(slab: RemoteSlab): RemoteRegion {
  return { address: slab.remoteAddress, rkey: slab.rkey, lengthBytes: slab.sizeBytes };
}

/** One peer's data plane (see the module comment). */
export class VerbsLink {
  private linkState: VerbsLinkState = 'connecting';
  private ep: VerbsEndpoint | null = null;
  private readonly queue: Chain[] = [];
  private pendingCount = 0;
  private pumpScheduled = false;
  private closeReason: string | null = null;
  private refusal: { status: FabricStatus; reason: string } | null = null;

  constructor(private readonly o: VerbsLinkOptions) {}

  /** The link's state. */
  get state(): VerbsLinkState {
    return this.linkState;
  }

  /** The queue pair's endpoint once the link is in `verbs` state. */
  get endpoint(): VerbsEndpoint | null {
    return this.ep;
  }

  /** Requests queued or posted and not completed. */
  get pending(): number {
    return this.pendingCount;
  }

  /** Chains waiting in the queue. */
  get queued(): number {
    return this.queue.length;
  }

  /** One-sided read(s) into `into` buffers. */
  read(ops: readonly ReadOp[], done: StatusDone): void {
    this.submit('read', ops, done);
  }

  /** One-sided write(s) of `data` buffers (copied into staging at post time). */
  write(ops: readonly WriteOp[], done: StatusDone): void {
    this.submit('write', ops, done);
  }

  /**
   * The queue pair is up: post what waits, and send every later request over it. From `tcp` or
   * `refusing` too (a setup retry succeeded): requests already sent over TCP finish there.
   */
  up(endpoint: VerbsEndpoint): void {
    if (this.linkState !== 'connecting' && this.linkState !== 'tcp' && this.linkState !== 'refusing') return;
    this.linkState = 'verbs';
    this.refusal = null;
    this.ep = endpoint;
    this.pump();
  }

  /**
   * No queue pair (the peer has no verbs, or its setup failed): everything waiting, and everything
   * later, goes over TCP. From `connecting` or `refusing`.
   */
  useTcp(): void {
    if (this.linkState !== 'connecting' && this.linkState !== 'refusing') return;
    this.linkState = 'tcp';
    this.refusal = null;
    const waiting = new Set<Request>();
    for (const chain of this.queue.splice(0)) if (!chain.request.finished) waiting.add(chain.request);
    for (const request of waiting) this.sendViaTcp(request);
  }

  /**
   * No queue pair and no TCP fallback: what waits, and every later request, completes with
   * `status` and `reason` (later, once) until `up` or `useTcp`. From `connecting` or `refusing`
   * (a new reason).
   */
  refuse(status: FabricStatus, reason: string): void {
    if (this.linkState !== 'connecting' && this.linkState !== 'refusing') return;
    this.linkState = 'refusing';
    this.refusal = { status, reason };
    for (const chain of this.queue.splice(0)) this.finish(chain.request, status, reason, true);
  }

  /**
   * Closes the link: queued requests complete `peer-lost` with `reason`, and the endpoint (if any)
   * is closed, which completes the posted ones `peer-lost`. Idempotent.
   */
  close(reason: string): void {
    if (this.linkState === 'closed') return;
    this.linkState = 'closed';
    this.closeReason = reason;
    for (const chain of this.queue.splice(0)) this.finish(chain.request, 'peer-lost', reason, true);
    this.ep?.close(reason);
  }

  /** Completes `timeout` every queued request past its deadline. */
  expire(nowNs: number): void {
    if (this.queue.length === 0) return;
    let kept = 0;
    for (const chain of this.queue) {
      const request = chain.request;
      if (!request.finished && request.deadlineNs <= nowNs) {
        this.o.counters.queuedTimeouts += 1;
        const waitedFor = this.linkState === 'connecting' ? 'the RDMA queue pair to be set up' : 'free RDMA work-request slots';
        this.finish(request, 'timeout', `waited over ${Math.round(this.o.queueTimeoutNs / 1e6)} ms for ${waitedFor}`);
      }
      if (!request.finished) this.queue[kept++] = chain;
    }
    this.queue.length = kept;
  }

  private submit(kind: 'read' | 'write', ops: readonly (ReadOp | WriteOp)[], done: StatusDone): void {
    const fail = (status: FabricStatus, reason: string): void => this.o.defer(() => done(status, reason));
    if (this.linkState === 'closed') return fail('peer-lost', this.closeReason ?? 'the link to the peer is closed');
    if (this.refusal !== null) return fail(this.refusal.status, this.refusal.reason);
    const bad = this.check(ops);
    if (bad !== null) return fail('rejected', bad);
    if (this.pendingCount >= this.o.maxPending) {
      this.o.counters.requestsBusy += 1;
      return fail('busy', `${this.pendingCount} requests pending to this peer (bound ${this.o.maxPending}); retry after completions`);
    }
    const request: Request = { kind, ops, done, deadlineNs: this.o.nowNs() + this.o.queueTimeoutNs, chainsLeft: 0, finished: false };
    this.pendingCount += 1;
    if (this.linkState === 'tcp') return this.sendViaTcp(request);
    const chains = this.cut(request);
    request.chainsLeft = chains.length;
    if (this.linkState === 'connecting' || this.queue.length > 0 || (this.ep?.freeSlotCount ?? 0) < chains[0].pieces.length) {
      this.o.counters.requestsQueued += 1;
    }
    for (const chain of chains) this.queue.push(chain);
    this.pump();
  }

  private check(ops: readonly (ReadOp | WriteOp)[]): string | null {
    if (ops.length === 0) return 'empty vector';
    if (ops.length > this.o.maxVectorEntries) return `${ops.length} entries exceed the vector limit of ${this.o.maxVectorEntries}`;
    let total = 0;
    for (const op of ops) {
      const length = 'into' in op ? op.into.length : op.data.length;
      const { slab, offsetBytes } = op;
      if (!Number.isSafeInteger(offsetBytes) || offsetBytes < 0 || length < 1 || offsetBytes + length > slab.sizeBytes) {
        return `range [${offsetBytes}, +${length}) is outside slab ${slab.slabId} of ${slab.sizeBytes} bytes`;
      }
      if (slab.rkey === 0) return `slab ${slab.slabId} has no rkey (it was not lent by a verbs donor)`;
      total += length;
    }
    if (total > this.o.maxIoBytes) return `${total} bytes exceed the limit of ${this.o.maxIoBytes} bytes per request; split it`;
    return null;
  }

  private cut(request: Request): Chain[] {
    const chains: Chain[] = [];
    let pieces: Piece[] = [];
    const slot = this.o.slotBytes;
    for (const op of request.ops) {
      const bytes = 'into' in op ? op.into : op.data;
      const region = regionOf(op.slab);
      for (let at = 0; at < bytes.length; at += slot) {
        pieces.push({ region, offsetBytes: op.offsetBytes + at, bytes: bytes.subarray(at, Math.min(bytes.length, at + slot)) });
        if (pieces.length === this.o.maxBatch) {
          chains.push({ request, pieces });
          pieces = [];
        }
      }
    }
    if (pieces.length > 0) chains.push({ request, pieces });
    return chains;
  }

  private sendViaTcp(request: Request): void {
    this.o.counters.tcpRequests += 1;
    this.o.viaTcp(request.kind, request.ops, (status, reason) => this.finish(request, status, reason));
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    // After the completion that freed slots has returned (the data path releases them then).
    this.o.defer(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    const ep = this.ep;
    if (this.linkState !== 'verbs' || ep === null) return;
    while (this.queue.length > 0) {
      const chain = this.queue[0];
      if (chain.request.finished) {
        this.queue.shift();
        continue;
      }
      if (ep.freeSlotCount < chain.pieces.length) break;
      this.queue.shift();
      this.post(ep, chain);
    }
  }

  private post(ep: VerbsEndpoint, chain: Chain): void {
    const request = chain.request;
    const counters = this.o.counters;
    const bytes = chain.pieces.reduce((sum, p) => sum + p.bytes.length, 0);
    const done: StatusDone = (status, reason) => {
      if (status === 'ok') {
        if (request.kind === 'read') counters.verbsBytesRead += bytes;
        else counters.verbsBytesWritten += bytes;
      }
      request.chainsLeft -= 1;
      if (status !== 'ok') this.finish(request, status, reason);
      else if (request.chainsLeft === 0) this.finish(request, 'ok', null);
      if (status !== 'ok' && status !== 'timeout' && this.linkState === 'verbs') this.o.onQueuePairFailed?.(`${status}: ${reason ?? 'no reason'}`);
      this.schedulePump();
    };
    if (request.kind === 'read') {
      counters.verbsReads += chain.pieces.length;
      ep.readv(chain.pieces.map((p) => ({ region: p.region, offsetBytes: p.offsetBytes, into: p.bytes })), done, () => request.finished);
    } else {
      counters.verbsWrites += chain.pieces.length;
      ep.writev(chain.pieces.map((p) => ({ region: p.region, offsetBytes: p.offsetBytes, data: p.bytes })), done);
    }
  }

  private finish(request: Request, status: FabricStatus, reason: string | null, later = false): void {
    if (request.finished) return;
    request.finished = true;
    this.pendingCount -= 1;
    if (later) this.o.defer(() => request.done(status, reason));
    else request.done(status, reason);
  }
}
