// A fake RDMA NIC for tests without hardware: a koffi.alloc'ed ibv_context whose ops table holds
// koffi-registered JS implementations of post_send, post_recv and poll_cq, plus fake ibv_qp and
// ibv_cq objects pointing at it. The real binding (ops-table decoding, VerbsDataPath, VerbsChannel)
// runs unchanged against it: the fake decodes work requests from raw native memory (the chain,
// sge lists, opcode, remote_addr, rkey), moves the bytes between registered buffers, and writes
// 48-byte ibv_wc records back. Always call close(): registered callbacks are a limited resource.
import koffi from 'koffi';
import { IBV_CONTEXT_OPS_OFFSETS, IBV_OBJECT_SIZES, IbvLinkLayer, IbvMtu, IbvPortState, IbvQpState, IbvWcOpcode, IbvWcStatus, IbvWrOpcode, IbvSendFlags, LAYOUT_TABLE } from './abi.js';
import { callError } from './errors.js';
import type { VerbsHca } from './hca.js';
import type { NativePointer } from './library.js';
import { allocNativeBlock, type MemoryRegistrar, type RegisteredBuffer } from './memory.js';
import { forgetContextOps } from './ops.js';
import type { QpCapacity, QpTransition } from './queue-pair.js';
import { verbsTypes } from './structs.js';

const W = LAYOUT_TABLE.ibv_send_wr.offsets;
const R = LAYOUT_TABLE.ibv_recv_wr.offsets;
const S = LAYOUT_TABLE.ibv_sge.offsets;
const C = LAYOUT_TABLE.ibv_wc.offsets;
const WC_BYTES = LAYOUT_TABLE.ibv_wc.sizeBytes;

/** A completion the fake queued. */
interface FakeCompletion {
  readonly wrIdLow: number;
  readonly wrIdHigh: number;
  readonly status: number;
  readonly opcode: number;
  readonly byteLength: number;
  readonly qpNum: number;
}

/** A work request as the fake decoded it from native memory (for assertions). */
export interface DecodedWorkRequest {
  readonly wrIdLow: number;
  readonly wrIdHigh: number;
  readonly opcode: number;
  readonly sendFlags: number;
  readonly remoteAddress: bigint;
  readonly rkey: number;
  readonly sges: readonly { address: bigint; length: number; lkey: number }[];
}

interface Region {
  readonly base: bigint;
  readonly bytes: Uint8Array;
}

interface FakeQp {
  readonly qp: NativePointer;
  readonly cq: FakeCq;
  readonly qpn: number;
  peer: FakeQp | null;
  /** Made through a fake device: follows RC rules (must be connected; ERR flushes; a gone peer fails). */
  readonly managed: boolean;
  /** IbvQpState value (managed QPs). */
  state: number;
  destroyed: boolean;
  readonly recvQueue: { wrIdLow: number; wrIdHigh: number; address: bigint; length: number; lkey: number }[];
}

interface FakeCq {
  readonly cq: NativePointer;
  readonly queue: FakeCompletion[];
  maxQueued: number;
}

/** A QP/CQ pair made by the fake. */
export interface FakeQueuePair {
  readonly qp: NativePointer;
  readonly cq: NativePointer;
  readonly qpn: number;
}

/** The fake NIC (see the module comment). */
export class FakeVerbsNic {
  /** The fake ibv_context (328 bytes). */
  readonly context: NativePointer;
  /** Every work request posted, decoded. */
  readonly posted: DecodedWorkRequest[] = [];
  /** Calls of the fake post_send and poll_cq (the tests check the binding went through the ops table). */
  postSendCalls = 0;
  pollCalls = 0;
  /** When set, the next post_send returns this errno (with bad_wr at the first WR) and is cleared. */
  nextPostSendErrno = 0;
  /** Statuses forced onto the next completions (FIFO); the data does not move for those. */
  readonly forcedStatuses: number[] = [];
  /** When true, completions are held back from poll_cq until `releaseCompletions()`. */
  holdCompletions = false;
  /**
   * How many of the next → RTR transitions of managed QPs fail with EINVAL, as a path-MTU or GID
   * mismatch would (`Infinity`: all of them). Counts down; `refusedRtr` counts the refusals.
   */
  refuseRtr = 0;
  refusedRtr = 0;
  private readonly callbacks: bigint[] = [];
  private readonly allocations: NativePointer[] = [];
  private readonly regions = new Map<number, Region>();
  private readonly buffers: RegisteredBuffer[] = [];
  private readonly qps = new Map<NativePointer, FakeQp>();
  private readonly cqs = new Map<NativePointer, FakeCq>();
  private nextKey = 0x1000;
  private nextQpn = 0x100;
  private nextFakeBase = 0x5a00_0000_0000n;
  private closed = false;

  constructor() {
    const { protos } = verbsTypes();
    this.context = this.alloc(IBV_OBJECT_SIZES.context);
    const postSend = koffi.register((qp: NativePointer, wr: NativePointer, bad: NativePointer) => this.postSend(qp, wr, bad), koffi.pointer(protos.postSend));
    const postRecv = koffi.register((qp: NativePointer, wr: NativePointer, bad: NativePointer) => this.postRecv(qp, wr, bad), koffi.pointer(protos.postRecv));
    const pollCq = koffi.register((cq: NativePointer, n: number, wc: NativePointer) => this.pollCq(cq, n, wc), koffi.pointer(protos.pollCq));
    this.callbacks.push(postSend, postRecv, pollCq);
    koffi.encode(this.context, IBV_CONTEXT_OPS_OFFSETS.postSend, 'void *', postSend);
    koffi.encode(this.context, IBV_CONTEXT_OPS_OFFSETS.postRecv, 'void *', postRecv);
    koffi.encode(this.context, IBV_CONTEXT_OPS_OFFSETS.pollCq, 'void *', pollCq);
  }

  /** Creates a fake ibv_qp (160 bytes) and its own ibv_cq (128 bytes), both pointing at the context. */
  createQueuePair(): FakeQueuePair {
    const cqPtr = this.alloc(IBV_OBJECT_SIZES.cq);
    koffi.encode(cqPtr, LAYOUT_TABLE.ibv_cq.offsets.context, 'void *', this.context);
    const qpPtr = this.alloc(IBV_OBJECT_SIZES.qp);
    koffi.encode(qpPtr, LAYOUT_TABLE.ibv_qp.offsets.context, 'void *', this.context);
    const qpn = this.nextQpn++;
    koffi.encode(qpPtr, LAYOUT_TABLE.ibv_qp.offsets.qp_num, 'uint32_t', qpn);
    const cq: FakeCq = { cq: cqPtr, queue: [], maxQueued: 0 };
    this.cqs.set(cqPtr, cq);
    this.qps.set(qpPtr, { qp: qpPtr, cq, qpn, peer: null, recvQueue: [], managed: false, state: IbvQpState.RTS, destroyed: false });
    return { qp: qpPtr, cq: cqPtr, qpn };
  }

  /**
   * A fake opened device on this NIC, for running RdmaTransport, VerbsEndpoint and VerbsFabric
   * without hardware. Several devices of one NIC reach each other: a QP moved to RTR connects to
   * the QP whose number is `dest_qp_num` (SENDs land in its receive queue; READ/WRITE reach any
   * memory registered with the NIC by rkey). RC failures are modelled: a QP in ERR completes its
   * work requests WR_FLUSH_ERR; once its peer QP is destroyed or in ERR, they complete
   * RETRY_EXC_ERR (peer lost). `close()` of the device is a no-op; close the NIC.
   */
  device(name = 'fake0'): VerbsHca {
    const gid = new Uint8Array(16);
    gid[15] = this.nextQpn & 0xff;
    return {
      name, context: this.context, gid, gidIndex: 0, isRoce: false, registrar: this.registrar(),
      port: { portNum: 1, state: IbvPortState.ACTIVE, lid: 1, linkLayer: IbvLinkLayer.INFINIBAND, activeMtu: IbvMtu.MTU_4096 },
      createCq: () => {
        const cqPtr = this.alloc(IBV_OBJECT_SIZES.cq);
        koffi.encode(cqPtr, LAYOUT_TABLE.ibv_cq.offsets.context, 'void *', this.context);
        this.cqs.set(cqPtr, { cq: cqPtr, queue: [], maxQueued: 0 });
        return cqPtr;
      },
      destroyCq: (cq) => void this.cqs.delete(cq),
      createRcQp: (cqPtr: NativePointer, _capacity: QpCapacity) => {
        const cq = this.cqs.get(cqPtr);
        if (cq === undefined) throw callError('ibv_create_qp (fake)', 22, 'unknown CQ');
        const qpPtr = this.alloc(IBV_OBJECT_SIZES.qp);
        koffi.encode(qpPtr, LAYOUT_TABLE.ibv_qp.offsets.context, 'void *', this.context);
        const qpn = this.nextQpn++;
        koffi.encode(qpPtr, LAYOUT_TABLE.ibv_qp.offsets.qp_num, 'uint32_t', qpn);
        this.qps.set(qpPtr, { qp: qpPtr, cq, qpn, peer: null, recvQueue: [], managed: true, state: IbvQpState.RESET, destroyed: false });
        return { qp: qpPtr, qpn };
      },
      destroyQp: (qpPtr) => {
        const qp = this.qps.get(qpPtr);
        if (qp === undefined) return;
        qp.destroyed = true;
        this.qps.delete(qpPtr);
      },
      modifyQp: (qpPtr: NativePointer, transition: QpTransition) => {
        const qp = this.qps.get(qpPtr);
        if (qp === undefined) throw callError(`ibv_modify_qp(→${transition.state}) (fake)`, 22, 'unknown QP');
        const state = transition.attr.qp_state as number;
        if (state === IbvQpState.RTR && this.refuseRtr > 0) {
          this.refuseRtr -= 1;
          this.refusedRtr += 1;
          throw callError('ibv_modify_qp(→RTR) (fake)', 22, 'refused by the test (as a path MTU or GID mismatch would be)');
        }
        if (state === IbvQpState.RTR) {
          const destQpn = transition.attr.dest_qp_num as number;
          const peer = [...this.qps.values()].find((q) => q.qpn === destQpn && q.managed);
          if (peer === undefined) throw callError(`ibv_modify_qp(→RTR) (fake)`, 22, `no QP ${destQpn} on the fake NIC`);
          qp.peer = peer;
        }
        qp.state = state;
      },
      close: () => undefined,
    };
  }

  /** Forces a managed QP (by number) into the error state, as a failing link would. */
  breakQueuePair(qpn: number): void {
    for (const qp of this.qps.values()) if (qp.qpn === qpn) qp.state = IbvQpState.ERR;
  }

  /** Connects two fake QPs (SENDs of one land in the other's receive queue). */
  connect(a: FakeQueuePair, b: FakeQueuePair): void {
    const qa = this.qps.get(a.qp);
    const qb = this.qps.get(b.qp);
    if (qa === undefined || qb === undefined) throw new Error('unknown fake QP');
    qa.peer = qb;
    qb.peer = qa;
  }

  /** Exposes a JS-owned buffer as a remote memory region at a fake address; returns its rkey and address. */
  exposeRemote(bytes: Uint8Array): { rkey: number; address: number } {
    const key = this.nextKey++;
    const base = this.nextFakeBase;
    this.nextFakeBase += 0x1_0000_0000n;
    this.regions.set(key, { base, bytes });
    return { rkey: key, address: Number(base) };
  }

  /** A registrar whose buffers are real native memory registered with this fake (lkey = rkey). */
  registrar(): MemoryRegistrar {
    return {
      register: (sizeBytes: number) => {
        const block = allocNativeBlock(sizeBytes);
        const key = this.nextKey++;
        this.regions.set(key, { base: block.address, bytes: block.bytes });
        let released = false;
        const buffer: RegisteredBuffer = {
          address: block.address, sizeBytes, bytes: block.bytes, lkey: key, rkey: key,
          release: () => {
            if (released) return;
            released = true;
            this.regions.delete(key);
            block.free();
          },
        };
        this.buffers.push(buffer);
        return buffer;
      },
    };
  }

  /** Most completions that sat in one CQ unpolled. */
  maxQueuedCompletions(cq: NativePointer): number {
    return this.cqs.get(cq)?.maxQueued ?? 0;
  }

  /** Completions waiting in a CQ. */
  queuedCompletions(cq: NativePointer): number {
    return this.cqs.get(cq)?.queue.length ?? 0;
  }

  /** Lets held completions be polled. */
  releaseCompletions(): void {
    this.holdCompletions = false;
  }

  /** Unregisters the callbacks and frees the fake objects and registered buffers. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    // The context's address may be reused by the next allocation: drop its cached ops first.
    forgetContextOps(this.context);
    for (const cb of this.callbacks) koffi.unregister(cb);
    this.callbacks.length = 0;
    for (const buffer of this.buffers) buffer.release();
    for (const p of this.allocations) koffi.free(p);
    this.allocations.length = 0;
  }

  private alloc(sizeBytes: number): NativePointer {
    const p = koffi.alloc('uint8_t', sizeBytes) as NativePointer;
    koffi.encode(p, koffi.array('uint8_t', sizeBytes), new Array<number>(sizeBytes).fill(0));
    this.allocations.push(p);
    return p;
  }

  private resolve(address: bigint, key: number, length: number): Uint8Array | null {
    const region = this.regions.get(key);
    if (region === undefined) return null;
    const offset = address - region.base;
    if (offset < 0n || offset + BigInt(length) > BigInt(region.bytes.length)) return null;
    return region.bytes.subarray(Number(offset), Number(offset) + length);
  }

  private decodeSges(list: NativePointer | null, count: number): { address: bigint; length: number; lkey: number }[] {
    const sges = [];
    for (let i = 0; i < count && list !== null; i += 1) {
      const at = i * LAYOUT_TABLE.ibv_sge.sizeBytes;
      sges.push({
        address: (koffi.decode(list, at + S.addr, 'void *') as bigint | null) ?? 0n,
        length: koffi.decode(list, at + S.length, 'uint32_t') as number,
        lkey: koffi.decode(list, at + S.lkey, 'uint32_t') as number,
      });
    }
    return sges;
  }

  private postSend(qpPtr: NativePointer, first: NativePointer, bad: NativePointer): number {
    this.postSendCalls += 1;
    const qp = this.qps.get(qpPtr);
    if (qp === undefined) return 22;
    if (this.nextPostSendErrno !== 0) {
      const errno = this.nextPostSendErrno;
      this.nextPostSendErrno = 0;
      koffi.encode(bad, 0, 'void *', first);
      return errno;
    }
    for (let wr: NativePointer | null = first; wr !== null; wr = koffi.decode(wr, W.next, 'void *') as NativePointer | null) {
      const decoded: DecodedWorkRequest = {
        wrIdLow: koffi.decode(wr, W.wr_id, 'uint32_t') as number,
        wrIdHigh: koffi.decode(wr, W.wr_id + 4, 'uint32_t') as number,
        opcode: koffi.decode(wr, W.opcode, 'int') as number,
        sendFlags: koffi.decode(wr, W.send_flags, 'uint32_t') as number,
        remoteAddress: (koffi.decode(wr, W['wr.rdma.remote_addr'], 'void *') as bigint | null) ?? 0n,
        rkey: koffi.decode(wr, W['wr.rdma.rkey'], 'uint32_t') as number,
        sges: this.decodeSges(koffi.decode(wr, W.sg_list, 'void *') as NativePointer | null, koffi.decode(wr, W.num_sge, 'int') as number),
      };
      this.posted.push(decoded);
      const { status, wcOpcode, byteLength } = this.execute(qp, decoded);
      if ((decoded.sendFlags & IbvSendFlags.SIGNALED) !== 0 || status !== IbvWcStatus.SUCCESS) {
        this.enqueue(qp.cq, { wrIdLow: decoded.wrIdLow, wrIdHigh: decoded.wrIdHigh, status, opcode: wcOpcode, byteLength, qpNum: qp.qpn });
      }
    }
    return 0;
  }

  private execute(qp: FakeQp, wr: DecodedWorkRequest): { status: number; wcOpcode: number; byteLength: number } {
    const wcOpcode = wr.opcode === IbvWrOpcode.RDMA_READ ? IbvWcOpcode.RDMA_READ : wr.opcode === IbvWrOpcode.SEND ? IbvWcOpcode.SEND : IbvWcOpcode.RDMA_WRITE;
    const forced = this.forcedStatuses.shift();
    if (forced !== undefined) return { status: forced, wcOpcode, byteLength: 0 };
    if (qp.managed) {
      if (qp.state === IbvQpState.ERR) return { status: IbvWcStatus.WR_FLUSH_ERR, wcOpcode, byteLength: 0 };
      if (qp.state !== IbvQpState.RTS) return { status: IbvWcStatus.LOC_QP_OP_ERR, wcOpcode, byteLength: 0 };
      const peer = qp.peer;
      if (peer === null || peer.destroyed || peer.state === IbvQpState.ERR) return { status: IbvWcStatus.RETRY_EXC_ERR, wcOpcode, byteLength: 0 };
    }
    const total = wr.sges.reduce((sum, sge) => sum + sge.length, 0);
    const locals = wr.sges.map((sge) => this.resolve(sge.address, sge.lkey, sge.length));
    if (locals.some((l) => l === null)) return { status: IbvWcStatus.LOC_PROT_ERR, wcOpcode, byteLength: 0 };
    const local = locals as Uint8Array[];
    if (wr.opcode === IbvWrOpcode.SEND) {
      const peer = qp.peer;
      const recv = peer?.recvQueue.shift();
      if (peer === null || recv === undefined) return { status: IbvWcStatus.RNR_RETRY_EXC_ERR, wcOpcode, byteLength: 0 };
      const into = this.resolve(recv.address, recv.lkey, recv.length);
      if (into === null || total > recv.length) {
        this.enqueue(peer.cq, { wrIdLow: recv.wrIdLow, wrIdHigh: recv.wrIdHigh, status: IbvWcStatus.LOC_LEN_ERR, opcode: IbvWcOpcode.RECV, byteLength: 0, qpNum: peer.qpn });
        return { status: IbvWcStatus.REM_INV_REQ_ERR, wcOpcode, byteLength: 0 };
      }
      let at = 0;
      for (const part of local) {
        into.set(part, at);
        at += part.length;
      }
      this.enqueue(peer.cq, { wrIdLow: recv.wrIdLow, wrIdHigh: recv.wrIdHigh, status: IbvWcStatus.SUCCESS, opcode: IbvWcOpcode.RECV, byteLength: total, qpNum: peer.qpn });
      return { status: IbvWcStatus.SUCCESS, wcOpcode, byteLength: total };
    }
    const remote = this.resolve(wr.remoteAddress, wr.rkey, total);
    if (remote === null) return { status: IbvWcStatus.REM_ACCESS_ERR, wcOpcode, byteLength: 0 };
    let at = 0;
    for (const part of local) {
      if (wr.opcode === IbvWrOpcode.RDMA_READ) part.set(remote.subarray(at, at + part.length));
      else remote.set(part, at);
      at += part.length;
    }
    return { status: IbvWcStatus.SUCCESS, wcOpcode, byteLength: total };
  }

  private enqueue(cq: FakeCq, completion: FakeCompletion): void {
    cq.queue.push(completion);
    cq.maxQueued = Math.max(cq.maxQueued, cq.queue.length);
  }

  private postRecv(qpPtr: NativePointer, first: NativePointer, bad: NativePointer): number {
    const qp = this.qps.get(qpPtr);
    if (qp === undefined) {
      koffi.encode(bad, 0, 'void *', first);
      return 22;
    }
    for (let wr: NativePointer | null = first; wr !== null; wr = koffi.decode(wr, R.next, 'void *') as NativePointer | null) {
      const [sge] = this.decodeSges(koffi.decode(wr, R.sg_list, 'void *') as NativePointer | null, koffi.decode(wr, R.num_sge, 'int') as number);
      qp.recvQueue.push({
        wrIdLow: koffi.decode(wr, R.wr_id, 'uint32_t') as number, wrIdHigh: koffi.decode(wr, R.wr_id + 4, 'uint32_t') as number,
        address: sge.address, length: sge.length, lkey: sge.lkey,
      });
    }
    return 0;
  }

  private pollCq(cqPtr: NativePointer, max: number, wc: NativePointer): number {
    this.pollCalls += 1;
    const cq = this.cqs.get(cqPtr);
    if (cq === undefined) return -1;
    if (this.holdCompletions) return 0;
    const n = Math.min(max, cq.queue.length);
    if (n === 0) return 0;
    const out = Buffer.from(koffi.view(wc, n * WC_BYTES));
    out.fill(0);
    for (let i = 0; i < n; i += 1) {
      const c = cq.queue.shift() as FakeCompletion;
      const at = i * WC_BYTES;
      out.writeUInt32LE(c.wrIdLow, at + C.wr_id);
      out.writeUInt32LE(c.wrIdHigh, at + C.wr_id + 4);
      out.writeInt32LE(c.status, at + C.status);
      out.writeInt32LE(c.opcode, at + C.opcode);
      out.writeUInt32LE(c.byteLength, at + C.byte_len);
      out.writeUInt32LE(c.qpNum, at + C.qp_num);
    }
    return n;
  }
}
