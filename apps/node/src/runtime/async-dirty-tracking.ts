import { PageState, type PageStore, type PagingEngine } from '@rackmem/vm';
import type { PagemapScanner } from '../native/pagemap-scan.js';
import { PAGER_COUNTER, type PagerCounters } from '../pager/stats.js';
import type { UffdMapper } from '../pager/uffd-mapper.js';
import { DirtyGuard } from './dirty-guard.js';
import type { DirectPageSource } from './local-page-store.js';
import { RescueWrites } from './rescue-writes.js';

/** Rescue writes in flight at most (see RescueWrites); each holds a 4 KiB copy. */
const MAX_RESCUES = 64;

/**
 * Asynchronous dirty tracking in the pager (userfaultfd WP_ASYNC + PAGEMAP_SCAN): the engine's
 * dirty probe, the guard that checks every page unmapped as clean, and the rescue writes of pages
 * it finds written after the probe looked. See the app README, "Dirty tracking".
 */
export class AsyncDirtyTracking {
  private readonly guard: DirtyGuard;
  private readonly rescues: RescueWrites;

  constructor(
    private readonly engine: PagingEngine,
    store: PageStore,
    direct: DirectPageSource | null,
    mapper: UffdMapper,
    private readonly counters: PagerCounters,
    scanner: PagemapScanner,
    /** Tests only: the probe never finds a write, so the guard must catch every one. */
    blindProbe: boolean,
    /** A page whose last bytes could not be stored: storage keeps a stale copy (the runtime poisons and reports it). */
    private readonly lost: (page: number) => void,
  ) {
    this.guard = new DirtyGuard(engine.config.pageCount, direct);
    this.rescues = new RescueWrites(store, MAX_RESCUES, lost);
    engine.setDirtyProbe((page) => {
      counters.add(PAGER_COUNTER.dirtyScans);
      return !blindProbe && scanner.writtenPages(mapper.addressOf(page), 1);
    });
  }

  /** A clean page was copied in (write-protected) from its frame slot. */
  mappedFromSlot(page: number): void {
    this.guard.mappedFromSlot(page);
  }

  /** A clean page was copied in (write-protected) straight from its stored copy. */
  mappedFromStore(page: number): void {
    this.guard.mappedFromStore(page);
  }

  /** A clean page was mapped (write-protected) as zeros. */
  mappedZero(page: number): void {
    this.guard.mappedZero(page);
  }

  /** Before a clean page is moved into its slot: the guard keeps the slot's bytes (see DirtyGuard). */
  beforeCleanUnmap(page: number, slotBytes: () => Uint8Array): void {
    this.guard.beforeUnmap(page, slotBytes);
  }

  /** A rescue write of `page` is out: a fetch must wait for it (a read before it lands would be stale). */
  rescuing(page: number): boolean {
    return this.rescues.has(page);
  }

  /** Runs `then(landed)` once the rescue write of `page` completed (at once if there is none). */
  afterRescue(page: number, then: (landed: boolean) => void): void {
    this.rescues.afterRescue(page, then);
  }

  /**
   * The engine let `page` go as clean; `bytes` are what was unmapped. A write after the probe
   * looked is never dropped: an inactive page keeps its frame, so the engine takes it back as the
   * only copy; otherwise the frame is the engine's to reuse, so the bytes go to storage now.
   */
  checkCleanUnmap(page: number, bytes: Uint8Array): void {
    if (this.guard.unchanged(page, bytes)) return;
    this.counters.add(PAGER_COUNTER.dirtyRaces);
    if (this.engine.pageState(page) === PageState.Inactive) {
      this.engine.remoteLost(page);
    } else if (this.rescues.start(page, bytes)) {
      this.counters.add(PAGER_COUNTER.rescueWrites);
    } else {
      this.lost(page);
    }
  }
}
