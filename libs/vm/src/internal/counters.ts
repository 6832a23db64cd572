/**
 * Event counters of a region. The first block keeps the original rack_vm names and order
 * (`rack_vm/<pid>/stat`), so output can be compared line by line; `reclaim_inactive_miss` is not
 * kept because the engine is serialised and a victim cannot be re-activated under it. The second
 * block counts what the improvements do.
 */
export const VM_COUNTER_NAMES = [
  // The original's counters.
  'pgfault',
  'pgfault_read',
  'pgfault_write',
  'pgfault_collision',
  'pgfault_inactive',
  'reclaim_fast',
  'reclaim_slow',
  'accessed',
  'background_reclaim_task',
  'background_reclaim',
  'io_read',
  'io_write',
  'alloc_local_page',
  'free_local_page',
  'reclaim_inactive',
  'reclaim_active',
  'remap',
  'unmap',
  // Added by rackmem.
  'pgfault_major',
  'pgfault_wp',
  'pgfault_rescue',
  'pgfault_poisoned',
  'frame_wait',
  'poisoned',
  'writeback_batches',
  'writeback_failed',
  'writeback_skipped_clean',
  'dirtied',
  'prefetch_issued',
  'prefetch_useful',
  'prefetch_late',
  'prefetch_wasted',
  'prefetch_failed',
  'prefetch_mapped',
  'watermark_reclaim',
  'remote_lost',
  'budget_evict',
  'dirty_probe_hits',
] as const;

/** One counter name. */
export type VmCounterName = (typeof VM_COUNTER_NAMES)[number];

/**
 * Index of each counter in the counts array. A literal (not built with Object.fromEntries) so
 * that V8 keeps it a fast-properties object: hot paths read these constants on every event.
 */
export const C = {
  pgfault: 0,
  pgfault_read: 1,
  pgfault_write: 2,
  pgfault_collision: 3,
  pgfault_inactive: 4,
  reclaim_fast: 5,
  reclaim_slow: 6,
  accessed: 7,
  background_reclaim_task: 8,
  background_reclaim: 9,
  io_read: 10,
  io_write: 11,
  alloc_local_page: 12,
  free_local_page: 13,
  reclaim_inactive: 14,
  reclaim_active: 15,
  remap: 16,
  unmap: 17,
  pgfault_major: 18,
  pgfault_wp: 19,
  pgfault_rescue: 20,
  pgfault_poisoned: 21,
  frame_wait: 22,
  poisoned: 23,
  writeback_batches: 24,
  writeback_failed: 25,
  writeback_skipped_clean: 26,
  dirtied: 27,
  prefetch_issued: 28,
  prefetch_useful: 29,
  prefetch_late: 30,
  prefetch_wasted: 31,
  prefetch_failed: 32,
  prefetch_mapped: 33,
  watermark_reclaim: 34,
  remote_lost: 35,
  budget_evict: 36,
  dirty_probe_hits: 37,
} as const satisfies { readonly [K in VmCounterName]: number };

/** Counter storage: a Float64Array (exact integers to 2^53) indexed by `C`. */
export class VmCounters {
  /** Raw counts, indexed by `C[name]`. */
  readonly counts = new Float64Array(VM_COUNTER_NAMES.length);

  /** Value of one counter. */
  get(name: VmCounterName): number {
    return this.counts[C[name]];
  }

  /** Every counter in the stable documented order. */
  snapshot(): Record<VmCounterName, number> {
    const out = {} as Record<VmCounterName, number>;
    for (let i = 0; i < VM_COUNTER_NAMES.length; i++) out[VM_COUNTER_NAMES[i]] = this.counts[i];
    return out;
  }
}
