/**
 * @packageDocumentation
 * Distributed virtual storage: regions of pages stored in slabs on memory nodes, bound lazily,
 * with a background slab pool, placement, replication with background repair, and exact
 * live-page accounting. I/O-free: backends implement the {@link Backend} port.
 */

/** Completion status of an operation. */
export type { IoStatus } from './internal/types.js';
/** Uniform random integers (a seeded stream). */
export type { RandomSource } from './internal/types.js';
/** Completion callback of a read or write. */
export type { IoDone } from './internal/types.js';
/** Completion callback of an allocation. */
export type { AllocDone } from './internal/types.js';
/** The Backend port: one memory node (or local DRAM). */
export type { Backend } from './internal/types.js';

/** Typed error of this package. */
export { DvsError } from './internal/errors.js';
/** Codes of {@link DvsError}. */
export type { DvsErrorCode } from './internal/errors.js';

/** Local-memory backend. */
export { createDramBackend } from './internal/dram-backend.js';
/** Options of {@link createDramBackend}. */
export type { DramBackendOptions } from './internal/dram-backend.js';

/** In-memory multi-node backend for tests and the simulator. */
export { MemoryNodeSet } from './internal/memory-node-set.js';
/** Options and helper types of {@link MemoryNodeSet}. */
export type { DeliveryMode, MemoryNodeSetOptions, MemoryNodeSpec, PendingOpInfo } from './internal/memory-node-set.js';

/** Registry of nodes and their health. */
export { NodeRegistry } from './internal/node-registry.js';
/** Health of a node and the listener of changes. */
export type { NodeHealth, NodeHealthListener } from './internal/node-registry.js';

/** Placement policy names. */
export type { PlacementKind } from './internal/placement.js';

/** A region of pages and its factory. */
export { DvsRegion, createDvsRegion } from './internal/region.js';
/** Gauges and slot diagnostics of a region. */
export type { DvsGauges, DvsSlotInfo } from './internal/region.js';
/** Region options, listener, and default sizes. */
export {
  DVS_DEFAULT_PAGE_SIZE_BYTES,
  DVS_DEFAULT_SLAB_SIZE_BYTES,
} from './internal/options.js';
/** Options and listener of a region. */
export type { DvsRegionListener, DvsRegionOptions } from './internal/options.js';

/** Counter names (snapshot order) and snapshot type. */
export { DVS_COUNTER_NAMES } from './internal/counters.js';
/** Counter name and ordered snapshot. */
export type { DvsCounterName, DvsCounters } from './internal/counters.js';
/** The `remote` backend: slabs on a donor node through the krdma Fabric port. */
export { createRemoteBackend, ioStatusOf } from './internal/remote-backend.js';
export type { RemoteBackendOptions } from './internal/remote-backend.js';
