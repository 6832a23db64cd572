import * as K from './counters.js';
import { DvsError } from './errors.js';
import { NodeRegistry } from './node-registry.js';
import { validateRegionOptions, type DvsRegionOptions } from './options.js';
import type { PageIo } from './page-io.js';
import { createPlacement } from './placement.js';
import { RegionHub } from './region-hub.js';
import { PAGE_LIVE, PAGE_LOST, RegionState } from './region-state.js';
import { OP_DISCARD, OP_READ, OP_WRITE, PageOp, SLOT_BINDING, SLOT_BOUND } from './slot.js';
import type { Backend, IoDone } from './types.js';

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
 * This class is the public API: it checks arguments and bounds, then hands operations to the
 * region's modules (see the README's file map): PageIo (per-page order, binding, writes, reads),
 * SlabPool, RepairScheduler, and the RegionHub that ties them together over one RegionState.
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
  private readonly hub: RegionHub;
  private readonly io: PageIo;

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
    this.hub = new RegionHub(this.s); // subscribes to node health last, as before the split
    this.io = this.hub.io;
  }

  // ---------------------------------------------------------------- public API

  /** Read a live page into `into` (one page long). Completes 'not-found' if never written or discarded, 'lost' if lost. */
  readPage(page: number, into: Uint8Array, done: IoDone): void {
    this.admit(page, into);
    this.io.submit(new PageOp(OP_READ, page, into, done));
  }

  /** Store a page (one page long); the page is live once this completes 'ok'. Keep `data` unchanged until done. */
  writePage(page: number, data: Uint8Array, done: IoDone): void {
    this.admit(page, data);
    this.io.submit(new PageOp(OP_WRITE, page, data, done));
  }

  /** The caller no longer needs the stored copy of `page` (applied after earlier operations on the page). */
  discardPage(page: number): void {
    this.admit(page, null);
    this.io.submit(new PageOp(OP_DISCARD, page, null, null));
  }

  /** Whether the page holds stored data. */
  isLive(page: number): boolean {
    this.checkPage(page);
    return (this.s.flags[page] & PAGE_LIVE) !== 0;
  }

  /** Whether the page's data was lost (and not rewritten or discarded since). */
  isLost(page: number): boolean {
    this.checkPage(page);
    return (this.s.flags[page] & PAGE_LOST) !== 0;
  }

  /** Ordered name -> value snapshot of the counters. */
  counters(): K.DvsCounters {
    return K.snapshotCounters(this.s.ctr);
  }

  /** Current gauges. */
  gauges(): DvsGauges {
    const st = this.s;
    let degraded = 0;
    for (const s of st.slots) if (s.state === SLOT_BOUND && s.replicas.length < this.replication) degraded++;
    return {
      slotCount: this.slotCount,
      slotsBound: st.boundSlots,
      slotsBinding: st.bindingSlots,
      poolSets: this.hub.pool.size,
      livePages: st.livePages,
      lostPages: st.lostPages,
      degradedSlots: degraded,
      rebuildingSlots: this.hub.repair.rebuildingSlots,
      parkedRepairs: this.hub.repair.parkedRepairs,
      copiesInFlight: this.hub.repair.copiesInFlight,
      pendingOps: st.pendingOps,
      backendOpsInFlight: st.backendInflight,
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
    return this.hub.pool.nodeIds();
  }

  /**
   * Stop accepting operations, let accepted ones finish, then free every slab (bound and
   * pooled) and call `done('ok')` (synchronously when nothing is in flight).
   */
  close(done: IoDone): void {
    if (this.s.closing) throw new DvsError('region-closed', 'close was already called on this region');
    this.s.closing = true;
    this.hub.close(done);
  }

  // ---------------------------------------------------------------- admission

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
    if (this.s.pendingOps >= this.s.geo.maxPendingOps) {
      throw new DvsError('too-many-pending', `${this.s.pendingOps} operations are pending; wait for completions or raise maxPendingOps`);
    }
  }
}

/** Create a region (same as `new DvsRegion(options)`). */
export function createDvsRegion(options: DvsRegionOptions): DvsRegion {
  return new DvsRegion(options);
}
