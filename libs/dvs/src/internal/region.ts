import * as K from './counters.js';
import { DvsError } from './errors.js';
import { NodeRegistry, type NodeHealth } from './node-registry.js';
import { validateRegionOptions, type DvsRegionOptions } from './options.js';
import { PageIo, type PageIoHost } from './page-io.js';
import { createPlacement } from './placement.js';
import { PAGE_BUSY, PAGE_LIVE, PAGE_LOST, RegionState, releasable } from './region-state.js';
import { RepairScheduler, type RepairHost } from './repair.js';
import { SlabPool, type PoolHost } from './slab-pool.js';
import { OP_DISCARD, OP_READ, OP_WRITE, PageOp, SLOT_BINDING, SLOT_BOUND, SLOT_UNBOUND, type Replica, type Slot } from './slot.js';
import type { Backend, IoDone, IoStatus } from './types.js';

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

/**
 * A region: a byte space of pages cut into slab-sized slots, bound lazily to slab sets on
 * the first write, with a background pool, placement, replication and exact live-page
 * accounting. I/O-free: it calls the Backend port and reacts to completions.
 *
 * This class is the hub: the public API, admission and per-page order, page accounting,
 * replica loss, slot lifetime and close. It drives three concept modules that share one
 * RegionState and call back through small host interfaces: PageIo (binding, writes, reads),
 * SlabPool (allocation and the pool) and RepairScheduler (re-replication).
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

  private readonly s: RegionState;
  private readonly flags: Uint8Array;
  private readonly pool: SlabPool;
  private readonly repair: RepairScheduler;
  private readonly io: PageIo;
  private readonly waiting = new Map<number, PageOp[]>();
  private pendingOps = 0;
  private closed = false;
  private closeDone: IoDone | null = null;
  private readonly unsubscribe: () => void;

  constructor(options: DvsRegionOptions) {
    const g = validateRegionOptions(options);
    this.sizeBytes = g.sizeBytes;
    this.pageSizeBytes = g.pageSizeBytes;
    this.slabSizeBytes = g.slabSizeBytes;
    this.replication = g.replication;
    this.pageCount = g.pageCount;
    this.slotCount = g.slotCount;
    this.lowWaterSets = g.lowWaterSets;
    this.refillSets = g.refillSets;
    const registry = Array.isArray(options.nodes) ? new NodeRegistry(options.nodes as readonly Backend[]) : (options.nodes as NodeRegistry);
    const placement = createPlacement(options.placement ?? 'round-robin', registry, options.random);
    this.s = new RegionState(g, registry, placement, options.listener);
    this.flags = this.s.flags;
    // Built once: the modules call back through these (no per-operation allocation).
    const hooks: PoolHost & RepairHost & PageIoHost = {
      freeReplica: (rep) => this.freeReplica(rep),
      replicaFailed: (slot, rep, status) => this.replicaFailed(slot, rep, status),
      afterSlotActivity: (slot) => this.afterSlotActivity(slot),
      maybeReclaim: (slot) => this.maybeReclaim(slot),
      settle: () => this.settle(),
      finishOp: (op, status) => this.finishOp(op, status),
    };
    this.pool = new SlabPool(this.s, hooks);
    this.repair = new RepairScheduler(this.s, this.pool, hooks);
    this.io = new PageIo(this.s, this.pool, this.repair, hooks);
    this.unsubscribe = registry.subscribe((nodeId, health) => this.onNodeHealth(nodeId, health));
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
    return (this.flags[page] & PAGE_LIVE) !== 0;
  }

  /** Whether the page's data was lost (and not rewritten or discarded since). */
  isLost(page: number): boolean {
    this.checkPage(page);
    return (this.flags[page] & PAGE_LOST) !== 0;
  }

  /** Ordered name -> value snapshot of the counters. */
  counters(): K.DvsCounters {
    return K.snapshotCounters(this.s.ctr);
  }

  /** Current gauges. */
  gauges(): DvsGauges {
    let degraded = 0;
    for (const s of this.s.slots) if (s.state === SLOT_BOUND && s.replicas.length < this.replication) degraded++;
    return {
      slotCount: this.slotCount,
      slotsBound: this.s.boundSlots,
      slotsBinding: this.s.bindingSlots,
      poolSets: this.pool.size,
      livePages: this.s.livePages,
      lostPages: this.s.lostPages,
      degradedSlots: degraded,
      rebuildingSlots: this.repair.rebuildingSlots,
      parkedRepairs: this.repair.parkedRepairs,
      copiesInFlight: this.repair.copiesInFlight,
      pendingOps: this.pendingOps,
      backendOpsInFlight: this.s.backendInflight,
    };
  }

  /** Where a slot's data lives. */
  slotInfo(slot: number): DvsSlotInfo {
    const s = this.s.slots[slot];
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
    return this.pool.nodeIds();
  }

  /**
   * Stop accepting operations, let accepted ones finish, then free every slab (bound and
   * pooled) and call `done('ok')` (synchronously when nothing is in flight).
   */
  close(done: IoDone): void {
    if (this.s.closing) throw new DvsError('region-closed', 'close was already called on this region');
    this.s.closing = true;
    this.closeDone = done;
    this.repair.stopAll();
    this.settle();
  }

  // ---------------------------------------------------------------- admission and per-page order

  private checkPage(page: number): void {
    if (!Number.isInteger(page) || page < 0 || page >= this.pageCount) {
      throw new DvsError('page-out-of-range', `page ${page} is outside [0, ${this.pageCount}); check the page index`);
    }
  }

  private admit(page: number, buf: Uint8Array | null): void {
    if (this.s.closing) throw new DvsError('region-closed', 'the region is closed; create a new region');
    this.checkPage(page);
    if (buf !== null && buf.length !== this.pageSizeBytes) {
      throw new DvsError('bad-buffer-length', `buffer is ${buf.length} bytes; pass exactly one page (${this.pageSizeBytes} bytes)`);
    }
    if (this.pendingOps >= this.s.geo.maxPendingOps) {
      throw new DvsError('too-many-pending', `${this.pendingOps} operations are pending; wait for completions or raise maxPendingOps`);
    }
  }

  private submit(op: PageOp): void {
    this.pendingOps++;
    if ((this.flags[op.page] & PAGE_BUSY) !== 0) {
      const q = this.waiting.get(op.page);
      if (q === undefined) this.waiting.set(op.page, [op]);
      else q.push(op);
      return;
    }
    this.flags[op.page] |= PAGE_BUSY;
    this.start(op);
  }

  private start(op: PageOp): void {
    if (op.kind === OP_WRITE) this.io.startWrite(op);
    else if (op.kind === OP_READ) this.io.startRead(op);
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
    if (next === undefined) this.flags[op.page] &= ~PAGE_BUSY;
    if (op.done !== null) op.done(status);
    if (next !== undefined) this.start(next);
    else this.settle();
  }

  private applyDiscard(page: number): void {
    const s = this.s;
    const f = this.flags[page];
    if ((f & PAGE_LOST) !== 0) {
      this.flags[page] &= ~PAGE_LOST;
      s.lostPages--;
    }
    if ((f & PAGE_LIVE) !== 0) {
      this.flags[page] &= ~PAGE_LIVE;
      s.livePages--;
      const slot = s.slotOf(page);
      slot.liveCount--;
      this.maybeReclaim(slot);
    }
  }

  // ---------------------------------------------------------------- replica loss

  private replicaFailed(slot: Slot, rep: Replica, status: IoStatus): void {
    if (status === 'peer-lost' && rep.active) this.s.registry.markLost(rep.nodeId, rep.epoch);
    this.dropReplica(slot, rep, releasable(status) && this.s.current(rep));
  }

  private dropReplica(slot: Slot, rep: Replica, release: boolean): void {
    if (!rep.active) return;
    rep.active = false;
    slot.replicas = slot.replicas.filter((r) => r !== rep);
    this.s.ctr[K.C_REPLICA_LOST]++;
    if (release) slot.deferredFrees.push(rep);
    if (slot.replicas.length === 0) this.slotLost(slot);
    else this.repair.queueRepair(slot);
  }

  /** Every replica of a bound slot is gone: its live pages are lost. */
  private slotLost(slot: Slot): void {
    const s = this.s;
    if (slot.state === SLOT_BOUND) {
      slot.state = SLOT_UNBOUND;
      s.boundSlots--;
    }
    slot.replicas = [];
    if (slot.rebuild !== null) this.repair.abortRebuild(slot, true);
    const lost: number[] = [];
    for (let p = slot.firstPage; p < slot.firstPage + slot.pageCount; p++) {
      if ((this.flags[p] & PAGE_LIVE) !== 0) {
        this.flags[p] = (this.flags[p] & ~PAGE_LIVE) | PAGE_LOST;
        lost.push(p);
      }
    }
    s.livePages -= lost.length;
    s.lostPages += lost.length;
    slot.liveCount = 0;
    s.ctr[K.C_PAGES_LOST] += lost.length;
    this.flushDeferredFrees(slot);
    if (lost.length > 0) s.listener?.pagesLost?.(lost);
  }

  private onNodeHealth(nodeId: string, health: NodeHealth): void {
    if (this.closed) return;
    if (health === 'lost') this.onNodeLost(nodeId);
    else {
      this.repair.unparkAll();
      this.pool.checkRefill();
      this.repair.pumpRepairs();
    }
  }

  private onNodeLost(nodeId: string): void {
    this.pool.dropNode(nodeId);
    for (const slot of this.s.slots) {
      const rb = slot.rebuild;
      if (rb !== null && rb.targetNodeId === nodeId) {
        this.repair.abortRebuild(slot, false);
        this.repair.queueRepair(slot);
      }
      if (slot.state !== SLOT_BOUND) continue;
      for (const rep of slot.replicas) if (rep.nodeId === nodeId) this.dropReplica(slot, rep, false);
    }
    this.pool.checkRefill();
    this.repair.pumpRepairs();
  }

  // ---------------------------------------------------------------- slot lifetime: reclaim and freeing slabs

  /** Unbind a slot with no live page and nothing in flight; its set goes back to the pool (`reclaim_slab`). */
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
    const set = { replicas: slot.replicas, sizeBytes: slot.setSizeBytes };
    slot.state = SLOT_UNBOUND;
    slot.replicas = [];
    this.s.boundSlots--;
    this.s.ctr[K.C_RECLAIM_SLAB]++;
    this.flushDeferredFrees(slot);
    this.pool.offer(set);
  }

  private afterSlotActivity(slot: Slot): void {
    this.repair.maybePromote(slot);
    if (slot.ioIdle()) this.flushDeferredFrees(slot);
    this.maybeReclaim(slot);
  }

  private flushDeferredFrees(slot: Slot): void {
    if (slot.deferredFrees.length === 0 || !slot.ioIdle()) return;
    const frees = slot.deferredFrees;
    slot.deferredFrees = [];
    for (const r of frees) this.freeReplica(r, true);
  }

  /** Return a slab to its node (unless the node is lost). `dropped`: already deactivated, still to free. */
  private freeReplica(rep: Replica, dropped = false): void {
    const wasActive = rep.active || dropped;
    rep.active = false;
    if (!wasActive || !this.s.current(rep)) return;
    rep.backend.free(rep.slab);
    this.s.ctr[K.C_SLAB_FREE]++;
    // Capacity came back: parked repairs may now find a node.
    if (this.repair.parkedRepairs > 0 && !this.s.closing) this.repair.unparkAll();
  }

  // ---------------------------------------------------------------- close

  /** End of a callback or operation: start queued repairs that have room, finish a close. */
  private settle(): void {
    this.repair.pumpIfRoom();
    const s = this.s;
    if (!s.closing || this.closed || this.pendingOps > 0 || s.backendInflight > 0) return;
    for (const slot of s.slots) {
      for (const r of slot.replicas) this.freeReplica(r);
      slot.replicas = [];
      this.flushDeferredFrees(slot);
      if (slot.state === SLOT_BOUND) s.boundSlots--;
      slot.state = SLOT_UNBOUND;
    }
    this.pool.freeAll();
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
