// The verbs hot path: work requests are written into one preallocated native block (no struct
// marshalling per post), posted through the provider's post_send/post_recv taken from the
// context's ops table, and completions are read from a preallocated ibv_wc array filled by the
// provider's poll_cq. wr_id carries a slot index (low 32 bits) and a generation (high 32 bits), so
// a completion maps back to its callback without a per-request object, and a stale completion
// (of a request that already timed out) is recognised and dropped.
import koffi from 'koffi';
import type { FabricStatus } from '../../internal/fabric.js';
import { IbvSendFlags, IbvWrOpcode, LAYOUT_TABLE } from './abi.js';
import { VerbsError, errnoText } from './errors.js';
import type { NativePointer } from './library.js';
import type { VerbsOps } from './ops.js';
import { statusOfWc, wcStatusText } from './wc-status.js';

const SEND_WR = LAYOUT_TABLE.ibv_send_wr;
const RECV_WR = LAYOUT_TABLE.ibv_recv_wr;
const SGE = LAYOUT_TABLE.ibv_sge;
const WC = LAYOUT_TABLE.ibv_wc;
const SEND_WR_BYTES = SEND_WR.sizeBytes;
const SGE_BYTES = SGE.sizeBytes;
const WC_BYTES = WC.sizeBytes;
const O = {
  wrId: SEND_WR.offsets.wr_id,
  next: SEND_WR.offsets.next,
  sgList: SEND_WR.offsets.sg_list,
  numSge: SEND_WR.offsets.num_sge,
  opcode: SEND_WR.offsets.opcode,
  sendFlags: SEND_WR.offsets.send_flags,
  remoteAddr: SEND_WR.offsets['wr.rdma.remote_addr'],
  rkey: SEND_WR.offsets['wr.rdma.rkey'],
  recvNext: RECV_WR.offsets.next,
  recvSgList: RECV_WR.offsets.sg_list,
  recvNumSge: RECV_WR.offsets.num_sge,
  sgeAddr: SGE.offsets.addr,
  sgeLength: SGE.offsets.length,
  sgeLkey: SGE.offsets.lkey,
  wcStatus: WC.offsets.status,
  wcOpcode: WC.offsets.opcode,
  wcVendorErr: WC.offsets.vendor_err,
  wcByteLen: WC.offsets.byte_len,
} as const;

/** Bit 31 of the low wr_id word marks a receive; the rest of the word is the slot index. */
const RECV_TAG = 0x8000_0000;

const FREE = 0;
const ACTIVE = 1;
/** Completed early (software timeout or close) but the hardware may still touch its buffers. */
const ZOMBIE = 2;

/**
 * Completion of a send-queue work request: status, a reason for a non-ok status, and the slot the
 * request used (-1 when it was never posted). The slot, and its staging memory, stay reserved
 * until the callback returns, so a READ's data can be copied out of the staging slot inside it.
 */
export type WorkDone = (status: FabricStatus, reason: string | null, slot: number) => void;

/** Registered staging memory cut into one slot per outstanding request. */
export interface StagingArea {
  readonly address: NativePointer;
  readonly lkey: number;
  readonly bytes: Uint8Array;
  readonly slotBytes: number;
}

/** Completion of a receive: its slot, status, the received length, and a reason for a non-ok status. */
export type RecvDone = (slot: number, status: FabricStatus, byteLength: number, reason: string | null) => void;

/** One RDMA READ or WRITE between a registered local buffer and a remote MR. */
export interface RdmaRequest {
  /** Local registered address (inside a memory region with `lkey`). */
  readonly localAddress: NativePointer;
  readonly lkey: number;
  readonly lengthBytes: number;
  /** Remote virtual address (inside the peer's memory region with `rkey`). */
  readonly remoteAddress: NativePointer;
  readonly rkey: number;
}

/** Options of a {@link VerbsDataPath}. */
export interface VerbsDataPathOptions {
  readonly qp: NativePointer;
  readonly cq: NativePointer;
  readonly ops: VerbsOps;
  /** Bound on send-queue work requests posted and not yet completed (at most the QP's max_send_wr). */
  readonly maxOutstanding: number;
  /** Most work requests chained into one post (a vectored request). */
  readonly maxBatch: number;
  /** ibv_wc entries read per poll_cq call. */
  readonly pollBatch: number;
  /** Software deadline of a work request, after which it completes `timeout`. */
  readonly timeoutNs: number;
  /** Monotonic time in integer ns. */
  readonly nowNs: () => number;
  /** Runs a completion later (completions are never called from inside the posting call). */
  readonly defer: (fn: () => void) => void;
  /** Receives receive completions. */
  readonly onRecv?: RecvDone;
  /** Staging memory with at least `maxOutstanding` slots, used by `push` when no local buffer is given. */
  readonly staging?: StagingArea;
}

/** Counters of a data path. */
export interface VerbsDataPathCounters {
  posted: number;
  completedOk: number;
  completedFailed: number;
  busy: number;
  timedOut: number;
  staleCompletions: number;
  postErrors: number;
  recvCompletions: number;
}

function validateCount(name: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new VerbsError('invalid-option', `${name} must be an integer in [1, ${max}], got ${value}`);
  }
}

/**
 * Posting and completion of work requests on one RC queue pair and its completion queue, through
 * the provider's ops table. Send-queue requests (READ, WRITE, SEND) are bounded by
 * `maxOutstanding`; beyond it a request completes `busy`. Each completes exactly once, never
 * synchronously: from `poll()`, from `expire()` (software timeout), from `close()`, or deferred
 * when the post itself fails.
 */
export class VerbsDataPath {
  readonly counters: VerbsDataPathCounters = {
    posted: 0, completedOk: 0, completedFailed: 0, busy: 0, timedOut: 0, staleCompletions: 0, postErrors: 0, recvCompletions: 0,
  };
  private readonly qp: NativePointer;
  private readonly cq: NativePointer;
  private readonly ops: VerbsOps;
  private readonly options: VerbsDataPathOptions;
  private readonly block: NativePointer;
  private readonly mem: Buffer;
  private readonly sendWrBase: NativePointer;
  private readonly sendWrAddresses: NativePointer[];
  private readonly recvWrAddress: NativePointer;
  private readonly recvSgeOffset: number;
  private readonly badWrOffset: number;
  private readonly badWrAddress: NativePointer;
  private readonly wcOffset: number;
  private readonly wcAddress: NativePointer;
  private readonly slotState: Uint8Array;
  private readonly slotGeneration: Uint32Array;
  private readonly slotDeadlineNs: Float64Array;
  private readonly slotDone: (WorkDone | null)[];
  private readonly freeSlots: Int32Array;
  private freeCount: number;
  private activeCount = 0;
  private chainLength = 0;
  private closed = false;
  private readonly recvWrOffset: number;
  /** Receives receive completions (set by the channel that owns the receive buffers). */
  recvHandler: RecvDone | null;

  constructor(options: VerbsDataPathOptions) {
    this.recvHandler = options.onRecv ?? null;
    validateCount('maxOutstanding', options.maxOutstanding, 65536);
    validateCount('maxBatch', options.maxBatch, Math.min(1024, options.maxOutstanding));
    validateCount('pollBatch', options.pollBatch, 1024);
    if (options.staging !== undefined && options.staging.bytes.length < options.maxOutstanding * options.staging.slotBytes) {
      throw new VerbsError('invalid-option', `the staging area (${options.staging.bytes.length} bytes) is smaller than maxOutstanding × slotBytes`);
    }
    this.options = options;
    this.qp = options.qp;
    this.cq = options.cq;
    this.ops = options.ops;
    const batch = options.maxBatch;
    const sgeOffset = batch * SEND_WR_BYTES;
    const recvWrOffset = sgeOffset + batch * SGE_BYTES;
    this.recvWrOffset = recvWrOffset;
    this.recvSgeOffset = recvWrOffset + RECV_WR.sizeBytes;
    this.badWrOffset = this.recvSgeOffset + SGE_BYTES;
    this.wcOffset = this.badWrOffset + 8;
    const totalBytes = this.wcOffset + options.pollBatch * WC_BYTES;
    this.block = koffi.alloc('uint8_t', totalBytes) as NativePointer;
    this.mem = Buffer.from(koffi.view(this.block, totalBytes));
    this.mem.fill(0);
    this.sendWrBase = this.block;
    this.sendWrAddresses = [];
    for (let i = 0; i < batch; i += 1) {
      const wr = i * SEND_WR_BYTES;
      this.sendWrAddresses.push(this.block + BigInt(wr));
      // Fixed fields: each WR has its own single SGE; sg_list and num_sge never change.
      this.mem.writeBigUInt64LE(this.block + BigInt(sgeOffset + i * SGE_BYTES), wr + O.sgList);
      this.mem.writeInt32LE(1, wr + O.numSge);
    }
    this.recvWrAddress = this.block + BigInt(recvWrOffset);
    this.mem.writeBigUInt64LE(this.block + BigInt(this.recvSgeOffset), recvWrOffset + O.recvSgList);
    this.mem.writeInt32LE(1, recvWrOffset + O.recvNumSge);
    this.badWrAddress = this.block + BigInt(this.badWrOffset);
    this.wcAddress = this.block + BigInt(this.wcOffset);
    const slots = options.maxOutstanding;
    this.slotState = new Uint8Array(slots);
    this.slotGeneration = new Uint32Array(slots);
    this.slotDeadlineNs = new Float64Array(slots);
    this.slotDone = new Array<WorkDone | null>(slots).fill(null);
    this.freeSlots = new Int32Array(slots);
    for (let i = 0; i < slots; i += 1) this.freeSlots[i] = slots - 1 - i;
    this.freeCount = slots;
  }

  /** Send-queue requests posted and not completed yet (including timed-out ones the hardware still owns). */
  get outstanding(): number {
    return this.options.maxOutstanding - this.freeCount;
  }

  /** Send-queue slots free for new requests. */
  get freeSlotCount(): number {
    return this.closed ? 0 : this.freeCount;
  }

  /** Requests whose callback has not been called yet. */
  get pending(): number {
    return this.activeCount;
  }

  /** Whether close() was called. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Posts one RDMA READ (remote → local). */
  read(request: RdmaRequest, done: WorkDone): void {
    if (!this.begin(1, done)) return;
    this.push(IbvWrOpcode.RDMA_READ, done, request.lengthBytes, request.remoteAddress, request.rkey, request.localAddress, request.lkey);
    this.submit();
  }

  /** Posts one RDMA WRITE (local → remote). */
  write(request: RdmaRequest, done: WorkDone): void {
    if (!this.begin(1, done)) return;
    this.push(IbvWrOpcode.RDMA_WRITE, done, request.lengthBytes, request.remoteAddress, request.rkey, request.localAddress, request.lkey);
    this.submit();
  }

  /**
   * Starts a chain of `count` work requests (at most maxBatch). Returns false, and schedules `done`
   * with `busy` (not enough free slots), `rejected` (chain too long) or `peer-lost` (closed), when
   * the chain cannot be posted; then do not push.
   */
  begin(count: number, done: WorkDone): boolean {
    if (count < 1 || count > this.options.maxBatch) {
      this.fail(done, 'rejected', `a chain of ${count} work requests is outside [1, maxBatch ${this.options.maxBatch}]`);
      return false;
    }
    if (this.closed) {
      this.fail(done, 'peer-lost', 'the verbs endpoint is closed');
      return false;
    }
    if (count > this.freeCount) {
      this.counters.busy += 1;
      this.fail(done, 'busy', `${this.outstanding} work requests in flight (bound ${this.options.maxOutstanding}); retry after completions`);
      return false;
    }
    this.chainLength = 0;
    return true;
  }

  /**
   * Adds a work request (IbvWrOpcode) to the chain started by `begin` and returns its slot. The
   * local buffer defaults to the slot's staging memory (fill it before `submit` for WRITE and SEND).
   */
  push(opcode: number, done: WorkDone, lengthBytes: number, remoteAddress: NativePointer, rkey: number, localAddress?: NativePointer, lkey?: number): number {
    if (this.closed || this.chainLength >= this.options.maxBatch || this.freeCount === 0) {
      throw new VerbsError('invalid-option', 'push() beyond the chain admitted by begin()');
    }
    const slot = this.takeSlot(done);
    let address = localAddress;
    let key = lkey;
    if (address === undefined) {
      const staging = this.options.staging;
      if (staging === undefined) throw new VerbsError('invalid-option', 'push without a local buffer needs a staging area');
      address = staging.address + BigInt(slot * staging.slotBytes);
      key = staging.lkey;
    }
    const index = this.chainLength;
    if (index > 0) this.mem.writeBigUInt64LE(this.sendWrAddresses[index], (index - 1) * SEND_WR_BYTES + O.next);
    this.fillSend(index, slot, opcode, address, key ?? 0, lengthBytes, remoteAddress, rkey);
    this.chainLength += 1;
    return slot;
  }

  /** Byte offset of a slot's staging memory in `staging.bytes`. */
  stagingOffset(slot: number): number {
    return slot * (this.options.staging?.slotBytes ?? 0);
  }

  /** Posts the chain with one post_send call. */
  submit(): void {
    const count = this.chainLength;
    this.chainLength = 0;
    if (count > 0) this.postChain(count);
  }

  /**
   * Posts a receive into slot `slot` (an index chosen by the caller, below 2^31) of `lengthBytes`
   * at a registered local address. Its completion goes to `onRecv`. Throws on a post failure.
   */
  postRecv(slot: number, localAddress: NativePointer, lkey: number, lengthBytes: number): void {
    if (this.closed) throw new VerbsError('closed', 'the data path is closed; open a new endpoint');
    const wr = this.recvWrOffset;
    this.mem.writeUInt32LE((RECV_TAG | slot) >>> 0, wr);
    this.mem.writeUInt32LE(0, wr + 4);
    this.mem.writeBigUInt64LE(localAddress, this.recvSgeOffset + O.sgeAddr);
    this.mem.writeUInt32LE(lengthBytes, this.recvSgeOffset + O.sgeLength);
    this.mem.writeUInt32LE(lkey, this.recvSgeOffset + O.sgeLkey);
    this.mem.writeBigUInt64LE(0n, this.badWrOffset);
    const rc = this.ops.postRecv(this.qp, this.recvWrAddress, this.badWrAddress);
    if (rc !== 0) {
      this.counters.postErrors += 1;
      throw new VerbsError('verbs-call-failed', `post_recv failed with ${errnoText(rc)}; the receive queue is full or the QP is in the error state`, rc);
    }
  }

  /**
   * Polls the CQ once (up to pollBatch completions) and calls their callbacks. Returns the number
   * of completions read, or -1 when poll_cq failed. If a callback throws, the rest of the batch is
   * still dispatched and the first error is rethrown at the end.
   */
  poll(): number {
    if (this.closed) return 0;
    const n = this.ops.pollCq(this.cq, this.options.pollBatch, this.wcAddress);
    if (n <= 0) return n < 0 ? -1 : 0;
    let thrown: unknown = null;
    const mem = this.mem;
    for (let i = 0; i < n; i += 1) {
      const wc = this.wcOffset + i * WC_BYTES;
      const low = mem.readUInt32LE(wc);
      const high = mem.readUInt32LE(wc + 4);
      const wcStatus = mem.readInt32LE(wc + O.wcStatus);
      const status = statusOfWc(wcStatus);
      const reason = status === 'ok' ? null : `work completion ${wcStatusText(wcStatus)}, vendor_err 0x${mem.readUInt32LE(wc + O.wcVendorErr).toString(16)}`;
      try {
        if (low >= RECV_TAG) {
          this.counters.recvCompletions += 1;
          this.recvHandler?.(low - RECV_TAG, status, mem.readUInt32LE(wc + O.wcByteLen), reason);
        } else {
          this.complete(low, high, status, reason);
        }
      } catch (err) {
        thrown ??= err;
      }
    }
    if (thrown !== null) throw thrown;
    return n;
  }

  /** Completes `timeout` every request whose deadline passed; their slots stay reserved until the hardware completes them. */
  expire(nowNs: number): number {
    if (this.activeCount === 0) return 0;
    let expired = 0;
    for (let slot = 0; slot < this.slotState.length; slot += 1) {
      if (this.slotState[slot] !== ACTIVE || this.slotDeadlineNs[slot] > nowNs) continue;
      const done = this.slotDone[slot];
      this.slotState[slot] = ZOMBIE;
      this.slotDone[slot] = null;
      this.activeCount -= 1;
      this.counters.timedOut += 1;
      expired += 1;
      done?.('timeout', `no work completion within ${Math.round(this.options.timeoutNs / 1e6)} ms`, slot);
    }
    return expired;
  }

  /**
   * Completes every pending request with `status` (after the QP was destroyed or moved to the
   * error state, so the hardware no longer touches their buffers) and frees the native block.
   */
  close(status: FabricStatus = 'peer-lost', reason = 'the verbs endpoint was closed'): void {
    if (this.closed) return;
    this.closed = true;
    const pending: WorkDone[] = [];
    for (let slot = 0; slot < this.slotState.length; slot += 1) {
      const done = this.slotDone[slot];
      if (this.slotState[slot] === ACTIVE && done !== null) pending.push(done);
      this.slotState[slot] = FREE;
      this.slotDone[slot] = null;
    }
    this.activeCount = 0;
    this.freeCount = this.slotState.length;
    koffi.free(this.block);
    for (const done of pending) this.options.defer(() => done(status, reason, -1));
  }

  private fail(done: WorkDone, status: FabricStatus, reason: string | null): void {
    this.counters.completedFailed += 1;
    this.options.defer(() => done(status, reason, -1));
  }

  private takeSlot(done: WorkDone): number {
    this.freeCount -= 1;
    const slot = this.freeSlots[this.freeCount];
    this.slotState[slot] = ACTIVE;
    this.slotGeneration[slot] = (this.slotGeneration[slot] + 1) >>> 0;
    this.slotDeadlineNs[slot] = this.options.nowNs() + this.options.timeoutNs;
    this.slotDone[slot] = done;
    this.activeCount += 1;
    return slot;
  }

  private releaseSlot(slot: number): void {
    if (this.closed) return;
    this.slotState[slot] = FREE;
    this.slotDone[slot] = null;
    this.freeSlots[this.freeCount] = slot;
    this.freeCount += 1;
  }

  private fillSend(
    index: number, slot: number, opcode: number, localAddress: NativePointer, lkey: number, lengthBytes: number,
    remoteAddress: NativePointer, rkey: number,
  ): void {
    const mem = this.mem;
    const wr = index * SEND_WR_BYTES;
    mem.writeUInt32LE(slot, wr + O.wrId);
    mem.writeUInt32LE(this.slotGeneration[slot], wr + O.wrId + 4);
    mem.writeBigUInt64LE(0n, wr + O.next);
    mem.writeInt32LE(opcode, wr + O.opcode);
    mem.writeUInt32LE(IbvSendFlags.SIGNALED, wr + O.sendFlags);
    mem.writeBigUInt64LE(remoteAddress, wr + O.remoteAddr);
    mem.writeUInt32LE(rkey, wr + O.rkey);
    const sge = this.options.maxBatch * SEND_WR_BYTES + index * SGE_BYTES;
    mem.writeBigUInt64LE(localAddress, sge + O.sgeAddr);
    mem.writeUInt32LE(lengthBytes, sge + O.sgeLength);
    mem.writeUInt32LE(lkey, sge + O.sgeLkey);
  }

  private postChain(count: number): void {
    this.mem.writeBigUInt64LE(0n, this.badWrOffset);
    const rc = this.ops.postSend(this.qp, this.sendWrBase, this.badWrAddress);
    if (rc === 0) {
      this.counters.posted += count;
      return;
    }
    // WRs before bad_wr were posted and will complete; the rest failed and complete now (deferred).
    this.counters.postErrors += 1;
    const bad = this.mem.readBigUInt64LE(this.badWrOffset);
    const offset = bad - this.sendWrBase;
    const firstFailed = offset >= 0n && offset < BigInt(count * SEND_WR_BYTES) && offset % BigInt(SEND_WR_BYTES) === 0n ? Number(offset) / SEND_WR_BYTES : 0;
    this.counters.posted += firstFailed;
    const reason = `post_send failed with ${errnoText(rc)} (send queue full or QP not in RTS)`;
    for (let i = firstFailed; i < count; i += 1) {
      const slot = this.mem.readUInt32LE(i * SEND_WR_BYTES + O.wrId);
      const done = this.slotDone[slot];
      this.activeCount -= 1;
      this.releaseSlot(slot);
      if (done !== null) this.fail(done, 'error', reason);
    }
  }

  private complete(slot: number, generation: number, status: FabricStatus, reason: string | null): void {
    if (slot >= this.slotState.length || this.slotState[slot] === FREE || this.slotGeneration[slot] !== generation) {
      this.counters.staleCompletions += 1;
      return;
    }
    const done = this.slotDone[slot];
    if (this.slotState[slot] !== ACTIVE) {
      // Timed out earlier: the callback was called then; now the hardware is done with the slot.
      this.releaseSlot(slot);
      this.counters.staleCompletions += 1;
      return;
    }
    this.slotDone[slot] = null;
    this.activeCount -= 1;
    if (status === 'ok') this.counters.completedOk += 1;
    else this.counters.completedFailed += 1;
    try {
      done?.(status, reason, slot);
    } finally {
      this.releaseSlot(slot);
    }
  }
}
