import * as K from './counters.js';
import { PAGE_BUSY, PAGE_LIVE, PAGE_LOST, type RegionState } from './region-state.js';
import type { RepairScheduler } from './repair.js';
import type { SlabPool } from './slab-pool.js';
import { OP_READ, OP_WRITE, SLOT_BINDING, SLOT_BOUND, SLOT_UNBOUND, type PageOp, type Replica, type SlabSet, type Slot } from './slot.js';
import type { IoStatus } from './types.js';

/** The parts of the region state page I/O reads and updates. */
export type PageIoState = Pick<
  RegionState,
  | 'geo'
  | 'flags'
  | 'ctr'
  | 'registry'
  | 'placement'
  | 'pendingOps'
  | 'backendInflight'
  | 'boundSlots'
  | 'bindingSlots'
  | 'livePages'
  | 'lostPages'
  | 'slotOf'
>;

/** What page I/O needs from the region. */
export interface PageIoHost {
  /** An operation on a replica failed: drop it (and mark its node lost if it is gone). */
  replicaFailed(slot: Slot, rep: Replica, status: IoStatus): void;
  /** I/O on the slot ended: promote a rebuild, free deferred slabs, reclaim. */
  afterSlotActivity(slot: Slot): void;
  /** Unbind the slot if it has no live page and nothing in flight. */
  maybeReclaim(slot: Slot): void;
  /** End of an operation or backend callback: start queued repairs, finish a close. */
  settle(): void;
}

/**
 * The data path of one region's page operations. Operations on one page run one at a time in
 * issue order (later ones queue); a write binds its slot on first use (from the pool or by
 * allocating, waiting for that one allocation) and goes to every replica; a read uses the
 * first replica and falls back to the next; a discard forgets the page. Allocates nothing per
 * operation beyond the backend completion closures.
 */
export class PageIo {
  private readonly waiting = new Map<number, PageOp[]>();

  constructor(
    private readonly s: PageIoState,
    private readonly pool: Pick<SlabPool, 'take' | 'checkRefill' | 'allocOnNodes'>,
    private readonly repair: Pick<RepairScheduler, 'queueRepair' | 'pumpRepairs'>,
    private readonly host: PageIoHost,
  ) {}

  // ---------------------------------------------------------------- per-page order

  /** Run an admitted operation now, or queue it behind the one running on its page. */
  submit(op: PageOp): void {
    const s = this.s;
    s.pendingOps++;
    if ((s.flags[op.page] & PAGE_BUSY) !== 0) {
      const q = this.waiting.get(op.page);
      if (q === undefined) this.waiting.set(op.page, [op]);
      else q.push(op);
      return;
    }
    s.flags[op.page] |= PAGE_BUSY;
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
    const s = this.s;
    s.pendingOps--;
    const q = this.waiting.get(op.page);
    let next: PageOp | undefined;
    if (q !== undefined) {
      next = q.shift();
      if (q.length === 0) this.waiting.delete(op.page);
    }
    if (next === undefined) s.flags[op.page] &= ~PAGE_BUSY;
    if (op.done !== null) op.done(status);
    if (next !== undefined) this.start(next);
    else this.host.settle();
  }

  private applyDiscard(page: number): void {
    const s = this.s;
    const f = s.flags[page];
    if ((f & PAGE_LOST) !== 0) {
      s.flags[page] &= ~PAGE_LOST;
      s.lostPages--;
    }
    if ((f & PAGE_LIVE) !== 0) {
      s.flags[page] &= ~PAGE_LIVE;
      s.livePages--;
      const slot = s.slotOf(page);
      slot.liveCount--;
      this.host.maybeReclaim(slot);
    }
  }

  // ---------------------------------------------------------------- writes and binding

  private startWrite(op: PageOp): void {
    const slot = this.s.slotOf(op.page);
    if (slot.state === SLOT_BOUND) this.issueWrite(slot, op);
    else if (slot.state === SLOT_BINDING) slot.waiters.push(op);
    else {
      slot.waiters.push(op);
      this.bindSlot(slot);
    }
  }

  private bindSlot(slot: Slot): void {
    const set = this.pool.take(slot.sizeBytes);
    if (set !== null) {
      this.s.ctr[K.C_GET_SLAB_FAST]++;
      this.setBound(slot, set);
      this.pool.checkRefill();
      return;
    }
    this.s.ctr[K.C_GET_SLAB_SLOW]++;
    slot.state = SLOT_BINDING;
    this.s.bindingSlots++;
    this.slowAlloc(slot, 0);
  }

  private slowAlloc(slot: Slot, attempt: number): void {
    const s = this.s;
    const nodes = s.placement.pick(s.geo.replication, slot.sizeBytes, []);
    if (nodes.length === 0) {
      this.failBinding(slot, 'no-space');
      return;
    }
    this.pool.allocOnNodes(nodes, slot.sizeBytes, (replicas, failStatus) => {
      if (replicas.length === 0) {
        if (attempt + 1 < Math.max(1, s.registry.backends.length)) this.slowAlloc(slot, attempt + 1);
        else this.failBinding(slot, failStatus);
        return;
      }
      s.bindingSlots--;
      if (replicas.length < s.geo.replication) s.ctr[K.C_DEGRADED_BIND]++;
      this.setBound(slot, { replicas, sizeBytes: slot.sizeBytes });
      this.pool.checkRefill();
    });
  }

  private failBinding(slot: Slot, status: IoStatus): void {
    slot.state = SLOT_UNBOUND;
    this.s.bindingSlots--;
    const waiters = slot.waiters;
    slot.waiters = [];
    for (const op of waiters) this.finishOp(op, status === 'ok' ? 'error' : status);
  }

  private setBound(slot: Slot, set: SlabSet): void {
    slot.state = SLOT_BOUND;
    slot.replicas = set.replicas;
    slot.setSizeBytes = set.sizeBytes;
    this.s.boundSlots++;
    if (slot.replicas.length < this.s.geo.replication) this.repair.queueRepair(slot);
    const waiters = slot.waiters;
    slot.waiters = [];
    for (const op of waiters) this.startWrite(op);
  }

  private issueWrite(slot: Slot, op: PageOp): void {
    const s = this.s;
    const replicas = slot.replicas;
    const offset = (op.page - slot.firstPage) * s.geo.pageSizeBytes;
    const data = op.buf as Uint8Array;
    op.remaining = replicas.length;
    op.ok = [];
    slot.writesInFlight++;
    for (const rep of replicas) {
      s.ctr[K.C_SLAB_WRITE]++;
      s.backendInflight++;
      rep.backend.write(rep.slab, offset, data, (status) => this.onWriteReplicaDone(slot, op, rep, status));
    }
  }

  private onWriteReplicaDone(slot: Slot, op: PageOp, rep: Replica, status: IoStatus): void {
    this.s.backendInflight--;
    if (status === 'ok') op.ok.push(rep);
    else {
      this.s.ctr[K.C_WRITE_REPLICA_FAILED]++;
      op.lastStatus = status;
      this.host.replicaFailed(slot, rep, status);
    }
    if (--op.remaining > 0) {
      this.host.settle();
      return;
    }
    slot.writesInFlight--;
    const success = op.ok.some((r) => r.active);
    const rb = slot.rebuild;
    if (rb !== null) rb.mark(op.page - slot.firstPage);
    if (success) this.makeLive(slot, op.page);
    this.host.afterSlotActivity(slot);
    // Not stored: either every replica failed, or the ones that stored it were lost since.
    this.finishOp(op, success ? 'ok' : op.ok.length > 0 ? 'lost' : op.lastStatus);
    this.repair.pumpRepairs();
  }

  private makeLive(slot: Slot, page: number): void {
    const s = this.s;
    const f = s.flags[page];
    if ((f & PAGE_LOST) !== 0) {
      s.flags[page] &= ~PAGE_LOST;
      s.lostPages--;
    }
    if ((f & PAGE_LIVE) === 0) {
      s.flags[page] |= PAGE_LIVE;
      s.livePages++;
      slot.liveCount++;
    }
  }

  // ---------------------------------------------------------------- reads

  private startRead(op: PageOp): void {
    const f = this.s.flags[op.page];
    if ((f & PAGE_LOST) !== 0) {
      this.finishOp(op, 'lost');
      return;
    }
    if ((f & PAGE_LIVE) === 0) {
      this.finishOp(op, 'not-found');
      return;
    }
    const slot = this.s.slotOf(op.page);
    slot.readsInFlight++;
    this.tryRead(slot, op);
  }

  private tryRead(slot: Slot, op: PageOp): void {
    const s = this.s;
    let rep: Replica | undefined;
    // A live page lives in the slot's current binding; once lost, the slot may be re-bound
    // to a new set that never held this page, so never read from it.
    const stillLive = (s.flags[op.page] & PAGE_LIVE) !== 0;
    for (const r of stillLive ? slot.replicas : []) {
      if (!op.tried.includes(r)) {
        rep = r;
        break;
      }
    }
    if (rep === undefined) {
      slot.readsInFlight--;
      this.host.afterSlotActivity(slot);
      const lost = (s.flags[op.page] & PAGE_LOST) !== 0 || (s.flags[op.page] & PAGE_LIVE) === 0;
      this.finishOp(op, lost ? 'lost' : op.lastStatus);
      return;
    }
    const chosen = rep;
    op.tried.push(chosen);
    s.ctr[K.C_SLAB_READ]++;
    s.backendInflight++;
    const offset = (op.page - slot.firstPage) * s.geo.pageSizeBytes;
    chosen.backend.read(chosen.slab, offset, op.buf as Uint8Array, (status) => {
      s.backendInflight--;
      if (status === 'ok') {
        slot.readsInFlight--;
        this.host.afterSlotActivity(slot);
        this.finishOp(op, 'ok');
        return;
      }
      op.lastStatus = status;
      this.host.replicaFailed(slot, chosen, status);
      s.ctr[K.C_READ_RETRY]++;
      this.tryRead(slot, op);
    });
  }
}
