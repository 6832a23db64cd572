import { PAGE_SIZE_BYTES } from '../native/constants.js';
import { RegionMemory } from '../native/region-memory.js';
import { Pager, type PagerOptions } from '../pager/pager.js';
import type { PagerStats } from '../pager/stats.js';
import { type PolicySetName, resolveVmConfig, type VmConfigInput } from '@rackmem/vm';
import { UFFD_FEATURE } from '../native/uffd-abi.js';
import type { AsyncDirtyTracking, PagerTestHooks } from '../pager/protocol.js';
import { type EngineStats, SharedEngineStats } from '../runtime/engine-stats.js';
import type { StorageConfig } from '../runtime/storage-config.js';
import { RuntimeOp } from '../runtime/uffd-runtime.js';

/** Options of {@link PagedRegion.open}. */
export interface PagedRegionOptions {
  /** Region name (stats, API, logs). */
  name: string;
  /** Region size in bytes (a multiple of 4 KiB). */
  sizeBytes: number;
  /** Local memory budget in bytes (at least one page; at most the region size). */
  localBytes: number;
  /** Policy set (default `rackmem2021`); `vm` overrides single switches. */
  policySet?: PolicySetName;
  vm?: Omit<Partial<VmConfigInput>, 'pageCount' | 'localPages' | 'policySet'>;
  /** Where evicted pages go (default: local DRAM in the pager). */
  storage?: StorageConfig;
  /** Pin the pager thread to these CPUs. */
  cpus?: number[];
  /** How the pager waits between faults (see PagerOptions.linger). */
  linger?: PagerOptions['linger'];
  /** Called with pages storage lost (replication exhausted): they are poisoned, touching one raises SIGBUS. */
  onPagesLost?: (pages: number[]) => void;
  /** How writes to clean pages are found under dirty tracking (default `auto`; see EngineWorkerConfig). */
  asyncDirtyTracking?: AsyncDirtyTracking;
  /** Tests only: fault injection (see PagerTestHooks). */
  testHooks?: PagerTestHooks;
}

const ASYNC_DIRTY_MODES: readonly AsyncDirtyTracking[] = ['auto', 'on', 'off'];

/** How a region learns which pages were written: `async` (WP_ASYNC + PAGEMAP_SCAN), `write-protect` faults, or `off` (every page leaving is written back). */
export type DirtyTrackingMode = 'async' | 'write-protect' | 'off';

/** A typed error of the region API. */
export class RegionError extends Error {
  constructor(readonly code: 'invalid-size' | 'invalid-limit' | 'invalid-option' | 'closed', message: string) {
    super(message);
    this.name = 'RegionError';
  }
}

/**
 * A region of memory paged by rackmem: its pages beyond the local budget live in storage (local
 * or on donor nodes), transparently to code that reads and writes it. Backed by an anonymous
 * mapping registered with userfaultfd; one pager worker thread runs the paging engine for it.
 */
export class PagedRegion {
  private closed = false;

  private constructor(
    readonly name: string,
    readonly memory: RegionMemory,
    private readonly pager: Pager,
    private readonly shared: SharedEngineStats,
    private localBytesNow: number,
    /** How this region learns which pages were written. */
    readonly dirtyTracking: DirtyTrackingMode,
  ) {}

  /** Maps the region, starts its pager and returns once faults on it are served. */
  static async open(options: PagedRegionOptions): Promise<PagedRegion> {
    const { sizeBytes, localBytes } = options;
    if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0 || sizeBytes % PAGE_SIZE_BYTES !== 0) {
      throw new RegionError('invalid-size', `region size ${sizeBytes} must be a positive multiple of ${PAGE_SIZE_BYTES} bytes`);
    }
    checkLimit(localBytes, sizeBytes);
    if (options.asyncDirtyTracking !== undefined && !ASYNC_DIRTY_MODES.includes(options.asyncDirtyTracking)) {
      throw new RegionError('invalid-option', `asyncDirtyTracking "${String(options.asyncDirtyTracking)}" is not one of ${ASYNC_DIRTY_MODES.join(', ')}`);
    }
    const vm: VmConfigInput = { prefetchMapped: true, ...options.vm, pageCount: sizeBytes / PAGE_SIZE_BYTES, localPages: Math.floor(localBytes / PAGE_SIZE_BYTES), policySet: options.policySet ?? 'rackmem2021' };
    const tracking = resolveVmConfig(vm).dirtyTracking; // also validates before anything is mapped
    const memory = RegionMemory.map(sizeBytes);
    const shared = new SharedEngineStats();
    try {
      const pager = await Pager.start({
        region: memory,
        cpus: options.cpus,
        linger: options.linger,
        onPagesLost: options.onPagesLost,
        engine: {
          vm,
          storage: options.storage ?? { kind: 'local' },
          statsSab: shared.sab,
          asyncDirtyTracking: options.asyncDirtyTracking,
          testHooks: options.testHooks,
        },
      });
      const wpAsync = (pager.info.enabledFeatures & UFFD_FEATURE.WP_ASYNC) !== 0;
      return new PagedRegion(options.name, memory, pager, shared, localBytes, !tracking ? 'off' : wpAsync ? 'async' : 'write-protect');
    } catch (err) {
      memory.unmap();
      throw err;
    }
  }

  /** Region size in bytes. */
  get sizeBytes(): number {
    return this.memory.sizeBytes;
  }

  /** The local budget in bytes. */
  get localBytes(): number {
    return this.localBytesNow;
  }

  /** The region as ArrayBuffers of at most 1 GiB each (never postMessage them: that touches every page). */
  arrayBuffers(): readonly ArrayBuffer[] {
    this.checkOpen();
    return this.memory.arrayBuffers();
  }

  /** Engine counters, gauges and fault latency, plus the pager thread's own counters. */
  stats(): EngineStats & { pager: PagerStats } {
    return { ...this.shared.snapshot(), pager: this.pager.stats() };
  }

  /** Changes the local budget at run time (the original's `memory_limit_bytes`); a smaller one is enforced at once. */
  async setLimit(bytes: number): Promise<void> {
    this.checkOpen();
    checkLimit(bytes, this.sizeBytes);
    await this.pager.control(RuntimeOp.SetBudget, Math.floor(bytes / PAGE_SIZE_BYTES));
    this.localBytesNow = bytes;
  }

  /** Runs the engine's periodic work now and waits for it (tests). */
  async sync(): Promise<void> {
    this.checkOpen();
    await this.pager.control(RuntimeOp.Tick, 0);
  }

  /** Stops the pager in order (unregister, close the uffd, stop the worker) and unmaps the region. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pager.stop();
    this.memory.unmap();
  }

  private checkOpen(): void {
    if (this.closed) throw new RegionError('closed', `region ${this.name} is closed`);
  }
}

function checkLimit(bytes: number, sizeBytes: number): void {
  if (!Number.isSafeInteger(bytes) || bytes < PAGE_SIZE_BYTES || bytes > sizeBytes) {
    throw new RegionError('invalid-limit', `local memory limit ${bytes} must be between ${PAGE_SIZE_BYTES} bytes (one page) and the region size ${sizeBytes}`);
  }
}
