// Simulated memory nodes and the dvs Backend port over the simulated fabric.
//
// Scaling: a simulated page stores an 8-byte "content" (u32 version, u32 page id) instead of its
// 4 KiB. The dvs regions of the simulator use 8 bytes per 4 KiB of real memory (a dvs page of
// 8 x blockPages bytes; slabs of realSlabBytes / 512), so one dvs byte stands for
// STORAGE_SCALE = 512 real bytes. Capacities and free space are reported to dvs in dvs bytes;
// the fabric charges every transfer for its real size (dvs length x 512).

import type { AllocDone, Backend, IoDone, IoStatus } from '@rackmem/dvs';
import type { Fabric, FabricOp, OpCompletion, OpStatus, RemoteEffect } from './fabric.js';
import { OpClass, OpKind } from './fabric.js';

/** Real bytes per stored (dvs) byte: 4096 real bytes per 8-byte content. */
export const STORAGE_SCALE = 512;
/** Bytes of stored content per 4 KiB page. */
export const CONTENT_BYTES = 8;

const RPC_ALLOC = 1;
const RPC_FREE = 2;

/** The storage of one memory node: slabs of scaled bytes, capacity, crash and restart. */
export class SimMemoryNode implements RemoteEffect {
  readonly slabs = new Map<number, Uint8Array>();
  usedBytes = 0;
  down = false;
  private nextSlab = 1;
  private firstSlabOfIncarnation = 1;

  /**
   * @param nodeId the node's name
   * @param host its host index in the fabric
   * @param capacityBytes capacity in dvs (scaled) bytes
   */
  constructor(readonly nodeId: string, readonly host: number, readonly capacityBytes: number) {}

  /** Free capacity in dvs bytes (0 while crashed). */
  freeBytes(): number {
    return this.down ? 0 : this.capacityBytes - this.usedBytes;
  }

  /** Real bytes held by live slabs. */
  get usedRealBytes(): number {
    return this.usedBytes * STORAGE_SCALE;
  }

  /** Crash: every slab is gone. */
  crash(): void {
    this.down = true;
    this.slabs.clear();
    this.usedBytes = 0;
  }

  /** Restart empty; slabs of earlier incarnations answer 'lost'. */
  restart(): void {
    this.down = false;
    this.slabs.clear();
    this.usedBytes = 0;
    this.firstSlabOfIncarnation = this.nextSlab;
  }

  /** Reserves a slab at call time (so free space reflects allocations in flight). */
  reserve(sizeBytes: number): number {
    if (this.down || sizeBytes > this.freeBytes()) return -1;
    const slab = this.nextSlab++;
    this.slabs.set(slab, new Uint8Array(sizeBytes));
    this.usedBytes += sizeBytes;
    return slab;
  }

  release(slab: number): void {
    const bytes = this.slabs.get(slab);
    if (bytes === undefined) return;
    this.slabs.delete(slab);
    this.usedBytes -= bytes.length;
  }

  /** The storage effect of an op, applied when the request is served. */
  apply(op: FabricOp): OpStatus {
    if (op.kind === OpKind.Rpc) {
      if (op.result === RPC_ALLOC) return op.slab > 0 && this.slabs.has(op.slab) ? 'ok' : op.slab > 0 ? 'peer-lost' : 'no-space';
      return 'ok';
    }
    const bytes = this.slabs.get(op.slab);
    if (bytes === undefined) return op.slab < this.firstSlabOfIncarnation ? 'lost' : 'error';
    const buffer = op.buffer as Uint8Array;
    const offset = op.offsetBytes;
    if (offset < 0 || offset + buffer.length > bytes.length) return 'error';
    if (op.kind === OpKind.Read) {
      for (let i = 0; i < buffer.length; i++) buffer[i] = bytes[offset + i];
    } else {
      bytes.set(buffer, offset);
    }
    return 'ok';
  }
}

/**
 * Context of a compute host's next storage operations, set by the pager around its dvs calls:
 * the queue class (prefetch reads queue behind demand) and the time the pager's CPU posts them.
 */
export interface ClassSelector {
  opClass: number;
  issueAtNs: number;
}

/**
 * The dvs Backend port of one memory node as seen from one compute host: every call becomes an
 * operation on the simulated fabric (one-sided READ / WRITE, RPC for alloc / free).
 */
export class SimRemoteBackend implements Backend, OpCompletion {
  readonly nodeId: string;

  constructor(
    private readonly fabric: Fabric,
    private readonly node: SimMemoryNode,
    private readonly computeHost: number,
    private readonly selector: ClassSelector,
    private readonly clock: { now(): number },
  ) {
    this.nodeId = node.nodeId;
  }

  capacityBytes(): number {
    return this.node.capacityBytes;
  }

  freeBytes(): number {
    return this.node.freeBytes();
  }

  alloc(sizeBytes: number, done: AllocDone): void {
    const op = this.newOp(OpKind.Rpc, 0);
    op.result = RPC_ALLOC;
    op.slab = this.fabric.isDown(this.node.host) ? -1 : this.node.reserve(sizeBytes);
    op.ctx = done;
    this.fabric.issue(op, this.now());
  }

  free(slab: number): void {
    this.node.release(slab);
    const op = this.newOp(OpKind.Rpc, 0);
    op.result = RPC_FREE;
    op.slab = slab;
    op.ctx = null;
    this.fabric.issue(op, this.now());
  }

  read(slab: number, offsetBytes: number, into: Uint8Array, done: IoDone): void {
    const op = this.newOp(OpKind.Read, into.length * STORAGE_SCALE);
    op.slab = slab;
    op.offsetBytes = offsetBytes;
    op.buffer = into;
    op.ctx = done;
    this.fabric.issue(op, this.now());
  }

  write(slab: number, offsetBytes: number, data: Uint8Array, done: IoDone): void {
    const op = this.newOp(OpKind.Write, data.length * STORAGE_SCALE);
    op.slab = slab;
    op.offsetBytes = offsetBytes;
    op.buffer = data;
    op.ctx = done;
    this.fabric.issue(op, this.now());
  }

  complete(op: FabricOp, status: OpStatus): void {
    const done = op.ctx;
    if (done === null) return;
    if (op.kind === OpKind.Rpc) {
      if (op.result === RPC_ALLOC && status !== 'ok' && op.slab > 0) this.node.release(op.slab);
      (done as AllocDone)(status as IoStatus, status === 'ok' ? op.slab : -1);
    } else {
      (done as IoDone)(status as IoStatus);
    }
  }

  /** Operations start when the pager posts them (its CPU may run ahead of the event time). */
  private now(): number {
    const t = this.clock.now();
    return this.selector.issueAtNs > t ? this.selector.issueAtNs : t;
  }

  private newOp(kind: number, bytes: number): FabricOp {
    const op = this.fabric.take();
    op.kind = kind;
    op.cls = kind === OpKind.Read ? this.selector.opClass : OpClass.Demand;
    op.src = this.computeHost;
    op.dst = this.node.host;
    op.bytes = bytes;
    op.effect = this.node;
    op.completion = this;
    return op;
  }
}
