import type { Backend, IoDone, IoStatus } from './types.js';

/** One stored copy: a slab on a node. Inactive once dropped, freed or lost. */
export class Replica {
  active = true;

  /** `epoch`: the node's registry health epoch when the slab was allocated. */
  constructor(readonly backend: Backend, readonly slab: number, readonly epoch: number) {}

  get nodeId(): string {
    return this.backend.nodeId;
  }
}

/** A ready set of slabs on distinct nodes (what the pool holds). */
export interface SlabSet {
  readonly replicas: Replica[];
  readonly sizeBytes: number;
}

export const OP_WRITE = 0;
export const OP_READ = 1;
export const OP_DISCARD = 2;

/** An accepted page operation. */
export class PageOp {
  remaining = 0;
  ok: Replica[] = [];
  tried: Replica[] = [];
  lastStatus: IoStatus = 'error';

  constructor(
    readonly kind: number,
    readonly page: number,
    readonly buf: Uint8Array | null,
    readonly done: IoDone | null,
  ) {}
}

/**
 * Re-replication of one slot onto a new slab. A page is marked when it must be copied (again);
 * at most one copy of a page is in flight, so copies of one page never land out of order.
 */
export class Rebuild {
  target: Replica | null = null;
  aborted = false;
  releaseTargetOnDrain = false;
  copiesInFlight = 0;
  /** Marked pages, including marked pages whose previous copy is still in flight. */
  pendingCopies = 0;
  private cursor = 0;
  readonly needsCopy: Uint8Array;
  private readonly copying: Uint8Array;

  constructor(readonly targetNodeId: string, pageCount: number) {
    this.needsCopy = new Uint8Array(pageCount);
    this.copying = new Uint8Array(pageCount);
  }

  /** The page (slot-local index) must be copied (again). */
  mark(local: number): void {
    if (this.needsCopy[local] === 0) {
      this.needsCopy[local] = 1;
      this.pendingCopies++;
    }
  }

  /** Take the next marked page with no copy in flight (now in flight), or -1. */
  next(): number {
    if (this.pendingCopies === 0) return -1;
    const n = this.needsCopy.length;
    for (let step = 0; step < n; step++) {
      const i = (this.cursor + step) % n;
      if (this.needsCopy[i] === 1 && this.copying[i] === 0) {
        this.needsCopy[i] = 0;
        this.copying[i] = 1;
        this.pendingCopies--;
        this.cursor = (i + 1) % n;
        return i;
      }
    }
    return -1;
  }

  /** The copy of a page taken with `next` is over (done, failed or skipped). */
  copyDone(local: number): void {
    this.copying[local] = 0;
  }
}

export const SLOT_UNBOUND = 0;
export const SLOT_BINDING = 1;
export const SLOT_BOUND = 2;

/** One slab-sized slot of a region. */
export class Slot {
  state = SLOT_UNBOUND;
  /** Active replicas (replaced, never mutated in place, so in-flight snapshots stay valid). */
  replicas: Replica[] = [];
  setSizeBytes = 0;
  liveCount = 0;
  writesInFlight = 0;
  readsInFlight = 0;
  copiesInFlight = 0;
  waiters: PageOp[] = [];
  rebuild: Rebuild | null = null;
  repairQueued = false;
  repairParked = false;
  /** Dropped replicas on live nodes, freed once no I/O is in flight on the slot. */
  deferredFrees: Replica[] = [];

  constructor(
    readonly index: number,
    readonly firstPage: number,
    readonly pageCount: number,
    readonly sizeBytes: number,
  ) {}

  ioIdle(): boolean {
    return this.writesInFlight === 0 && this.readsInFlight === 0 && this.copiesInFlight === 0;
  }
}
