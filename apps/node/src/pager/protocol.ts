import type { VmConfigInput } from '@rackmem/vm';
import type { StorageConfig } from '../runtime/storage-config.js';
import type { FaultLingerOptions } from './fault-linger.js';

/** The paging engine's setup, when the pager runs libs/vm's engine (see runtime/). */
export interface EngineWorkerConfig {
  /** The engine's configuration (pageCount is the region's page count). */
  vm: VmConfigInput;
  /** Where evicted pages go. */
  storage: StorageConfig;
  /** Shared counters, gauges and fault latency (see SharedEngineStats). */
  statsSab: SharedArrayBuffer;
  /**
   * How writes to clean pages are found when the engine tracks dirtiness. `auto` (default): the
   * uffd in WP_ASYNC mode (the kernel lets such writes through, no message) and PAGEMAP_SCAN
   * before a clean page leaves, where the kernel has both (Linux 6.7); otherwise write-protect
   * faults. `on`: asynchronous or fail. `off`: always write-protect faults.
   */
  asyncDirtyTracking?: AsyncDirtyTracking;
  /** Tests only: fault injection for paths that are rare on a real machine. Never set in production. */
  testHooks?: PagerTestHooks;
}

/** Fault injection for tests (see {@link EngineWorkerConfig.testHooks}). */
export interface PagerTestHooks {
  /** The dirty probe answers "clean" without scanning: every write to a clean page is left to the unmap guard (DirtyGuard). */
  blindDirtyProbe?: boolean;
  /** Every Nth UFFDIO_MOVE out of the region fails as if the page were pinned (EBUSY). */
  moveBusyEvery?: number;
}

/** See {@link EngineWorkerConfig.asyncDirtyTracking}. */
export type AsyncDirtyTracking = 'auto' | 'on' | 'off';

/** Data main hands to a pager worker (workerData). Only numbers and SharedArrayBuffers: never a region view (P17). */
export interface PagerWorkerData {
  /** Start address of the region (page-aligned). */
  regionAddress: number;
  /** Region size in bytes. */
  sizeBytes: number;
  /** Counters (see stats.ts). */
  countersSab: SharedArrayBuffer;
  /** Control ring (see control-ring.ts). */
  ringSab: SharedArrayBuffer;
  /** eventfd rung by main after pushing to the ring. */
  doorbellFd: number;
  /** eventfd rung by main to stop the worker. */
  stopFd: number;
  /** One int32: the worker sets it to 1 (and notifies) once it closed its poll handles at stop. */
  lifecycleSab: SharedArrayBuffer;
  /** CPUs to pin the pager thread to (sched_setaffinity), or empty for free placement. */
  cpus: number[];
  /** The fast path between faults (see FaultLinger); lingerMs 0 turns it off. */
  linger: FaultLingerOptions;
  /** When set, faults are decided by libs/vm's PagingEngine instead of the local page source. */
  engine?: EngineWorkerConfig;
  /** Source mode only: URL of worker-main.ts for the tsx bootstrap. */
  entryUrl?: string;
}

/** Messages from the pager worker to main. */
export type PagerWorkerMessage =
  | { type: 'ready'; uffdFd: number; enabledFeatures: number; registerIoctls: number; source: string; canMove: boolean; canProtect: boolean }
  | { type: 'failed'; code: string; message: string }
  | { type: 'command-failed'; seq: number; code: string; message: string }
  | { type: 'pages-lost'; pages: number[] }
  | { type: 'stopped' };
