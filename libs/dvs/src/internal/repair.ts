import * as K from './counters.js';
import { PAGE_LIVE, releasable, type RegionState } from './region-state.js';
import type { SlabPool } from './slab-pool.js';
import { Rebuild, Replica, SLOT_BOUND, type SlabSet, type Slot } from './slot.js';
import type { IoStatus } from './types.js';

/** The parts of the region state re-replication reads and updates. */
export type RepairState = Pick<
  RegionState,
  'geo' | 'flags' | 'ctr' | 'registry' | 'placement' | 'backendInflight' | 'closing' | 'current'
>;

/** What re-replication needs from the region. */
export interface RepairHost {
  /** Return a slab to its node. */
  freeReplica(rep: Replica): void;
  /** A read from a slot's replica failed: drop the replica (and mark its node lost if it is gone). */
  replicaFailed(slot: Slot, rep: Replica, status: IoStatus): void;
  /** I/O on the slot ended: must call `maybePromote(slot)`, then free deferred slabs and reclaim. */
  afterSlotActivity(slot: Slot): void;
  /** Unbind the slot if it has no live page and nothing in flight. */
  maybeReclaim(slot: Slot): void;
  /** End of a backend callback: start queued repairs, finish a close. */
  settle(): void;
}

/**
 * Re-replication of degraded slots: a bounded queue of slots to repair, at most
 * `maxConcurrentRebuilds` rebuilding at once, each allocating a slab on a node not already
 * holding the slot, then copying every live page from a healthy replica with at most
 * `maxCopiesInFlight` copies in flight (reusable page buffers), round-robin over the
 * rebuilding slots. Slots with no node to go to are parked until capacity comes back.
 */
export class RepairScheduler {
  private repairQueue: Slot[] = [];
  private parked: Slot[] = [];
  private rebuilding: Slot[] = [];
  private rebuildCursor = 0;
  private readonly freeBuffers: Uint8Array[] = [];
  private buffersOut = 0;
  private pumping = false;
  private pumpAgain = false;

  constructor(
    private readonly s: RepairState,
    /** Spare sets a repair may give back to make room. */
    private readonly pool: Pick<SlabPool, 'size' | 'popSpare'>,
    private readonly host: RepairHost,
  ) {}

  /** Slots being rebuilt. */
  get rebuildingSlots(): number {
    return this.rebuilding.length;
  }

  /** Repairs waiting for a node with room. */
  get parkedRepairs(): number {
    return this.parked.length;
  }

  /** Page copies in flight (page buffers out). */
  get copiesInFlight(): number {
    return this.buffersOut;
  }

  /** Queue a bound slot with fewer than r replicas for repair (no-op if already queued, parked or rebuilding). */
  queueRepair(slot: Slot): void {
    if (
      this.s.closing ||
      slot.state !== SLOT_BOUND ||
      slot.replicas.length >= this.s.geo.replication ||
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

  /** A node turned healthy or a slab was freed: queue every parked repair again. */
  unparkAll(): void {
    for (const slot of this.parked) slot.repairParked = false;
    const parked = this.parked;
    this.parked = [];
    for (const slot of parked) this.queueRepair(slot);
  }

  /** Start queued rebuilds and page copies while there is room (re-entrant calls rerun the loop). */
  pumpRepairs(): void {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    // Nothing queued and nothing rebuilding: one pass would do nothing (every page write calls this).
    if (this.repairQueue.length === 0 && this.rebuilding.length === 0) return;
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

  /** From the region's settle: pump when a queued repair could start. */
  pumpIfRoom(): void {
    if (!this.s.closing && this.repairQueue.length > 0 && this.rebuilding.length < this.s.geo.maxConcurrentRebuilds) {
      this.pumpRepairs();
    }
  }

  /** Close: abort every rebuild (targets are freed once their copies drain) and forget queued and parked slots. */
  stopAll(): void {
    for (const slot of [...this.rebuilding]) this.abortRebuild(slot, true);
    for (const slot of this.repairQueue) slot.repairQueued = false;
    for (const slot of this.parked) slot.repairParked = false;
    this.repairQueue = [];
    this.parked = [];
  }

  /** Stop the slot's rebuild; its target is freed (`releaseTarget`) or just dropped, once no copy is in flight. */
  abortRebuild(slot: Slot, releaseTarget: boolean): void {
    const rb = slot.rebuild;
    if (rb === null) return;
    rb.aborted = true;
    this.detachRebuild(slot);
    if (rb.target !== null) {
      if (rb.copiesInFlight === 0) this.releaseTarget(rb, releaseTarget);
      else rb.releaseTargetOnDrain = releaseTarget;
    }
  }

  /** Promote the new replica once every live page is copied and nothing is in flight on the slot. */
  maybePromote(slot: Slot): void {
    const rb = slot.rebuild;
    if (rb === null || rb.target === null || rb.pendingCopies > 0 || rb.copiesInFlight > 0 || slot.writesInFlight > 0) return;
    this.detachRebuild(slot);
    slot.replicas = [...slot.replicas, rb.target];
    this.s.ctr[K.C_REPAIR_COMPLETED]++;
    if (slot.replicas.length < this.s.geo.replication) this.queueRepair(slot);
    this.host.maybeReclaim(slot);
    this.pumpRepairs(); // a rebuild slot came free: start the next queued repair
  }

  private park(slot: Slot): void {
    if (slot.repairParked || this.s.closing) return;
    slot.repairParked = true;
    this.parked.push(slot);
  }

  private startRebuilds(): void {
    const s = this.s;
    while (!s.closing && this.rebuilding.length < s.geo.maxConcurrentRebuilds && this.repairQueue.length > 0) {
      const slot = this.repairQueue.shift() as Slot;
      slot.repairQueued = false;
      if (slot.state !== SLOT_BOUND || slot.replicas.length >= s.geo.replication || slot.rebuild !== null) continue;
      const exclude = slot.replicas.map((r) => r.nodeId);
      let [node] = s.placement.pick(1, slot.setSizeBytes, exclude);
      while (node === undefined && this.pool.size > 0) {
        // Redundancy of live data comes before spare sets: give pooled slabs back to make room.
        const spare = this.pool.popSpare() as SlabSet;
        for (const r of spare.replicas) this.host.freeReplica(r);
        [node] = s.placement.pick(1, slot.setSizeBytes, exclude);
      }
      if (node === undefined) {
        this.park(slot);
        continue;
      }
      const rb = new Rebuild(node.nodeId, slot.pageCount);
      slot.rebuild = rb;
      this.rebuilding.push(slot);
      s.ctr[K.C_REPAIR_STARTED]++;
      const epoch = s.registry.epoch(node.nodeId);
      s.backendInflight++;
      node.alloc(slot.setSizeBytes, (status, slab) => this.onRebuildAlloc(slot, rb, new Replica(node, slab, epoch), status));
    }
  }

  private onRebuildAlloc(slot: Slot, rb: Rebuild, target: Replica, status: IoStatus): void {
    const s = this.s;
    s.backendInflight--;
    if (status === 'ok') s.ctr[K.C_SLAB_ALLOC]++;
    else s.ctr[K.C_ALLOC_FAILED]++;
    if (rb.aborted) {
      if (status === 'ok') this.host.freeReplica(target);
      this.host.settle();
      return;
    }
    if (status !== 'ok' || !s.current(target)) {
      if (status === 'peer-lost') s.registry.markLost(target.nodeId, target.epoch);
      if (status === 'ok') this.host.freeReplica(target);
      if (!rb.aborted) {
        this.detachRebuild(slot);
        this.park(slot);
      }
      this.host.settle();
      return;
    }
    rb.target = target;
    for (let i = 0; i < slot.pageCount; i++) if ((s.flags[slot.firstPage + i] & PAGE_LIVE) !== 0) rb.mark(i);
    this.maybePromote(slot);
    this.pumpRepairs();
    this.host.settle();
  }

  private detachRebuild(slot: Slot): void {
    slot.rebuild = null;
    const i = this.rebuilding.indexOf(slot);
    if (i >= 0) this.rebuilding.splice(i, 1);
  }

  private releaseTarget(rb: Rebuild, release: boolean): void {
    const target = rb.target;
    if (target === null) return;
    rb.target = null;
    if (release) this.host.freeReplica(target);
    else target.active = false;
  }

  private pumpCopies(): void {
    while (!this.s.closing && this.buffersOut < this.s.geo.maxCopiesInFlight) {
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
        if ((this.s.flags[slot.firstPage + local] & PAGE_LIVE) === 0 || source === undefined) {
          rb.copyDone(local); // dead page: nothing to copy
          this.maybePromote(slot);
        } else this.startCopy(slot, rb, local, source);
      }
      if (!progressed) return;
    }
  }

  private takeBuffer(): Uint8Array {
    this.buffersOut++;
    return this.freeBuffers.pop() ?? new Uint8Array(this.s.geo.pageSizeBytes);
  }

  private startCopy(slot: Slot, rb: Rebuild, local: number, source: Replica): void {
    const s = this.s;
    const buf = this.takeBuffer();
    rb.copiesInFlight++;
    slot.copiesInFlight++;
    s.backendInflight++;
    const offset = local * s.geo.pageSizeBytes;
    source.backend.read(source.slab, offset, buf, (status) => {
      s.backendInflight--;
      if (rb.aborted || status !== 'ok') {
        if (!rb.aborted) {
          rb.mark(local);
          this.host.replicaFailed(slot, source, status);
        }
        this.endCopy(slot, rb, local, buf);
        return;
      }
      const target = rb.target as Replica;
      s.backendInflight++;
      target.backend.write(target.slab, offset, buf, (wstatus) => {
        s.backendInflight--;
        if (!rb.aborted) {
          if (wstatus === 'ok') s.ctr[K.C_REREPLICATED_PAGES]++;
          else {
            rb.mark(local);
            if (wstatus === 'peer-lost') s.registry.markLost(target.nodeId, target.epoch);
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
    this.host.afterSlotActivity(slot);
    this.pumpRepairs();
    this.host.settle();
  }
}
