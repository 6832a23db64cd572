import * as K from './counters.js';
import type { NodeRegistry } from './node-registry.js';
import type { DvsRegionListener, RegionGeometry } from './options.js';
import type { Placement } from './placement.js';
import { Slot, type Replica } from './slot.js';
import type { IoStatus } from './types.js';

/** Page flag: a write completed and no discard since. */
export const PAGE_LIVE = 1;
/** Page flag: every copy was lost (reads complete 'lost' until a write or discard). */
export const PAGE_LOST = 2;
/** Page flag: an operation on the page is running (later ones queue). */
export const PAGE_BUSY = 4;

/** A slab whose operation failed this way may still be freed (its node and slab still exist). */
export function releasable(status: IoStatus): boolean {
  return status !== 'peer-lost' && status !== 'lost';
}

/**
 * The state of one region shared by its concept modules (page I/O, slab pool, repair). Plain
 * fields, no behaviour beyond lookups: each module declares with `Pick` which parts it uses.
 */
export class RegionState {
  /** Per-page PAGE_* bits. */
  readonly flags: Uint8Array;
  readonly slots: Slot[];
  readonly ctr = K.createCounterArray();
  /** Accepted page operations not yet completed (queued ones included). */
  pendingOps = 0;
  /** Backend operations issued and not yet completed (close waits for zero). */
  backendInflight = 0;
  boundSlots = 0;
  bindingSlots = 0;
  livePages = 0;
  lostPages = 0;
  /** close() was called: refuse new work, start no repairs or refills. */
  closing = false;

  constructor(
    readonly geo: RegionGeometry,
    readonly registry: NodeRegistry,
    readonly placement: Placement,
    readonly listener: DvsRegionListener | undefined,
  ) {
    this.flags = new Uint8Array(geo.pageCount);
    this.slots = [];
    for (let i = 0; i < geo.slotCount; i++) {
      const firstPage = i * geo.pagesPerSlab;
      const pages = Math.min(geo.pagesPerSlab, geo.pageCount - firstPage);
      this.slots.push(new Slot(i, firstPage, pages, pages * geo.pageSizeBytes));
    }
  }

  slotOf(page: number): Slot {
    return this.slots[Math.floor(page / this.geo.pagesPerSlab)];
  }

  /** The replica's node is healthy and has not been lost since the slab was allocated. */
  current(rep: Replica): boolean {
    return this.registry.isHealthy(rep.nodeId) && this.registry.epoch(rep.nodeId) === rep.epoch;
  }
}
