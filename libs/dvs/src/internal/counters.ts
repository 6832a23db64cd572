/** Names of a region's counters, in snapshot order (the original's eight first). */
export const DVS_COUNTER_NAMES = [
  'slab_alloc',
  'slab_free',
  'get_slab_fast',
  'get_slab_slow',
  'update_slab_pool',
  'reclaim_slab',
  'slab_read',
  'slab_write',
  'replica_lost',
  'rereplicated_pages',
  'pages_lost',
  'degraded_bind',
  'read_retry',
  'write_replica_failed',
  'alloc_failed',
  'repair_started',
  'repair_completed',
] as const;

/** One counter name. */
export type DvsCounterName = (typeof DVS_COUNTER_NAMES)[number];

/** An ordered name -> value snapshot of a region's counters. */
export type DvsCounters = { readonly [K in DvsCounterName]: number };

export const C_SLAB_ALLOC = 0;
export const C_SLAB_FREE = 1;
export const C_GET_SLAB_FAST = 2;
export const C_GET_SLAB_SLOW = 3;
export const C_UPDATE_SLAB_POOL = 4;
export const C_RECLAIM_SLAB = 5;
export const C_SLAB_READ = 6;
export const C_SLAB_WRITE = 7;
export const C_REPLICA_LOST = 8;
export const C_REREPLICATED_PAGES = 9;
export const C_PAGES_LOST = 10;
export const C_DEGRADED_BIND = 11;
export const C_READ_RETRY = 12;
export const C_WRITE_REPLICA_FAILED = 13;
export const C_ALLOC_FAILED = 14;
export const C_REPAIR_STARTED = 15;
export const C_REPAIR_COMPLETED = 16;

/** Counter storage: a Float64Array indexed by the C_* constants. */
export function createCounterArray(): Float64Array {
  return new Float64Array(DVS_COUNTER_NAMES.length);
}

/** Ordered snapshot of a counter array. */
export function snapshotCounters(values: Float64Array): DvsCounters {
  const out: Record<string, number> = {};
  for (let i = 0; i < DVS_COUNTER_NAMES.length; i++) out[DVS_COUNTER_NAMES[i]] = values[i];
  return out as DvsCounters;
}
