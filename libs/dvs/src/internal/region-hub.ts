import * as K from './counters.js';
import type { NodeHealth } from './node-registry.js';
import { PageIo, type PageIoHost } from './page-io.js';
import { PAGE_LIVE, PAGE_LOST, releasable, type RegionState } from './region-state.js';
import { RepairScheduler, type RepairHost } from './repair.js';
import { SlabPool, type PoolHost } from './slab-pool.js';
import { SLOT_BOUND, SLOT_UNBOUND, type Replica, type Slot } from './slot.js';
import type { IoDone, IoStatus } from './types.js';

/**
 * What ties a region's modules together: it builds PageIo, SlabPool and RepairScheduler over one
 * RegionState and is the host all three call back into (a class, so every region shares the same
 * prototype methods and the JIT keeps one specialisation). It owns replica loss and node health,
 * slot reclaim and slab freeing, and the end of every callback (settle), which finishes a close.
 */
export class RegionHub implements PoolHost, RepairHost, PageIoHost {
  readonly pool: SlabPool;
  readonly repair: RepairScheduler;
  readonly io: PageIo;
  private closed = false;
  private closeDone: IoDone | null = null;
  private readonly unsubscribe: () => void;

  constructor(private readonly s: RegionState) {
    this.pool = new SlabPool(s, this);
    this.repair = new RepairScheduler(s, this.pool, this);
    this.io = new PageIo(s, this.pool, this.repair, this);
    this.unsubscribe = s.registry.subscribe((nodeId, health) => this.onNodeHealth(nodeId, health));
  }

  /** `state.closing` is already set: drop queued repairs, finish once nothing is in flight. */
  close(done: IoDone): void {
    this.closeDone = done;
    this.repair.stopAll();
    this.settle();
  }

  // ---------------------------------------------------------------- replica loss

  replicaFailed(slot: Slot, rep: Replica, status: IoStatus): void {
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
      if ((s.flags[p] & PAGE_LIVE) !== 0) {
        s.flags[p] = (s.flags[p] & ~PAGE_LIVE) | PAGE_LOST;
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
  maybeReclaim(slot: Slot): void {
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

  afterSlotActivity(slot: Slot): void {
    if (slot.rebuild !== null) this.repair.maybePromote(slot); // the common case skips the call
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
  freeReplica(rep: Replica, dropped = false): void {
    const wasActive = rep.active || dropped;
    rep.active = false;
    if (!wasActive || !this.s.current(rep)) return;
    rep.backend.free(rep.slab);
    this.s.ctr[K.C_SLAB_FREE]++;
    // Capacity came back: parked repairs may now find a node.
    if (this.repair.parkedRepairs > 0 && !this.s.closing) this.repair.unparkAll();
  }

  // ---------------------------------------------------------------- settle and close

  /** End of a callback or operation: start queued repairs that have room, finish a close. */
  settle(): void {
    this.repair.pumpIfRoom();
    if (this.s.closing) this.finishClose(); // kept out of line: settle runs after every page operation
  }

  private finishClose(): void {
    const s = this.s;
    if (this.closed || s.pendingOps > 0 || s.backendInflight > 0) return;
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
