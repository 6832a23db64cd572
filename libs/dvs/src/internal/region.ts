import * as K from './counters.js';
import { DvsError } from './errors.js';
import { NodeRegistry, type NodeHealth } from './node-registry.js';
import { validateRegionOptions, type DvsRegionListener, type DvsRegionOptions, type RegionGeometry } from './options.js';
import { createPlacement, type Placement } from './placement.js';
import {
  OP_DISCARD,
  OP_READ,
  OP_WRITE,
  PageOp,
  Rebuild,
  Replica,
  SLOT_BINDING,
  SLOT_BOUND,
  SLOT_UNBOUND,
  Slot,
  type SlabSet,
} from './slot.js';
import type { Backend, IoDone, IoStatus } from './types.js';

const LIVE = 1;
const LOST = 2;
const BUSY = 4;

/** Point-in-time gauges of a region. */
export interface DvsGauges {
  readonly slotCount: number;
  readonly slotsBound: number;
  readonly slotsBinding: number;
  readonly poolSets: number;
  readonly livePages: number;
  readonly lostPages: number;
  readonly degradedSlots: number;
  readonly rebuildingSlots: number;
  readonly parkedRepairs: number;
  readonly copiesInFlight: number;
  readonly pendingOps: number;
  readonly backendOpsInFlight: number;
}

/** Where one slot's data is, for tests and diagnostics. */
export interface DvsSlotInfo {
  readonly state: 'unbound' | 'binding' | 'bound';
  readonly nodeIds: readonly string[];
  readonly liveCount: number;
  readonly rebuilding: boolean;
}

function releasable(status: IoStatus): boolean {
  return status !== 'peer-lost' && status !== 'lost';
}

/**
 * A region: a byte space of pages cut into slab-sized slots, bound lazily to slab sets on
 * the first write, with a background pool, placement, replication and exact live-page
 * accounting. I/O-free: it calls the Backend port and reacts to completions.
 */
export class DvsRegion {
  readonly sizeBytes: number;
  readonly pageSizeBytes: number;
  readonly slabSizeBytes: number;
  readonly replication: number;
  readonly pageCount: number;
  readonly slotCount: number;
  /** Pool low water (sets): refill when the pool holds fewer. */
  readonly lowWaterSets: number;
  /** Sets allocated per refill. */
  readonly refillSets: number;

  private readonly geo: RegionGeometry;
  private readonly registry: NodeRegistry;
  private readonly placement: Placement;
  private readonly listener: DvsRegionListener | undefined;
  private readonly flags: Uint8Array;
  private readonly slots: Slot[];
  private readonly ctr = K.createCounterArray();
  private pool: SlabSet[] = [];
  private readonly waiting = new Map<number, PageOp[]>();
  private pendingOps = 0;
  private backendInflight = 0;
  private refillInflight = 0;
  private boundSlots = 0;
  private bindingSlots = 0;
  private livePages = 0;
  private lostPages = 0;
  private repairQueue: Slot[] = [];
  private parked: Slot[] = [];
  private rebuilding: Slot[] = [];
  private rebuildCursor = 0;
  private readonly freeBuffers: Uint8Array[] = [];
  private buffersOut = 0;
  private pumping = false;
  private pumpAgain = false;
  private closing = false;
  private closed = false;
  private closeDone: IoDone | null = null;
  private readonly unsubscribe: () => void;

  constructor(options: DvsRegionOptions) {
    this.geo = validateRegionOptions(options);
    const g = this.geo;
    this.sizeBytes = g.sizeBytes;
    this.pageSizeBytes = g.pageSizeBytes;
    this.slabSizeBytes = g.slabSizeBytes;
    this.replication = g.replication;
    this.pageCount = g.pageCount;
    this.slotCount = g.slotCount;
    this.lowWaterSets = g.lowWaterSets;
    this.refillSets = g.refillSets;
    this.registry = Array.isArray(options.nodes) ? new NodeRegistry(options.nodes as readonly Backend[]) : (options.nodes as NodeRegistry);
    this.placement = createPlacement(options.placement ?? 'round-robin', this.registry, options.random);
    this.listener = options.listener;
    this.flags = new Uint8Array(g.pageCount);
    this.slots = [];
    for (let i = 0; i < g.slotCount; i++) {
      const firstPage = i * g.pagesPerSlab;
      const pages = Math.min(g.pagesPerSlab, g.pageCount - firstPage);
      this.slots.push(new Slot(i, firstPage, pages, pages * g.pageSizeBytes));
    }
    this.unsubscribe = this.registry.subscribe((nodeId, health) => this.onNodeHealth(nodeId, health));
  }

  // ---------------------------------------------------------------- public API

  /** Read a live page into `into` (one page long). Completes 'not-found' if never written or discarded, 'lost' if lost. */
  readPage(page: number, into: Uint8Array, done: IoDone): void {
    this.admit(page, into);
    this.submit(new PageOp(OP_READ, page, into, done));
  }

  /** Store a page (one page long); the page is live once this completes 'ok'. Keep `data` unchanged until done. */
  writePage(page: number, data: Uint8Array, done: IoDone): void {
    this.admit(page, data);
    this.submit(new PageOp(OP_WRITE, page, data, done));
  }

  /** The caller no longer needs the stored copy of `page` (applied after earlier operations on the page). */
  discardPage(page: number): void {
    this.admit(page, null);
    this.submit(new PageOp(OP_DISCARD, page, null, null));
  }

  /** Whether the page holds stored data. */
  isLive(page: number): boolean {
    this.checkPage(page);
    return (this.flags[page] & LIVE) !== 0;
  }

  /** Whether the page's data was lost (and not rewritten or discarded since). */
  isLost(page: number): boolean {
    this.checkPage(page);
    return (this.flags[page] & LOST) !== 0;
  }

  /** Ordered name -> value snapshot of the counters. */
  counters(): K.DvsCounters {
    return K.snapshotCounters(this.ctr);
  }

  /** Current gauges. */
  gauges(): DvsGauges {
    let degraded = 0;
    for (const s of this.slots) if (s.state === SLOT_BOUND && s.replicas.length < this.replication) degraded++;
    return {
      slotCount: this.slotCount,
      slotsBound: this.boundSlots,
      slotsBinding: this.bindingSlots,
      poolSets: this.pool.length,
      livePages: this.livePages,
      lostPages: this.lostPages,
      degradedSlots: degraded,
      rebuildingSlots: this.rebuilding.length,
      parkedRepairs: this.parked.length,
      copiesInFlight: this.buffersOut,
      pendingOps: this.pendingOps,
      backendOpsInFlight: this.backendInflight,
    };
  }

  /** Where a slot's data lives. */
  slotInfo(slot: number): DvsSlotInfo {
    const s = this.slots[slot];
    if (s === undefined) throw new DvsError('page-out-of-range', `slot ${slot} is outside [0, ${this.slotCount})`);
    return {
      state: s.state === SLOT_BOUND ? 'bound' : s.state === SLOT_BINDING ? 'binding' : 'unbound',
      nodeIds: s.replicas.map((r) => r.nodeId),
      liveCount: s.liveCount,
      rebuilding: s.rebuild !== null,
    };
  }

  /** Node ids of the sets in the pool (for tests and diagnostics). */
  poolNodeIds(): string[][] {
    return this.pool.map((set) => set.replicas.map((r) => r.nodeId));
  }

  /**
   * Stop accepting operations, let accepted ones finish, then free every slab (bound and
   * pooled) and call `done('ok')` (synchronously when nothing is in flight).
   */
  close(done: IoDone): void {
    if (this.closing) throw new DvsError('region-closed', 'close was already called on this region');
    this.closing = true;
    this.closeDone = done;
    for (const slot of [...this.rebuilding]) this.abortRebuild(slot, true);
    for (const slot of this.repairQueue) slot.repairQueued = false;
    for (const slot of this.parked) slot.repairParked = false;
    this.repairQueue = [];
    this.parked = [];
    this.settle();
  }

  // ---------------------------------------------------------------- admission and per-page order

  private checkPage(page: number): void {
    if (!Number.isInteger(page) || page < 0 || page >= this.pageCount) {
      throw new DvsError('page-out-of-range', `page ${page} is outside [0, ${this.pageCount}); check the page index`);
    }
  }

  private admit(page: number, buf: Uint8Array | null): void {
    if (this.closing) throw new DvsError('region-closed', 'the region is closed; create a new region');
    this.checkPage(page);
    if (buf !== null && buf.length !== this.pageSizeBytes) {
      throw new DvsError('bad-buffer-length', `buffer is ${buf.length} bytes; pass exactly one page (${this.pageSizeBytes} bytes)`);
    }
    if (this.pendingOps >= this.geo.maxPendingOps) {
      throw new DvsError('too-many-pending', `${this.pendingOps} operations are pending; wait for completions or raise maxPendingOps`);
    }
  }

  private submit(op: PageOp): void {
    this.pendingOps++;
    if ((this.flags[op.page] & BUSY) !== 0) {
      const q = this.waiting.get(op.page);
      if (q === undefined) this.waiting.set(op.page, [op]);
      else q.push(op);
      return;
    }
    this.flags[op.page] |= BUSY;
    this.start(op);
  }

  private start(op: PageOp): void {
    if (op.kind === OP_WRITE) this.startWrite(op);
    else if (op.kind === OP_READ) this.startRead(op);
    else {
      this.applyDiscard(op.page);
      this.finishOp(op, 'ok');
    }
  }

  /** Complete an op, then start the next one queued on the same page. */
  private finishOp(op: PageOp, status: IoStatus): void {
    this.pendingOps--;
    const q = this.waiting.get(op.page);
    let next: PageOp | undefined;
    if (q !== undefined) {
      next = q.shift();
      if (q.length === 0) this.waiting.delete(op.page);
    }
    if (next === undefined) this.flags[op.page] &= ~BUSY;
    if (op.done !== null) op.done(status);
    if (next !== undefined) this.start(next);
    else this.settle();
  }

  private slotOf(page: number): Slot {
    return this.slots[Math.floor(page / this.geo.pagesPerSlab)];
  }

  private applyDiscard(page: number): void {
    const f = this.flags[page];
    if ((f & LOST) !== 0) {
      this.flags[page] &= ~LOST;
      this.lostPages--;
    }
    if ((f & LIVE) !== 0) {
      this.flags[page] &= ~LIVE;
      this.livePages--;
      const slot = this.slotOf(page);
      slot.liveCount--;
      this.maybeReclaim(slot);
    }
  }

  private makeLive(slot: Slot, page: number): void {
    const f = this.flags[page];
    if ((f & LOST) !== 0) {
      this.flags[page] &= ~LOST;
      this.lostPages--;
    }
    if ((f & LIVE) === 0) {
      this.flags[page] |= LIVE;
      this.livePages++;
      slot.liveCount++;
    }
  }

  // ---------------------------------------------------------------- writes and binding

  private startWrite(op: PageOp): void {
    const slot = this.slotOf(op.page);
    if (slot.state === SLOT_BOUND) this.issueWrite(slot, op);
    else if (slot.state === SLOT_BINDING) slot.waiters.push(op);
    else {
      slot.waiters.push(op);
      this.bindSlot(slot);
    }
  }

  private bindSlot(slot: Slot): void {
    const set = this.takePoolSet(slot.sizeBytes);
    if (set !== null) {
      this.ctr[K.C_GET_SLAB_FAST]++;
      this.setBound(slot, set);
      this.checkRefill();
      return;
    }
    this.ctr[K.C_GET_SLAB_SLOW]++;
    slot.state = SLOT_BINDING;
    this.bindingSlots++;
    this.slowAlloc(slot, 0);
  }

  private takePoolSet(sizeBytes: number): SlabSet | null {
    for (let i = this.pool.length - 1; i >= 0; i--) {
      const set = this.pool[i];
      if (set.sizeBytes >= sizeBytes && set.replicas.every((r) => this.current(r))) {
        this.pool.splice(i, 1);
        return set;
      }
    }
    return null;
  }

  private slowAlloc(slot: Slot, attempt: number): void {
    const nodes = this.placement.pick(this.replication, slot.sizeBytes, []);
    if (nodes.length === 0) {
      this.failBinding(slot, 'no-space');
      return;
    }
    this.allocOnNodes(nodes, slot.sizeBytes, (replicas, failStatus) => {
      if (replicas.length === 0) {
        if (attempt + 1 < Math.max(1, this.registry.backends.length)) this.slowAlloc(slot, attempt + 1);
        else this.failBinding(slot, failStatus);
        return;
      }
      this.bindingSlots--;
      if (replicas.length < this.replication) this.ctr[K.C_DEGRADED_BIND]++;
      this.setBound(slot, { replicas, sizeBytes: slot.sizeBytes });
      this.checkRefill();
    });
  }

  private failBinding(slot: Slot, status: IoStatus): void {
    slot.state = SLOT_UNBOUND;
    this.bindingSlots--;
    const waiters = slot.waiters;
    slot.waiters = [];
    for (const op of waiters) this.finishOp(op, status === 'ok' ? 'error' : status);
  }

  private setBound(slot: Slot, set: SlabSet): void {
    slot.state = SLOT_BOUND;
    slot.replicas = set.replicas;
    slot.setSizeBytes = set.sizeBytes;
    this.boundSlots++;
    if (slot.replicas.length < this.replication) this.queueRepair(slot);
    const waiters = slot.waiters;
    slot.waiters = [];
    for (const op of waiters) this.startWrite(op);
  }

  private issueWrite(slot: Slot, op: PageOp): void {
    const replicas = slot.replicas;
    const offset = (op.page - slot.firstPage) * this.pageSizeBytes;
    const data = op.buf as Uint8Array;
    op.remaining = replicas.length;
    op.ok = [];
    slot.writesInFlight++;
    for (const rep of replicas) {
      this.ctr[K.C_SLAB_WRITE]++;
      this.backendInflight++;
      rep.backend.write(rep.slab, offset, data, (status) => this.onWriteReplicaDone(slot, op, rep, status));
    }
  }

  private onWriteReplicaDone(slot: Slot, op: PageOp, rep: Replica, status: IoStatus): void {
    this.backendInflight--;
    if (status === 'ok') op.ok.push(rep);
    else {
      this.ctr[K.C_WRITE_REPLICA_FAILED]++;
      op.lastStatus = status;
      this.replicaFailed(slot, rep, status);
    }
    if (--op.remaining > 0) {
      this.settle();
      return;
    }
    slot.writesInFlight--;
    const success = op.ok.some((r) => r.active);
    const rb = slot.rebuild;
    if (rb !== null) rb.mark(op.page - slot.firstPage);
    if (success) this.makeLive(slot, op.page);
    this.afterSlotActivity(slot);
    // Not stored: either every replica failed, or the ones that stored it were lost since.
    this.finishOp(op, success ? 'ok' : op.ok.length > 0 ? 'lost' : op.lastStatus);
    this.pumpRepairs();
  }

  // ---------------------------------------------------------------- reads

  private startRead(op: PageOp): void {
    const f = this.flags[op.page];
    if ((f & LOST) !== 0) {
      this.finishOp(op, 'lost');
      return;
    }
    if ((f & LIVE) === 0) {
      this.finishOp(op, 'not-found');
      return;
    }
    const slot = this.slotOf(op.page);
    slot.readsInFlight++;
    this.tryRead(slot, op);
  }

  private tryRead(slot: Slot, op: PageOp): void {
    let rep: Replica | undefined;
    // A live page lives in the slot's current binding; once lost, the slot may be re-bound
    // to a new set that never held this page, so never read from it.
    const stillLive = (this.flags[op.page] & LIVE) !== 0;
    for (const r of stillLive ? slot.replicas : []) {
      if (!op.tried.includes(r)) {
        rep = r;
        break;
      }
    }
    if (rep === undefined) {
      slot.readsInFlight--;
      this.afterSlotActivity(slot);
      const lost = (this.flags[op.page] & LOST) !== 0 || (this.flags[op.page] & LIVE) === 0;
      this.finishOp(op, lost ? 'lost' : op.lastStatus);
      return;
    }
    const chosen = rep;
    op.tried.push(chosen);
    this.ctr[K.C_SLAB_READ]++;
    this.backendInflight++;
    const offset = (op.page - slot.firstPage) * this.pageSizeBytes;
    chosen.backend.read(chosen.slab, offset, op.buf as Uint8Array, (status) => {
      this.backendInflight--;
      if (status === 'ok') {
        slot.readsInFlight--;
        this.afterSlotActivity(slot);
        this.finishOp(op, 'ok');
        return;
      }
      op.lastStatus = status;
      this.replicaFailed(slot, chosen, status);
      this.ctr[K.C_READ_RETRY]++;
      this.tryRead(slot, op);
    });
  }

  // ---------------------------------------------------------------- replica loss

  private replicaFailed(slot: Slot, rep: Replica, status: IoStatus): void {
    if (status === 'peer-lost' && rep.active) this.registry.markLost(rep.nodeId, rep.epoch);
    this.dropReplica(slot, rep, releasable(status) && this.current(rep));
  }

  private dropReplica(slot: Slot, rep: Replica, release: boolean): void {
    if (!rep.active) return;
    rep.active = false;
    slot.replicas = slot.replicas.filter((r) => r !== rep);
    this.ctr[K.C_REPLICA_LOST]++;
    if (release) slot.deferredFrees.push(rep);
    if (slot.replicas.length === 0) this.slotLost(slot);
    else this.queueRepair(slot);
  }

  /** Every replica of a bound slot is gone: its live pages are lost. */
  private slotLost(slot: Slot): void {
    if (slot.state === SLOT_BOUND) {
      slot.state = SLOT_UNBOUND;
      this.boundSlots--;
    }
    slot.replicas = [];
    if (slot.rebuild !== null) this.abortRebuild(slot, true);
    const lost: number[] = [];
    for (let p = slot.firstPage; p < slot.firstPage + slot.pageCount; p++) {
      if ((this.flags[p] & LIVE) !== 0) {
        this.flags[p] = (this.flags[p] & ~LIVE) | LOST;
        lost.push(p);
      }
    }
    this.livePages -= lost.length;
    this.lostPages += lost.length;
    slot.liveCount = 0;
    this.ctr[K.C_PAGES_LOST] += lost.length;
    this.flushDeferredFrees(slot);
    if (lost.length > 0) this.listener?.pagesLost?.(lost);
  }

  private onNodeHealth(nodeId: string, health: NodeHealth): void {
    if (this.closed) return;
    if (health === 'lost') this.onNodeLost(nodeId);
    else {
      for (const slot of this.parked) slot.repairParked = false;
      const parked = this.parked;
      this.parked = [];
      for (const slot of parked) this.queueRepair(slot);
      this.checkRefill();
      this.pumpRepairs();
    }
  }

  private onNodeLost(nodeId: string): void {
    const keep: SlabSet[] = [];
    for (const set of this.pool) {
      if (set.replicas.some((r) => r.nodeId === nodeId)) {
        for (const r of set.replicas) {
          if (r.nodeId === nodeId) r.active = false;
          else this.freeReplica(r);
        }
      } else keep.push(set);
    }
    this.pool = keep;
    for (const slot of this.slots) {
      const rb = slot.rebuild;
      if (rb !== null && rb.targetNodeId === nodeId) {
        this.abortRebuild(slot, false);
        this.queueRepair(slot);
      }
      if (slot.state !== SLOT_BOUND) continue;
      for (const rep of slot.replicas) if (rep.nodeId === nodeId) this.dropReplica(slot, rep, false);
    }
    this.checkRefill();
    this.pumpRepairs();
  }

  // ---------------------------------------------------------------- allocation, pool, reclaim

  private allocOnNodes(nodes: Backend[], sizeBytes: number, done: (replicas: Replica[], failStatus: IoStatus) => void): void {
    const got: Replica[] = [];
    let remaining = nodes.length;
    let failStatus: IoStatus = 'no-space';
    for (const node of nodes) {
      const epoch = this.registry.epoch(node.nodeId);
      this.backendInflight++;
      node.alloc(sizeBytes, (status, slab) => {
        this.backendInflight--;
        if (status === 'ok') {
          this.ctr[K.C_SLAB_ALLOC]++;
          got.push(new Replica(node, slab, epoch));
        } else {
          this.ctr[K.C_ALLOC_FAILED]++;
          failStatus = status;
          if (status === 'peer-lost') this.registry.markLost(node.nodeId, epoch);
        }
        if (--remaining === 0) {
          const healthy: Replica[] = [];
          for (const r of got) {
            if (this.current(r)) healthy.push(r);
            else r.active = false;
          }
          done(healthy, failStatus);
        }
        this.settle();
      });
    }
  }

  private checkRefill(): void {
    if (this.closing || this.refillInflight > 0 || this.pool.length >= this.lowWaterSets) return;
    const unbound = this.slotCount - this.boundSlots - this.bindingSlots;
    const want = Math.min(this.refillSets, unbound - this.pool.length);
    let counted = false;
    for (let i = 0; i < want; i++) {
      const nodes = this.placement.pick(this.replication, this.slabSizeBytes, []);
      if (nodes.length < this.replication) {
        // Never pool a degraded set; the slow path binds degraded when it must.
        break;
      }
      if (!counted) {
        this.ctr[K.C_UPDATE_SLAB_POOL]++;
        counted = true;
      }
      this.refillInflight++;
      this.allocOnNodes(nodes, this.slabSizeBytes, (replicas) => {
        this.refillInflight--;
        if (replicas.length === this.replication && !this.closing && this.pool.length < this.geo.poolMaxSets) {
          this.pool.push({ replicas, sizeBytes: this.slabSizeBytes });
        } else for (const r of replicas) this.freeReplica(r);
      });
    }
  }

  private maybeReclaim(slot: Slot): void {
    if (
      slot.state !== SLOT_BOUND ||
      slot.liveCount > 0 ||
      !slot.ioIdle() ||
      slot.rebuild !== null ||
      slot.waiters.length > 0
    ) {
      return;
    }
    const set: SlabSet = { replicas: slot.replicas, sizeBytes: slot.setSizeBytes };
    slot.state = SLOT_UNBOUND;
    slot.replicas = [];
    this.boundSlots--;
    this.ctr[K.C_RECLAIM_SLAB]++;
    this.flushDeferredFrees(slot);
    const full =
      set.replicas.length === this.replication &&
      set.sizeBytes === this.slabSizeBytes &&
      set.replicas.every((r) => this.current(r));
    if (full && !this.closing && this.pool.length < this.geo.poolMaxSets) this.pool.push(set);
    else for (const r of set.replicas) this.freeReplica(r);
  }

  private afterSlotActivity(slot: Slot): void {
    this.maybePromote(slot);
    if (slot.ioIdle()) this.flushDeferredFrees(slot);
    this.maybeReclaim(slot);
  }

  private flushDeferredFrees(slot: Slot): void {
    if (slot.deferredFrees.length === 0 || !slot.ioIdle()) return;
    const frees = slot.deferredFrees;
    slot.deferredFrees = [];
    for (const r of frees) this.freeReplica(r, true);
  }

  /** The replica's node is healthy and has not been lost since the slab was allocated. */
  private current(rep: Replica): boolean {
    return this.registry.isHealthy(rep.nodeId) && this.registry.epoch(rep.nodeId) === rep.epoch;
  }

  /** Return a slab to its node (unless the node is lost). `dropped`: already deactivated, still to free. */
  private freeReplica(rep: Replica, dropped = false): void {
    const wasActive = rep.active || dropped;
    rep.active = false;
    if (!wasActive || !this.current(rep)) return;
    rep.backend.free(rep.slab);
    this.ctr[K.C_SLAB_FREE]++;
    if (this.parked.length > 0 && !this.closing) {
      // Capacity came back: parked repairs may now find a node.
      for (const slot of this.parked) slot.repairParked = false;
      const parked = this.parked;
      this.parked = [];
      for (const slot of parked) this.queueRepair(slot);
    }
  }

  // ---------------------------------------------------------------- re-replication

  private queueRepair(slot: Slot): void {
    if (
      this.closing ||
      slot.state !== SLOT_BOUND ||
      slot.replicas.length >= this.replication ||
      slot.rebuild !== null ||
      slot.repairQueued ||
      slot.repairParked
    ) {
      return;
    }
    slot.repairQueued = true;
    this.repairQueue.push(slot);
    this.pumpRepairs();
  }

  private park(slot: Slot): void {
    if (slot.repairParked || this.closing) return;
    slot.repairParked = true;
    this.parked.push(slot);
  }

  private pumpRepairs(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        this.startRebuilds();
        this.pumpCopies();
      } while (this.pumpAgain);
    } finally {
      this.pumping = false;
    }
  }

  private startRebuilds(): void {
    while (!this.closing && this.rebuilding.length < this.geo.maxConcurrentRebuilds && this.repairQueue.length > 0) {
      const slot = this.repairQueue.shift() as Slot;
      slot.repairQueued = false;
      if (slot.state !== SLOT_BOUND || slot.replicas.length >= this.replication || slot.rebuild !== null) continue;
      const exclude = slot.replicas.map((r) => r.nodeId);
      let [node] = this.placement.pick(1, slot.setSizeBytes, exclude);
      while (node === undefined && this.pool.length > 0) {
        // Redundancy of live data comes before spare sets: give pooled slabs back to make room.
        const spare = this.pool.pop() as SlabSet;
        for (const r of spare.replicas) this.freeReplica(r);
        [node] = this.placement.pick(1, slot.setSizeBytes, exclude);
      }
      if (node === undefined) {
        this.park(slot);
        continue;
      }
      const rb = new Rebuild(node.nodeId, slot.pageCount);
      slot.rebuild = rb;
      this.rebuilding.push(slot);
      this.ctr[K.C_REPAIR_STARTED]++;
      const epoch = this.registry.epoch(node.nodeId);
      this.backendInflight++;
      node.alloc(slot.setSizeBytes, (status, slab) => this.onRebuildAlloc(slot, rb, new Replica(node, slab, epoch), status));
    }
  }

  private onRebuildAlloc(slot: Slot, rb: Rebuild, target: Replica, status: IoStatus): void {
    this.backendInflight--;
    if (status === 'ok') this.ctr[K.C_SLAB_ALLOC]++;
    else this.ctr[K.C_ALLOC_FAILED]++;
    if (rb.aborted) {
      if (status === 'ok') this.freeReplica(target);
      this.settle();
      return;
    }
    if (status !== 'ok' || !this.current(target)) {
      if (status === 'peer-lost') this.registry.markLost(target.nodeId, target.epoch);
      if (status === 'ok') this.freeReplica(target);
      if (!rb.aborted) {
        this.detachRebuild(slot);
        this.park(slot);
      }
      this.settle();
      return;
    }
    rb.target = target;
    for (let i = 0; i < slot.pageCount; i++) if ((this.flags[slot.firstPage + i] & LIVE) !== 0) rb.mark(i);
    this.maybePromote(slot);
    this.pumpRepairs();
    this.settle();
  }

  private detachRebuild(slot: Slot): void {
    slot.rebuild = null;
    const i = this.rebuilding.indexOf(slot);
    if (i >= 0) this.rebuilding.splice(i, 1);
  }

  private abortRebuild(slot: Slot, releaseTarget: boolean): void {
    const rb = slot.rebuild;
    if (rb === null) return;
    rb.aborted = true;
    this.detachRebuild(slot);
    if (rb.target !== null) {
      if (rb.copiesInFlight === 0) this.releaseTarget(rb, releaseTarget);
      else rb.releaseTargetOnDrain = releaseTarget;
    }
  }

  private releaseTarget(rb: Rebuild, release: boolean): void {
    const target = rb.target;
    if (target === null) return;
    rb.target = null;
    if (release) this.freeReplica(target);
    else target.active = false;
  }

  private pumpCopies(): void {
    while (!this.closing && this.buffersOut < this.geo.maxCopiesInFlight) {
      let progressed = false;
      const n = this.rebuilding.length;
      for (let step = 0; step < n && !progressed; step++) {
        const slot = this.rebuilding[(this.rebuildCursor + step) % n];
        const rb = slot.rebuild as Rebuild;
        if (rb.target === null || rb.pendingCopies === 0) continue;
        const local = rb.next();
        if (local < 0) continue; // every marked page already has a copy in flight
        this.rebuildCursor = (this.rebuildCursor + step + 1) % n;
        progressed = true;
        const source = slot.replicas[0];
        if ((this.flags[slot.firstPage + local] & LIVE) === 0 || source === undefined) {
          rb.copyDone(local); // dead page: nothing to copy
          this.maybePromote(slot);
        } else this.startCopy(slot, rb, local, source);
      }
      if (!progressed) return;
    }
  }

  private takeBuffer(): Uint8Array {
    this.buffersOut++;
    return this.freeBuffers.pop() ?? new Uint8Array(this.pageSizeBytes);
  }

  private startCopy(slot: Slot, rb: Rebuild, local: number, source: Replica): void {
    const buf = this.takeBuffer();
    rb.copiesInFlight++;
    slot.copiesInFlight++;
    this.backendInflight++;
    const offset = local * this.pageSizeBytes;
    source.backend.read(source.slab, offset, buf, (status) => {
      this.backendInflight--;
      if (rb.aborted || status !== 'ok') {
        if (!rb.aborted) {
          rb.mark(local);
          this.replicaFailed(slot, source, status);
        }
        this.endCopy(slot, rb, local, buf);
        return;
      }
      const target = rb.target as Replica;
      this.backendInflight++;
      target.backend.write(target.slab, offset, buf, (wstatus) => {
        this.backendInflight--;
        if (!rb.aborted) {
          if (wstatus === 'ok') this.ctr[K.C_REREPLICATED_PAGES]++;
          else {
            rb.mark(local);
            if (wstatus === 'peer-lost') this.registry.markLost(target.nodeId, target.epoch);
            if (!rb.aborted) {
              this.abortRebuild(slot, releasable(wstatus));
              this.queueRepair(slot);
            }
          }
        }
        this.endCopy(slot, rb, local, buf);
      });
    });
  }

  private endCopy(slot: Slot, rb: Rebuild, local: number, buf: Uint8Array): void {
    rb.copyDone(local);
    this.buffersOut--;
    this.freeBuffers.push(buf);
    rb.copiesInFlight--;
    slot.copiesInFlight--;
    if (rb.aborted && rb.copiesInFlight === 0) this.releaseTarget(rb, rb.releaseTargetOnDrain);
    this.afterSlotActivity(slot);
    this.pumpRepairs();
    this.settle();
  }

  /** Promote the new replica once every live page is copied and nothing is in flight on the slot. */
  private maybePromote(slot: Slot): void {
    const rb = slot.rebuild;
    if (rb === null || rb.target === null || rb.pendingCopies > 0 || rb.copiesInFlight > 0 || slot.writesInFlight > 0) return;
    this.detachRebuild(slot);
    slot.replicas = [...slot.replicas, rb.target];
    this.ctr[K.C_REPAIR_COMPLETED]++;
    if (slot.replicas.length < this.replication) this.queueRepair(slot);
    this.maybeReclaim(slot);
    this.pumpRepairs(); // a rebuild slot came free: start the next queued repair
  }

  // ---------------------------------------------------------------- close

  /** End of a callback or operation: start queued repairs that have room, finish a close. */
  private settle(): void {
    if (!this.closing && this.repairQueue.length > 0 && this.rebuilding.length < this.geo.maxConcurrentRebuilds) {
      this.pumpRepairs();
    }
    if (!this.closing || this.closed || this.pendingOps > 0 || this.backendInflight > 0) return;
    for (const slot of this.slots) {
      for (const r of slot.replicas) this.freeReplica(r);
      slot.replicas = [];
      this.flushDeferredFrees(slot);
      if (slot.state === SLOT_BOUND) this.boundSlots--;
      slot.state = SLOT_UNBOUND;
    }
    for (const set of this.pool) for (const r of set.replicas) this.freeReplica(r);
    this.pool = [];
    this.closed = true;
    this.unsubscribe();
    const done = this.closeDone;
    this.closeDone = null;
    done?.('ok');
  }
}

/** Create a region (same as `new DvsRegion(options)`). */
export function createDvsRegion(options: DvsRegionOptions): DvsRegion {
  return new DvsRegion(options);
}
