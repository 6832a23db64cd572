import { deferMicrotask, type DirectReceiver } from '@rackmem/krdma';
import { Command, COMMAND_NAMES, type PageStore, type PagingEngine, writeBackBatch } from '@rackmem/vm';
import { diagnose } from '../pager/fault-loop.js';

/** Set RACKMEM_PAGER_TRACE=1 to log every command the pager carries out (stderr; slow). */
const TRACE = process.env.RACKMEM_PAGER_TRACE === '1';
import { residentPages } from '../native/libc.js';
import { UFFD_PAGEFAULT_FLAG } from '../native/uffd-abi.js';
import { PagerOp } from '../pager/control-ring.js';
import type { PagerTestHooks } from '../pager/protocol.js';
import type { FaultHandler } from '../pager/fault-handler.js';
import { CommandResult } from '../pager/local-page-source.js';
import { PAGER_COUNTER, type PagerCounters } from '../pager/stats.js';
import type { UffdMapper } from '../pager/uffd-mapper.js';
import type { FrameStore} from './frame-store.js';
import { Slot } from './frame-store.js';
import type { SharedEngineStats } from './engine-stats.js';
import type { DirectPageSource } from './local-page-store.js';
import { FaultTimer } from './fault-timer.js';
import { FillRun } from './fill-run.js';
import { RegionMemory } from '../native/region-memory.js';
import { PAGE_SIZE_BYTES } from '../native/constants.js';
import type { PagemapScanner } from '../native/pagemap-scan.js';
import { AsyncDirtyTracking } from './async-dirty-tracking.js';

function isDirectPageSource(store: PageStore): store is PageStore & DirectPageSource {
  return typeof (store as Partial<DirectPageSource>).storedPageAddress === 'function';
}

/** errno of UFFDIO_MOVE when the page has an extra reference (pinned, or a transient GUP / migration). */
const EBUSY = 16;
/** MOVE attempts before falling back to a copy (a transient reference usually goes away at once). */
const MOVE_ATTEMPTS = 3;
/** `moveOut` result: the page stayed busy and stays mapped (asynchronous dirty tracking). */
const KEPT_MAPPED = -2;

function isBusy(err: unknown): boolean {
  return (err as { errno?: number }).errno === EBUSY;
}

/**
 * Faults timed for the latency histogram: one in this many (a power of two). Two clock reads and a
 * histogram update cost ~0.2 µs per fault on the development VM, a sixth of what a local fault
 * costs the pager beyond the C reference handler; a 1-in-4 sample keeps the percentiles.
 */
const LATENCY_SAMPLE_EVERY = 4;

/** Control operations the runtime adds to the pager's (see `PagerOp`). */
export const RuntimeOp = {
  /** Set the local budget to `arg` pages. */
  SetBudget: 16,
  /** Run the engine's reclaim checks and publish stats (a barrier for tests). */
  Tick: 17,
} as const;

/**
 * The userfaultfd runtime of the paging engine, on the pager thread: userfaultfd messages become
 * engine events, and the engine's commands become uffd ioctls on the region, moves between the
 * region and the frame store, and page I/O on storage (a dvs region, local or remote). Nothing
 * here waits for the main thread, which may be the faulting thread. Completions from storage
 * arrive on this thread's event loop (or synchronously for local storage) and feed the engine.
 */
export class UffdRuntime implements FaultHandler {
  private draining = false;
  /** Storage reads and writes issued and not yet completed (remote ones complete on the event loop, or in the linger's poll). */
  private storageOpsInFlight = 0;
  private readonly faultTimer = new FaultTimer();
  /** Faults seen (the latency sample's counter). */
  private faultsSeen = 0;
  /** Prefetched pages waiting to be installed together. */
  private readonly run = new FillRun();
  /**
   * Remote storage: where a run's pages are gathered back to back (their frames are scattered),
   * so one UFFDIO_COPY installs a prefetch window whose replies arrived in one read. Null for
   * local storage, whose runs copy straight from the stored pages.
   */
  private readonly gather: RegionMemory | null;
  private readonly gatherBytes: Uint8Array | null;
  /** A pump is queued for the end of the current I/O callback (prefetch completions batch there). */
  private pumpQueued = false;
  /** Closed: frames and buffers are unmapped; late storage completions must not touch them. */
  private closed = false;
  private readonly batchScratch: Int32Array;
  /** Storage that hands out page addresses (local storage): fills copy from it directly. */
  private readonly direct: DirectPageSource | null;
  /** Asynchronous dirty tracking (WP_ASYNC + PAGEMAP_SCAN), or null (write-protect faults, or none). */
  private readonly async: AsyncDirtyTracking | null = null;
  /** Pages whose eviction was given up (busy under async tracking): still mapped, being taken back by the engine. */
  private readonly kept = new Set<number>();
  /** UFFDIO_MOVEs out of the region so far (for the `moveBusyEvery` test hook). */
  private movesOut = 0;
  readonly directIo: DirectReceiver | null;

  constructor(
    private readonly engine: PagingEngine,
    private readonly store: PageStore,
    private readonly mapper: UffdMapper,
    private readonly frames: FrameStore,
    private readonly counters: PagerCounters,
    private readonly stats: SharedEngineStats,
    private readonly clock: () => number,
    private readonly closeStorage: () => Promise<void> = async () => {},
    /** Tells main which pages storage lost (they are poisoned). */
    private readonly reportLost: (pages: number[]) => void = () => {},
    /** Set when the uffd is in WP_ASYNC mode: writes to clean pages are found by scanning. */
    scanner: PagemapScanner | null = null,
    /** Tests only: fault injection. */
    private readonly testHooks: PagerTestHooks = {},
    /** Remote storage whose connections the pager may read in its own poll (TCP), or null. */
    storageIo: DirectReceiver | null = null,
  ) {
    this.directIo = storageIo === null ? null : {
      get receiveFds() {
        return storageIo.receiveFds;
      },
      receiveNow: (fd) => storageIo.receiveNow(fd),
      endTurn: () => {
        // What microtasks would do at the end of this turn, now: the pager is about to sleep in
        // its own poll, where they do not run. Storage's deferred work and writes, the queued
        // end-of-callback pump, then the writes that pump made.
        storageIo.endTurn();
        if (this.pumpQueued) {
          this.pumpQueued = false;
          this.pump();
          storageIo.endTurn();
        }
      },
    };
    this.batchScratch = new Int32Array(Math.max(1, engine.config.writebackBatchPages));
    this.direct = isDirectPageSource(store) ? store : null;
    this.gather = this.direct === null ? RegionMemory.map(this.run.maxPages * PAGE_SIZE_BYTES) : null;
    this.gatherBytes = this.gather?.bytes(0, this.gather.sizeBytes) ?? null;
    if (scanner !== null && engine.config.dirtyTracking) {
      this.async = new AsyncDirtyTracking(engine, store, this.direct, mapper, counters, scanner, testHooks.blindDirtyProbe === true, (page) => this.rescueFailed(page));
    }
  }

  onFault(page: number, flags: number): void {
    const c = this.counters;
    c.add(PAGER_COUNTER.faults);
    const isWrite = (flags & UFFD_PAGEFAULT_FLAG.WRITE) !== 0;
    if (isWrite) c.add(PAGER_COUNTER.writeFaults);
    if (flags & UFFD_PAGEFAULT_FLAG.WP) {
      c.add(PAGER_COUNTER.wpFaults);
      if (this.engine.pageState(page) === 1 /* active */) this.engine.dirtied(page);
      else this.mapper.wake(page, 1); // stale: the page was evicted since; the retry faults normally
    } else {
      // Every fault is tracked as waiting; one in LATENCY_SAMPLE_EVERY is also timed (see there).
      const timed = (++this.faultsSeen & (LATENCY_SAMPLE_EVERY - 1)) === 0;
      this.faultTimer.start(page, timed ? this.clock() : -1);
      this.engine.fault(page, isWrite);
    }
    this.pump();
  }

  /**
   * Local storage completes inside the call, so the pager may wait for the next fault in its own
   * poll. Remote storage completes on the event loop, unless the pager reads its connections in
   * that poll too (`directIo`, see FaultLinger).
   */
  awaitsLoop(): boolean {
    return this.storageOpsInFlight > 0 || this.direct === null;
  }

  storageInFlight(): boolean {
    return this.storageOpsInFlight > 0;
  }

  faultAwaitsStorage(): boolean {
    // Open faults are threads waiting; with storage busy, they wait for it (a fetch, or a write-back that frees a frame).
    return this.storageOpsInFlight > 0 && this.faultTimer.openCount > 0;
  }

  onCommand(op: number, firstPage: number, count: number, arg: number): number {
    switch (op) {
      case RuntimeOp.SetBudget:
        if (!(arg >= 1)) return CommandResult.OutOfRange;
        this.engine.setBudget(arg);
        break;
      case RuntimeOp.Tick:
      case PagerOp.Barrier:
        this.engine.tick(Math.round(this.clock() * 1e6));
        break;
      default:
        return CommandResult.Unsupported;
    }
    this.pump();
    this.publish();
    void firstPage;
    void count;
    return CommandResult.Ok;
  }

  /** Periodic: lets time-based reclaim run while no faults arrive. */
  tick(): void {
    this.engine.tick(Math.round(this.clock() * 1e6));
    this.pump();
    this.publish();
  }

  close(): void {
    this.closed = true;
    this.frames.close();
    this.gather?.unmap();
    // Sockets close on this thread's loop; the worker exits once they are gone.
    void this.closeStorage();
  }

  /** Storage lost its copy of these pages (a donor died with no replica left). */
  pagesLost(pages: readonly number[]): void {
    if (TRACE) diagnose(`storage lost ${pages.length} pages`);
    this.reportLost([...pages]);
    for (const page of pages) this.engine.remoteLost(page);
    this.pump();
  }

  /** Carries out every queued command. Re-entrant calls fold into the outer loop. */
  pump(): void {
    if (this.draining || this.closed) return;
    this.draining = true;
    try {
      this.drain();
    } finally {
      // Even when a command threw: the engine counts the run's pages as mapped.
      this.installRun();
      this.draining = false;
    }
  }

  /** Copies counters and gauges to main's shared view (on ticks and commands, not per fault). */
  publish(): void {
    this.stats.publish(this.engine.counters.counts, this.engine.gauges());
  }

  private drain(): void {
    const q = this.engine.commands;
    while (q.next()) {
      const page = q.page;
      const frame = q.frame;
      if (this.run.size > 0 && q.kind !== Command.Map) this.installRun(); // keep the commands' order
      if (TRACE) diagnose(`command ${COMMAND_NAMES[q.kind]} page ${page} frame ${frame} arg ${q.arg}`);
      switch (q.kind) {
        case Command.Fetch:
        case Command.Prefetch:
          this.fetch(page, frame);
          break;
        case Command.ZeroFill:
          this.frames.clear(frame);
          this.frames.set(frame, Slot.Zero);
          break;
        case Command.Map:
          if (!this.deferMap(page, frame, q.arg === 1)) {
            this.installRun();
            this.map(page, frame, q.arg === 1);
          }
          break;
        case Command.Unmap:
          this.unmap(page, frame);
          break;
        case Command.Writeback:
          this.writeBatch(q.arg);
          break;
        case Command.Discard:
          this.store.discardPage(page);
          break;
        case Command.Poison:
          this.poison(page);
          break;
        case Command.Wake:
          this.mapper.wake(page, 1);
          this.faultDone(page);
          break;
        case Command.Unprotect:
          this.mapper.unprotect(page, 1);
          break;
      }
    }
  }

  private fetch(page: number, frame: number): void {
    // Storage gets the page's last bytes from a rescue write: read only after it landed.
    if (this.async !== null && this.async.rescuing(page)) {
      this.storageOpsInFlight++;
      this.async.afterRescue(page, (landed) => {
        this.storageOpsInFlight--;
        if (landed) this.fetch(page, frame);
        else this.engine.fetchDone(page, false);
        this.pump();
      });
      return;
    }
    if (this.direct !== null) {
      // Local storage: the map that follows copies straight from the stored page.
      const address = this.direct.storedPageAddress(page);
      if (address >= 0) this.frames.setDirect(frame, address);
      this.engine.fetchDone(page, address >= 0);
      this.pump();
      return;
    }
    this.frames.prepareForWrite(frame);
    const into = this.frames.bytes(frame);
    this.frames.set(frame, Slot.Data);
    this.storageOpsInFlight++;
    this.store.readPage(page, into, (status) => {
      this.storageOpsInFlight--;
      this.engine.fetchDone(page, status === 'ok');
      // A waiting thread is served now; prefetched pages wait for the end of this I/O callback,
      // so the replies that arrived together are mapped together (one UFFDIO_COPY, see FillRun).
      if (this.faultTimer.has(page)) this.pump();
      else this.pumpSoon();
    });
  }

  private readonly pumpQueuedNow = (): void => {
    if (!this.pumpQueued) return; // run already, by the linger's endTurn
    this.pumpQueued = false;
    this.pump();
  };

  private pumpSoon(): void {
    if (this.pumpQueued) return;
    this.pumpQueued = true;
    deferMicrotask(this.pumpQueuedNow);
  }

  /**
   * Holds back the map of a prefetched page that extends the pending run (see FillRun): over
   * local storage a page stored next to the previous one, over remote storage any next page (its
   * bytes are gathered behind the previous one's). False when it must be mapped now.
   */
  private deferMap(page: number, frame: number, writeProtect: boolean): boolean {
    if (this.faultTimer.has(page) || this.kept.has(page)) return false;
    const slot = this.frames.state(frame);
    if (slot === Slot.Direct) {
      const source = this.frames.directAddress(frame);
      if (this.run.tryAppend(page, frame, source, writeProtect)) return true;
      this.installRun();
      return this.run.tryAppend(page, frame, source, writeProtect);
    }
    if (slot !== Slot.Data || this.gather === null) return false;
    if (!this.run.tryAppend(page, frame, this.gather.address + this.run.size * PAGE_SIZE_BYTES, writeProtect)) {
      this.installRun();
      this.run.tryAppend(page, frame, this.gather.address, writeProtect);
    }
    this.gatherBytes!.set(this.frames.bytes(frame), (this.run.size - 1) * PAGE_SIZE_BYTES);
    return true;
  }

  /** Installs the pending run with one UFFDIO_COPY. */
  private installRun(): void {
    const run = this.run;
    const n = run.size;
    if (n === 0) return;
    const first = run.firstPage;
    const source = run.source;
    const writeProtect = run.writeProtect;
    run.clear(); // first: a throwing copy must not be retried from the finally in pump()
    this.mapper.copyIn(first, source, n, true, writeProtect);
    const gathered = this.gather !== null;
    for (let i = 0; i < n; i++) {
      const frame = run.frames[i];
      if (gathered) {
        // The frame keeps a stale copy until it is reused, as after a single-page COPY.
        if (writeProtect) this.async?.mappedFromSlot(first + i);
        this.frames.set(frame, Slot.Stale);
      } else {
        if (writeProtect) this.async?.mappedFromStore(first + i);
        this.frames.directDone(frame);
      }
      this.faultDone(first + i);
    }
    this.counters.add(PAGER_COUNTER.storeFills, n);
    if (n > 1) {
      this.counters.add(PAGER_COUNTER.multiPageFills);
      this.counters.add(PAGER_COUNTER.multiPageFillPages, n);
    }
  }

  private map(page: number, frame: number, writeProtect: boolean): void {
    if (this.kept.size > 0 && this.kept.delete(page)) {
      this.mapKept(page, frame);
      return;
    }
    const slot = this.frames.state(frame);
    if (slot === Slot.Direct) {
      if (writeProtect) this.async?.mappedFromStore(page);
      this.mapper.copyIn(page, this.frames.directAddress(frame), 1, true, writeProtect);
      this.frames.directDone(frame);
      this.counters.add(PAGER_COUNTER.storeFills);
    } else if (slot === Slot.Zero) {
      if (writeProtect) this.async?.mappedZero(page);
      this.mapper.zeroFill(page, 1, !writeProtect);
      if (writeProtect) this.mapper.protect(page, 1);
      this.counters.add(PAGER_COUNTER.zeroFills);
      this.frames.set(frame, Slot.Empty);
    } else if (writeProtect) {
      // COPY can install write-protected; the slot keeps a stale copy until it is reused.
      this.mapper.copyIn(page, this.frames.address(frame), 1, true, true);
      this.async?.mappedFromSlot(page); // the slot keeps these bytes until the page's unmap
      // The slot's page is stale now; one moved from a write-protected mapping stays marked so.
      if (slot !== Slot.DataWriteProtected) this.frames.set(frame, Slot.Stale);
      this.counters.add(PAGER_COUNTER.storeFills);
    } else {
      // Zero-copy: the slot's physical page moves into the region (COPY if the move is refused).
      if (this.moveIn(page, frame)) this.frames.set(frame, Slot.Empty);
      else if (slot !== Slot.DataWriteProtected) this.frames.set(frame, Slot.Stale);
      this.counters.add(PAGER_COUNTER.storeFills);
    }
    this.faultDone(page);
  }

  private unmap(page: number, frame: number): void {
    const protectedPage = this.engine.config.dirtyTracking && !this.engine.isDirty(page);
    if (protectedPage) this.async?.beforeCleanUnmap(page, () => this.frames.bytes(frame));
    this.frames.clear(frame);
    // Atomic: a write after the move faults and finds the page evicting (the engine rescues it).
    const moved = this.moveOut(page, frame);
    if (moved === KEPT_MAPPED) {
      this.keepMapped(page, frame);
      return;
    }
    // A hole (the application madvised the page away) reads as zeros. A page that was mapped
    // write-protected is kept marked so in sync mode (the pager must never write a page that
    // could carry the uffd-wp bit: it would fault to itself). Under WP_ASYNC no write ever
    // stops, so the slot is reused as it is: no madvise before the next fetch, no page fault in it.
    const mayCarryWp = protectedPage && moved > 0 && this.async === null;
    this.frames.set(frame, moved === 0 ? Slot.Zero : mayCarryWp ? Slot.DataWriteProtected : Slot.Data);
    this.counters.add(PAGER_COUNTER.evictedPages);
    if (protectedPage) this.async?.checkCleanUnmap(page, this.frames.bytes(frame));
  }

  /** A rescue write failed or could not start: storage holds a stale copy, so the page is lost. */
  private rescueFailed(page: number): void {
    if (TRACE) diagnose(`rescue of page ${page} failed: storage keeps a stale copy; poisoning it`);
    this.reportLost([page]);
    this.engine.remoteLost(page);
    this.pump();
  }

  private writeBatch(batchId: number): void {
    writeBackBatch(this.engine, batchId, this.batchScratch, (page, frame, done) => {
      this.storageOpsInFlight++;
      this.store.writePage(page, this.frames.bytes(frame), (status) => {
        this.storageOpsInFlight--;
        done(status);
      });
    }, () => this.pump());
  }

  /** Moves the slot's page into the region; false when it had to copy instead (the page was busy). */
  private moveIn(page: number, frame: number): boolean {
    for (let attempt = 0; attempt < MOVE_ATTEMPTS; attempt++) {
      try {
        this.mapper.moveIn(page, this.frames.address(frame), 1);
        return true;
      } catch (err) {
        if (!isBusy(err)) throw err;
      }
    }
    this.mapper.copyIn(page, this.frames.address(frame), 1);
    this.counters.add(PAGER_COUNTER.moveFallbacks);
    return false;
  }

  /**
   * Moves the region's page into the slot (atomic eviction). Returns bytes moved (0: a hole), or
   * -1 when the page stayed busy and was evicted by a race-free copy instead: write-protect it (a
   * writer now waits), copy it out, drop it (the writer's retry faults and the engine rescues it).
   */
  private moveOut(page: number, frame: number): number {
    const busyEvery = this.testHooks.moveBusyEvery ?? 0;
    const injectBusy = busyEvery > 0 && ++this.movesOut % busyEvery === 0;
    for (let attempt = 0; attempt < MOVE_ATTEMPTS && !injectBusy; attempt++) {
      try {
        return this.mapper.moveOut(page, this.frames.address(frame), 1);
      } catch (err) {
        if (!isBusy(err)) throw err;
      }
    }
    this.counters.add(PAGER_COUNTER.moveFallbacks);
    // Never read a missing page from the pager thread (it would fault to itself).
    if (residentPages(this.mapper.addressOf(page), 4096)[0] === 0) return 0;
    // Under WP_ASYNC write protection stops no writer, so a copy-and-drop could lose a write.
    if (this.async !== null) return KEPT_MAPPED;
    this.mapper.protect(page, 1);
    this.mapper.copyOut(page, this.frames.address(frame), 1);
    this.mapper.drop(page, 1);
    return -1;
  }

  /**
   * Async tracking gave up evicting a busy page: it stays mapped with all its writes, and the
   * engine takes it back at once through a fault of its own (a soft fault, a rescue of a queued
   * write-back, or a fetch whose bytes the map then skips). The slot gets a snapshot, so a
   * write-back the engine already planned stores recent bytes; the page's PTE keeps no write
   * protection, so the next dirty probe reports it written and nothing newer is ever dropped.
   */
  private keepMapped(page: number, frame: number): void {
    this.mapper.copyOut(page, this.frames.address(frame), 1);
    this.frames.set(frame, Slot.Data);
    this.mapper.unprotect(page, 1);
    this.kept.add(page);
    this.engine.fault(page, false);
  }

  /** The engine maps a page that never left (see keepMapped): release the slot, touch nothing in the region. */
  private mapKept(page: number, frame: number): void {
    const slot = this.frames.state(frame);
    if (slot === Slot.Direct) this.frames.directDone(frame);
    else if (slot === Slot.Zero) this.frames.set(frame, Slot.Empty);
    else if (slot !== Slot.DataWriteProtected) this.frames.set(frame, Slot.Stale);
    this.faultDone(page);
  }

  private poison(page: number): void {
    // A kept page never left (see keepMapped): its bytes are intact even if its fetch failed.
    if (this.kept.size > 0 && this.kept.delete(page)) {
      diagnose(`page ${page} stayed mapped while busy; its fetch failed but its bytes are intact, so it is not poisoned`);
      this.faultDone(page);
      return;
    }
    try {
      this.mapper.poison(page, 1);
    } catch (err) {
      // Already poisoned (a second fault raced the first SIGBUS): nothing more to do.
      if ((err as { errno?: number }).errno !== 17) throw err;
    }
    this.mapper.wake(page, 1);
    this.faultDone(page);
  }

  private faultDone(page: number): void {
    const started = this.faultTimer.finish(page);
    if (started < 0) return;
    this.stats.recordLatencyUs((this.clock() - started) * 1000);
  }
}
