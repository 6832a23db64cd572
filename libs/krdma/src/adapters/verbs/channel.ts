// One-sided READ/WRITE and SEND/RECV RPC over a connected RC queue pair, through a VerbsDataPath.
// Device-agnostic: the endpoint gives it registered staging and receive memory; the fake-NIC
// tests give it memory registered with the fake. Caller buffers are copied into and out of the
// staging slot of their request (data never moves between the NIC and unregistered memory).
import type { FabricStatus, RpcDone, StatusDone } from '../../internal/fabric.js';
import { IbvWrOpcode } from './abi.js';
import type { StagingArea, VerbsDataPath, WorkDone } from './data-path.js';
import type { NativePointer } from './library.js';

/** A peer memory region reachable by one-sided verbs. */
export interface RemoteRegion {
  /** Remote virtual address of byte 0 (user-space addresses fit in 2^53). */
  readonly address: number;
  readonly rkey: number;
  readonly lengthBytes: number;
}

/** Registered memory holding the receive buffers (recvSlots × messageBytes). */
export interface ReceiveArea {
  readonly address: NativePointer;
  readonly lkey: number;
  readonly bytes: Uint8Array;
}

/** One page of a vectored read from a region. */
export interface RegionRead {
  readonly region: RemoteRegion;
  readonly offsetBytes: number;
  readonly into: Uint8Array;
}

/** One page of a vectored write to a region. */
export interface RegionWrite {
  readonly region: RemoteRegion;
  readonly offsetBytes: number;
  readonly data: Uint8Array;
}

/** Serves one RPC method on a channel: call `respond` exactly once. */
export type ChannelRpcHandler = (payload: Uint8Array, respond: (status: FabricStatus, reply?: Uint8Array) => void) => void;

/** Options of a {@link VerbsChannel}. */
export interface VerbsChannelOptions {
  readonly dataPath: VerbsDataPath;
  /** The data path's staging area (one slot per outstanding request). */
  readonly staging: StagingArea;
  readonly recv: ReceiveArea;
  readonly recvSlots: number;
  readonly messageBytes: number;
  /** The peer's receive buffers: bounds our requests in flight and our message size. */
  readonly peerRecvSlots: number;
  readonly peerMessageBytes: number;
  readonly rpcTimeoutNs: number;
  readonly nowNs: () => number;
  readonly defer: (fn: () => void) => void;
  /** Called after posting (wakes the CQ poller). */
  readonly kick?: () => void;
}

/** Header of a SEND/RECV message: kind u8, status u8, reserved u16, call id u32, method u32, payload length u32. */
export const MESSAGE_HEADER_BYTES = 16;
const KIND_REQUEST = 1;
const KIND_REPLY = 2;
const STATUS_CODES: readonly FabricStatus[] = ['ok', 'rejected', 'no-space', 'busy', 'error', 'timeout', 'peer-lost'];

/** Counters of a channel. */
export interface VerbsChannelCounters {
  reads: number;
  writes: number;
  rpcsSent: number;
  rpcsServed: number;
  badMessages: number;
  droppedReplies: number;
}

interface PendingCall {
  readonly done: RpcDone;
  readonly deadlineNs: number;
}

/** Operations on one connected queue pair (see the module comment). */
export class VerbsChannel {
  readonly counters: VerbsChannelCounters = { reads: 0, writes: 0, rpcsSent: 0, rpcsServed: 0, badMessages: 0, droppedReplies: 0 };
  private readonly o: VerbsChannelOptions;
  private readonly handlers = new Map<number, ChannelRpcHandler>();
  private readonly calls = new Map<number, PendingCall>();
  private readonly pendingReplies: { callId: number; status: FabricStatus; reply: Uint8Array | null }[] = [];
  private maxCallsInFlight: number;
  private peerMessageBytes: number;
  private nextCallId = 1;
  private broken: string | null = null;

  constructor(options: VerbsChannelOptions) {
    this.o = options;
    this.maxCallsInFlight = Math.max(1, Math.floor(options.peerRecvSlots / 2));
    this.peerMessageBytes = options.peerMessageBytes;
    options.dataPath.recvHandler = (slot, status, byteLength, reason) => this.onRecv(slot, status, byteLength, reason);
  }

  /** Posts every receive buffer (before the QP reaches RTR, so the peer never meets an empty queue). */
  postReceives(): void {
    for (let slot = 0; slot < this.o.recvSlots; slot += 1) this.repost(slot);
  }

  /** Sets the peer's receive limits (learned from the side channel after the channel was built). */
  setPeerLimits(peerRecvSlots: number, peerMessageBytes: number): void {
    this.maxCallsInFlight = Math.max(1, Math.floor(peerRecvSlots / 2));
    this.peerMessageBytes = peerMessageBytes;
  }

  /** Why the channel is broken (a failed receive or close), or null. */
  get brokenReason(): string | null {
    return this.broken;
  }

  /** RPC calls waiting for a reply. */
  get callsInFlight(): number {
    return this.calls.size;
  }

  /** One-sided read of `into.length` bytes at `offsetBytes` of `region`. */
  read(region: RemoteRegion, offsetBytes: number, into: Uint8Array, done: StatusDone): void {
    this.readv([{ region, offsetBytes, into }], done);
  }

  /** One-sided write of `data` at `offsetBytes` of `region`. */
  write(region: RemoteRegion, offsetBytes: number, data: Uint8Array, done: StatusDone): void {
    this.writev([{ region, offsetBytes, data }], done);
  }

  /**
   * Vectored read: one post of a chain of READs; `done` once, with the first failure. When
   * `abandoned` returns true at a completion, nothing more is copied into the `into` buffers.
   */
  readv(ops: readonly RegionRead[], done: StatusDone, abandoned?: () => boolean): void {
    const bad = this.checkOps(ops.map((op) => [op.region, op.offsetBytes, op.into.length]));
    if (bad !== null) return this.later(done, 'rejected', bad);
    const { each, finished } = this.gather(ops.length, done);
    if (!this.o.dataPath.begin(ops.length, each)) return;
    const staging = this.o.staging.bytes;
    const dataPath = this.o.dataPath;
    for (const op of ops) {
      const length = op.into.length;
      dataPath.push(IbvWrOpcode.RDMA_READ, (status, reason, slot) => {
        // Copy only while the caller still waits (not after a failure was reported for the vector).
        if (status === 'ok' && !finished() && abandoned?.() !== true) op.into.set(staging.subarray(dataPath.stagingOffset(slot), dataPath.stagingOffset(slot) + length));
        each(status, reason, slot);
      }, length, BigInt(op.region.address + op.offsetBytes), op.region.rkey);
    }
    this.counters.reads += ops.length;
    this.post();
  }

  /** Vectored write: one post of a chain of WRITEs; `done` once, with the first failure. */
  writev(ops: readonly RegionWrite[], done: StatusDone): void {
    const bad = this.checkOps(ops.map((op) => [op.region, op.offsetBytes, op.data.length]));
    if (bad !== null) return this.later(done, 'rejected', bad);
    const { each } = this.gather(ops.length, done);
    if (!this.o.dataPath.begin(ops.length, each)) return;
    const staging = this.o.staging.bytes;
    for (const op of ops) {
      const slot = this.o.dataPath.push(IbvWrOpcode.RDMA_WRITE, each, op.data.length, BigInt(op.region.address + op.offsetBytes), op.region.rkey);
      staging.set(op.data, this.o.dataPath.stagingOffset(slot));
    }
    this.counters.writes += ops.length;
    this.post();
  }

  /** Registers the handler of an RPC method (u32), replacing any previous one. */
  registerHandler(method: number, handler: ChannelRpcHandler): void {
    this.handlers.set(method >>> 0, handler);
  }

  /** Removes the handler of an RPC method. */
  unregisterHandler(method: number): void {
    this.handlers.delete(method >>> 0);
  }

  /** Calls `method` on the peer with `payload` by SEND; the reply comes back by the peer's SEND. */
  rpc(method: number, payload: Uint8Array, done: RpcDone): void {
    const fail = (status: FabricStatus, reason: string): void => this.o.defer(() => done(status, null, reason));
    if (this.broken !== null) return fail('peer-lost', this.broken);
    if (MESSAGE_HEADER_BYTES + payload.length > this.peerMessageBytes) {
      return fail('rejected', `payload of ${payload.length} bytes exceeds the peer's message size ${this.peerMessageBytes - MESSAGE_HEADER_BYTES}`);
    }
    if (this.calls.size >= this.maxCallsInFlight) return fail('busy', `${this.calls.size} RPCs in flight (bound ${this.maxCallsInFlight})`);
    const callId = this.nextCallId;
    this.nextCallId = this.nextCallId >= 0xffff_ffff ? 1 : this.nextCallId + 1;
    const sent: WorkDone = (status, reason) => {
      if (status !== 'ok') this.finishCall(callId, status, null, reason);
      this.flushReplies();
    };
    if (!this.o.dataPath.begin(1, (status, reason) => fail(status, reason ?? status))) return;
    this.calls.set(callId, { done, deadlineNs: this.o.nowNs() + this.o.rpcTimeoutNs });
    this.pushMessage(sent, KIND_REQUEST, 0, callId, method >>> 0, payload);
    this.counters.rpcsSent += 1;
    this.post();
  }

  /** Completes `timeout` every RPC past its deadline. */
  expire(nowNs: number): void {
    for (const [callId, call] of this.calls) {
      if (call.deadlineNs <= nowNs) this.finishCall(callId, 'timeout', null, `no reply within ${Math.round(this.o.rpcTimeoutNs / 1e6)} ms`);
    }
  }

  /** Fails every RPC in flight and refuses new ones (the QP is gone or in error). */
  fail(status: FabricStatus, reason: string): void {
    if (this.broken === null) this.broken = reason;
    for (const callId of [...this.calls.keys()]) this.finishCall(callId, status, null, reason);
    this.pendingReplies.length = 0;
  }

  private post(): void {
    this.o.dataPath.submit();
    this.o.kick?.();
  }

  private later(done: StatusDone, status: FabricStatus, reason: string | null): void {
    this.o.defer(() => done(status, reason));
  }

  private gather(count: number, done: StatusDone): { each: WorkDone; finished: () => boolean } {
    let remaining = count;
    let firstStatus: FabricStatus = 'ok';
    let firstReason: string | null = null;
    let finished = false;
    const each: WorkDone = (status, reason, slot) => {
      if (finished) return;
      if (slot < 0) {
        // Never posted (busy, closed): the whole request fails at once.
        finished = true;
        done(status, reason);
        return;
      }
      if (status !== 'ok' && firstStatus === 'ok') {
        firstStatus = status;
        firstReason = reason;
      }
      remaining -= 1;
      if (remaining === 0) {
        finished = true;
        done(firstStatus, firstReason);
      }
    };
    return { each, finished: () => finished };
  }

  private checkOps(ops: readonly [RemoteRegion, number, number][]): string | null {
    if (this.broken !== null) return this.broken;
    const slotBytes = this.o.staging.slotBytes;
    for (const [region, offsetBytes, length] of ops) {
      if (!Number.isSafeInteger(offsetBytes) || offsetBytes < 0 || length < 1 || offsetBytes + length > region.lengthBytes) {
        return `range [${offsetBytes}, +${length}) is outside the remote region of ${region.lengthBytes} bytes`;
      }
      if (length > slotBytes) return `${length} bytes exceed the staging slot of ${slotBytes} bytes`;
    }
    return ops.length === 0 ? 'empty vector' : null;
  }

  private pushMessage(done: WorkDone, kind: number, statusCode: number, callId: number, method: number, payload: Uint8Array | null): void {
    const length = MESSAGE_HEADER_BYTES + (payload?.length ?? 0);
    const slot = this.o.dataPath.push(IbvWrOpcode.SEND, done, length, 0n, 0);
    const at = this.o.dataPath.stagingOffset(slot);
    const view = new DataView(this.o.staging.bytes.buffer, this.o.staging.bytes.byteOffset + at, MESSAGE_HEADER_BYTES);
    view.setUint8(0, kind);
    view.setUint8(1, statusCode);
    view.setUint16(2, 0, true);
    view.setUint32(4, callId, true);
    view.setUint32(8, method, true);
    view.setUint32(12, payload?.length ?? 0, true);
    if (payload !== null) this.o.staging.bytes.set(payload, at + MESSAGE_HEADER_BYTES);
  }

  private finishCall(callId: number, status: FabricStatus, reply: Uint8Array | null, reason: string | null): void {
    const call = this.calls.get(callId);
    if (call === undefined) return;
    this.calls.delete(callId);
    call.done(status, status === 'ok' ? reply : null, reason);
  }

  private repost(slot: number): void {
    const at = slot * this.o.messageBytes;
    this.o.dataPath.postRecv(slot, this.o.recv.address + BigInt(at), this.o.recv.lkey, this.o.messageBytes);
  }

  private onRecv(slot: number, status: FabricStatus, byteLength: number, reason: string | null): void {
    if (status !== 'ok') {
      this.fail(status === 'error' ? 'error' : 'peer-lost', reason ?? 'receive failed');
      return;
    }
    const at = slot * this.o.messageBytes;
    const bytes = this.o.recv.bytes;
    let message: { kind: number; statusCode: number; callId: number; method: number; payload: Uint8Array } | null = null;
    if (slot < this.o.recvSlots && byteLength >= MESSAGE_HEADER_BYTES && byteLength <= this.o.messageBytes) {
      const view = new DataView(bytes.buffer, bytes.byteOffset + at, MESSAGE_HEADER_BYTES);
      const payloadLength = view.getUint32(12, true);
      if (MESSAGE_HEADER_BYTES + payloadLength === byteLength) {
        message = {
          kind: view.getUint8(0), statusCode: view.getUint8(1), callId: view.getUint32(4, true), method: view.getUint32(8, true),
          payload: bytes.slice(at + MESSAGE_HEADER_BYTES, at + byteLength),
        };
      }
    }
    // The buffer is copied out: give it back to the NIC before anything else can fail.
    if (slot < this.o.recvSlots && this.broken === null) this.repost(slot);
    if (message === null || (message.kind !== KIND_REQUEST && message.kind !== KIND_REPLY)) {
      this.counters.badMessages += 1;
      return;
    }
    if (message.kind === KIND_REPLY) {
      const replyStatus = STATUS_CODES[message.statusCode] ?? 'error';
      this.finishCall(message.callId, replyStatus, message.payload, replyStatus === 'ok' ? null : `the peer answered ${replyStatus}`);
      return;
    }
    this.serve(message.callId, message.method, message.payload);
  }

  private serve(callId: number, method: number, payload: Uint8Array): void {
    this.counters.rpcsServed += 1;
    const handler = this.handlers.get(method);
    let answered = false;
    const respond = (status: FabricStatus, reply?: Uint8Array): void => {
      if (answered) return;
      answered = true;
      this.pendingReplies.push({ callId, status, reply: status === 'ok' ? (reply ?? new Uint8Array(0)) : null });
      this.flushReplies();
    };
    if (handler === undefined) return respond('rejected');
    try {
      handler(payload, respond);
    } catch {
      respond('error');
    }
  }

  private flushReplies(): void {
    while (this.pendingReplies.length > 0 && this.broken === null && this.o.dataPath.freeSlotCount > 0) {
      const next = this.pendingReplies.shift();
      if (next === undefined) break;
      let reply = next.reply;
      let statusCode = STATUS_CODES.indexOf(next.status);
      if (reply !== null && MESSAGE_HEADER_BYTES + reply.length > this.peerMessageBytes) {
        reply = null;
        statusCode = STATUS_CODES.indexOf('error');
        this.counters.droppedReplies += 1;
      }
      const sent: WorkDone = () => this.flushReplies();
      if (!this.o.dataPath.begin(1, sent)) break;
      this.pushMessage(sent, KIND_REPLY, statusCode < 0 ? 4 : statusCode, next.callId, 0, reply);
      this.post();
    }
    if (this.pendingReplies.length > this.o.recvSlots) {
      this.counters.droppedReplies += this.pendingReplies.length - this.o.recvSlots;
      this.pendingReplies.length = this.o.recvSlots;
    }
  }
}
