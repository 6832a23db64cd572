import { DvsError } from './errors.js';
import type { NodeRegistry } from './node-registry.js';
import type { PlacementKind } from './placement.js';
import type { Backend, RandomSource } from './types.js';

/** Default slab size: 64 MiB, as in the original. */
export const DVS_DEFAULT_SLAB_SIZE_BYTES = 64 * 1024 * 1024;
/** Default page size: 4 KiB. */
export const DVS_DEFAULT_PAGE_SIZE_BYTES = 4096;

/** Receives a region's events. */
export interface DvsRegionListener {
  /** Pages whose every stored copy was lost (reported once per loss). */
  pagesLost?(pages: readonly number[]): void;
}

/** Options of a {@link DvsRegion}. */
export interface DvsRegionOptions {
  /** Size of the region's byte space; a multiple of the page size. */
  sizeBytes: number;
  /** Page size (default 4096); divides the slab size. */
  pageSizeBytes?: number;
  /** Slab size (default 64 MiB); a multiple of the page size. */
  slabSizeBytes?: number;
  /** Copies of every page on distinct nodes (default 1). */
  replication?: number;
  /** Placement policy (default 'round-robin'). */
  placement?: PlacementKind;
  /** Random source; required for 'two-choices'. */
  random?: RandomSource;
  /** The nodes: a shared registry, or backends for a private one. */
  nodes: NodeRegistry | readonly Backend[];
  /** Event receiver. */
  listener?: DvsRegionListener;
  /** Bound on accepted, uncompleted page operations (default 65 536). */
  maxPendingOps?: number;
  /** Bound on page copies in flight for re-replication; also the number of copy buffers (default 8). */
  maxCopiesInFlight?: number;
  /** Bound on slots being re-replicated at once (default 4). */
  maxConcurrentRebuilds?: number;
}

/** Validated geometry and limits. */
export interface RegionGeometry {
  sizeBytes: number;
  pageSizeBytes: number;
  slabSizeBytes: number;
  replication: number;
  pagesPerSlab: number;
  pageCount: number;
  slotCount: number;
  lowWaterSets: number;
  refillSets: number;
  poolMaxSets: number;
  maxPendingOps: number;
  maxCopiesInFlight: number;
  maxConcurrentRebuilds: number;
}

function positiveInt(name: string, value: number, hint: string): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new DvsError('invalid-option', `${name} must be a positive safe integer, got ${value}; ${hint}`);
  }
  return value;
}

/** Validate region options (typed errors) and derive the geometry. */
export function validateRegionOptions(o: DvsRegionOptions): RegionGeometry {
  const sizeBytes = positiveInt('sizeBytes', o.sizeBytes, 'give the region size in bytes');
  const pageSizeBytes = positiveInt('pageSizeBytes', o.pageSizeBytes ?? DVS_DEFAULT_PAGE_SIZE_BYTES, 'e.g. 4096');
  const slabSizeBytes = positiveInt('slabSizeBytes', o.slabSizeBytes ?? DVS_DEFAULT_SLAB_SIZE_BYTES, 'e.g. 64 MiB');
  const replication = positiveInt('replication', o.replication ?? 1, 'use 1 (no copies) up to 8');
  if (replication > 8) throw new DvsError('invalid-option', `replication ${replication} is above 8; use 1 to 8`);
  if (slabSizeBytes % pageSizeBytes !== 0) {
    throw new DvsError('invalid-option', `pageSizeBytes ${pageSizeBytes} must divide slabSizeBytes ${slabSizeBytes}`);
  }
  if (sizeBytes % pageSizeBytes !== 0) {
    throw new DvsError('invalid-option', `sizeBytes ${sizeBytes} must be a multiple of pageSizeBytes ${pageSizeBytes}`);
  }
  const pageCount = sizeBytes / pageSizeBytes;
  if (pageCount > 2 ** 31) {
    throw new DvsError('invalid-option', `the region has ${pageCount} pages, above 2^31; use larger pages or a smaller region`);
  }
  const placement = o.placement ?? 'round-robin';
  if (placement !== 'round-robin' && placement !== 'two-choices') {
    throw new DvsError('invalid-option', `placement must be 'round-robin' or 'two-choices', got '${String(placement)}'`);
  }
  if (placement === 'two-choices' && o.random === undefined) {
    throw new DvsError('invalid-option', "placement 'two-choices' needs a `random` source; pass a seeded stream");
  }
  if (o.nodes === undefined || o.nodes === null) {
    throw new DvsError('invalid-option', 'nodes is required: a NodeRegistry or an array of backends');
  }
  const slotCount = Math.ceil(sizeBytes / slabSizeBytes);
  // Rounded up (not the original's integer division), so small regions have a pool too.
  const lowWaterSets = Math.ceil(slotCount * 0.025);
  const refillSets = Math.ceil(slotCount * 0.05);
  return {
    sizeBytes,
    pageSizeBytes,
    slabSizeBytes,
    replication,
    pagesPerSlab: slabSizeBytes / pageSizeBytes,
    pageCount,
    slotCount,
    lowWaterSets,
    refillSets,
    poolMaxSets: lowWaterSets + refillSets,
    maxPendingOps: positiveInt('maxPendingOps', o.maxPendingOps ?? 65_536, 'bound the accepted operations'),
    maxCopiesInFlight: positiveInt('maxCopiesInFlight', o.maxCopiesInFlight ?? 8, 'e.g. 8'),
    maxConcurrentRebuilds: positiveInt('maxConcurrentRebuilds', o.maxConcurrentRebuilds ?? 4, 'e.g. 4'),
  };
}
