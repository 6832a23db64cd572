import { DvsError } from './errors.js';
import { inSlabBounds, type AllocDone, type Backend, type IoDone, type IoStatus } from './types.js';

/** How a {@link MemoryNodeSet} delivers completions. */
export type DeliveryMode = 'immediate' | 'manual';

/** One node of a {@link MemoryNodeSet}. */
export interface MemoryNodeSpec {
  nodeId: string;
  capacityBytes: number;
}

/** Options of {@link MemoryNodeSet}. */
export interface MemoryNodeSetOptions {
  nodes: readonly MemoryNodeSpec[];
  /** 'immediate' completes inside the call; 'manual' queues until `deliver` (default 'immediate'). */
  delivery?: DeliveryMode;
  /** Bound on queued operations in 'manual' mode (default 100 000). */
  maxPendingOps?: number;
}

/** What a queued operation is, for tests that pick a delivery order. */
export interface PendingOpInfo {
  readonly nodeId: string;
  readonly kind: 'alloc' | 'read' | 'write';
}

interface PendingOp extends PendingOpInfo {
  readonly complete: () => void;
}

class MemoryNode implements Backend {
  readonly slabs = new Map<number, Uint8Array>();
  usedBytes = 0;
  failed = false;
  incarnation = 0;
  firstSlabOfIncarnation = 1;
  nextSlab = 1;

  constructor(readonly nodeId: string, private readonly capacity: number, private readonly set: MemoryNodeSet) {}

  capacityBytes(): number {
    return this.capacity;
  }

  freeBytes(): number {
    return this.failed ? 0 : this.capacity - this.usedBytes;
  }

  /** Status of an op issued in `incarnation` against `slab`, or the slab's bytes. */
  private resolve(incarnation: number, slab: number): IoStatus | Uint8Array {
    if (this.failed || incarnation !== this.incarnation) return 'peer-lost';
    const bytes = this.slabs.get(slab);
    if (bytes !== undefined) return bytes;
    return slab < this.firstSlabOfIncarnation ? 'lost' : 'error';
  }

  alloc(sizeBytes: number, done: AllocDone): void {
    const incarnation = this.incarnation;
    let status: IoStatus = 'ok';
    let slab = -1;
    if (this.failed) status = 'peer-lost';
    else if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0) status = 'error';
    else if (sizeBytes > this.freeBytes()) status = 'no-space';
    else {
      // Reserve at call time so free capacity reflects allocations still in flight.
      slab = this.nextSlab++;
      this.slabs.set(slab, new Uint8Array(sizeBytes));
      this.usedBytes += sizeBytes;
    }
    this.set.enqueue(this.nodeId, 'alloc', () => {
      if (status === 'ok' && (this.failed || incarnation !== this.incarnation)) {
        done('peer-lost', -1);
        return;
      }
      done(status, slab);
    });
  }

  free(slab: number): void {
    if (this.failed) return;
    const bytes = this.slabs.get(slab);
    if (bytes === undefined) return;
    this.slabs.delete(slab);
    this.usedBytes -= bytes.length;
  }

  read(slab: number, offsetBytes: number, into: Uint8Array, done: IoDone): void {
    const incarnation = this.incarnation;
    this.set.enqueue(this.nodeId, 'read', () => {
      const bytes = this.resolve(incarnation, slab);
      if (typeof bytes === 'string') {
        done(bytes);
        return;
      }
      if (!inSlabBounds(offsetBytes, into.length, bytes.length)) {
        done('error');
        return;
      }
      into.set(bytes.subarray(offsetBytes, offsetBytes + into.length));
      done('ok');
    });
  }

  write(slab: number, offsetBytes: number, data: Uint8Array, done: IoDone): void {
    const incarnation = this.incarnation;
    const copy = data.slice();
    this.set.enqueue(this.nodeId, 'write', () => {
      const bytes = this.resolve(incarnation, slab);
      if (typeof bytes === 'string') {
        done(bytes);
        return;
      }
      if (!inSlabBounds(offsetBytes, copy.length, bytes.length)) {
        done('error');
        return;
      }
      bytes.set(copy, offsetBytes);
      done('ok');
    });
  }

  fail(): void {
    this.failed = true;
    this.slabs.clear();
    this.usedBytes = 0;
  }

  restart(): void {
    this.failed = false;
    this.incarnation++;
    this.slabs.clear();
    this.usedBytes = 0;
    this.firstSlabOfIncarnation = this.nextSlab;
  }
}

/**
 * An in-memory set of memory nodes for tests and the simulator: per-node failure and restart,
 * and completions delivered immediately or, in 'manual' mode, one at a time in any order.
 */
export class MemoryNodeSet {
  /** One backend per node, in the order given. */
  readonly backends: readonly Backend[];
  private readonly nodes: MemoryNode[];
  private readonly byId = new Map<string, MemoryNode>();
  private readonly pending: PendingOp[] = [];
  private readonly delivery: DeliveryMode;
  private readonly maxPendingOps: number;

  constructor(options: MemoryNodeSetOptions) {
    this.delivery = options.delivery ?? 'immediate';
    this.maxPendingOps = options.maxPendingOps ?? 100_000;
    if (!Number.isSafeInteger(this.maxPendingOps) || this.maxPendingOps < 1) {
      throw new DvsError('invalid-option', `maxPendingOps must be a positive integer, got ${this.maxPendingOps}`);
    }
    this.nodes = options.nodes.map((spec) => {
      if (this.byId.has(spec.nodeId)) {
        throw new DvsError('duplicate-node', `node id '${spec.nodeId}' appears twice; give each node a distinct id`);
      }
      if (!Number.isSafeInteger(spec.capacityBytes) || spec.capacityBytes < 0) {
        throw new DvsError('invalid-option', `capacityBytes of '${spec.nodeId}' must be a non-negative safe integer`);
      }
      const node = new MemoryNode(spec.nodeId, spec.capacityBytes, this);
      this.byId.set(spec.nodeId, node);
      return node;
    });
    this.backends = this.nodes;
  }

  /** The backend of one node. */
  backend(nodeId: string): Backend {
    return this.node(nodeId);
  }

  /** Crash a node: its slabs are gone, pending and future operations complete with 'peer-lost'. */
  fail(nodeId: string): void {
    this.node(nodeId).fail();
  }

  /** Bring a node back empty and healthy; operations issued before the restart still fail. */
  restart(nodeId: string): void {
    this.node(nodeId).restart();
  }

  /** Whether the node is currently failed. */
  isFailed(nodeId: string): boolean {
    return this.node(nodeId).failed;
  }

  /** Bytes held by live slabs on the node. */
  usedBytes(nodeId: string): number {
    return this.node(nodeId).usedBytes;
  }

  /** Number of live slabs on the node. */
  slabCount(nodeId: string): number {
    return this.node(nodeId).slabs.size;
  }

  /** Number of queued operations ('manual' mode). */
  pendingCount(): number {
    return this.pending.length;
  }

  /** What the i-th queued operation is. */
  pendingOp(index: number): PendingOpInfo {
    const op = this.pending[index];
    if (op === undefined) throw new DvsError('no-pending-op', `no pending operation at index ${index}; check pendingCount()`);
    return { nodeId: op.nodeId, kind: op.kind };
  }

  /** Deliver the i-th queued operation (any order a test likes). */
  deliver(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.pending.length) {
      throw new DvsError('no-pending-op', `no pending operation at index ${index}; check pendingCount()`);
    }
    const [op] = this.pending.splice(index, 1);
    op.complete();
  }

  /** Deliver queued operations in order until none is left (including ones queued meanwhile). */
  deliverAll(maxSteps = 10_000_000): number {
    let steps = 0;
    while (this.pending.length > 0) {
      if (steps >= maxSteps) {
        throw new DvsError('pending-queue-full', `deliverAll did not drain within ${maxSteps} steps; something re-queues forever`);
      }
      const op = this.pending.shift() as PendingOp;
      op.complete();
      steps++;
    }
    return steps;
  }

  /** @internal */
  enqueue(nodeId: string, kind: PendingOpInfo['kind'], complete: () => void): void {
    if (this.delivery === 'immediate') {
      complete();
      return;
    }
    if (this.pending.length >= this.maxPendingOps) {
      throw new DvsError(
        'pending-queue-full',
        `more than ${this.maxPendingOps} operations are pending; deliver some or raise maxPendingOps`,
      );
    }
    this.pending.push({ nodeId, kind, complete });
  }

  private node(nodeId: string): MemoryNode {
    const node = this.byId.get(nodeId);
    if (node === undefined) throw new DvsError('unknown-node', `no node '${nodeId}' in this MemoryNodeSet`);
    return node;
  }
}
