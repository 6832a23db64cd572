import { madvise } from '../native/libc.js';
import { MADV_DONTNEED, PAGE_SIZE_BYTES } from '../native/constants.js';
import { UFFD_PAGEFAULT_FLAG } from '../native/uffd-abi.js';
import type { RegionMemory } from '../native/region-memory.js';
import { EvictMethod, PagerOp } from './control-ring.js';
import type { FaultHandler } from './fault-handler.js';
import { PAGER_COUNTER, type PagerCounters } from './stats.js';
import type { UffdMapper } from './uffd-mapper.js';

/** Where each page's contents are. */
export const PageLocation = { Never: 0, Resident: 1, Stored: 2, Poisoned: 3 } as const;

/** Result codes of commands (ControlRing results). */
export const CommandResult = { Ok: 0, BadCommand: -1, OutOfRange: -2, Unsupported: -3, Failed: -4 } as const;

/**
 * The page source of this slice: a local in-memory store inside the pager thread. A page never
 * written reads as zeros; an evicted page comes back with its last contents. The store is an
 * anonymous area as large as the region, slot i holding page i; it is registered with the same
 * uffd in WP mode only (UFFDIO_MOVE requires its destination to be registered with the same uffd;
 * WP-only means a missing page there is an ordinary kernel zero-fill, never a message, so the
 * pager can write into it without deadlocking itself).
 */
export class LocalPageSource implements FaultHandler {
  /** PageLocation of each page. */
  readonly location: Uint8Array;
  /** 1 when the store slot holds a page (current or stale); MOVE needs an empty slot. */
  private readonly slotPopulated: Uint8Array;

  constructor(
    private readonly mapper: UffdMapper,
    private readonly store: RegionMemory,
    private readonly counters: PagerCounters,
    /** True when UFFDIO_MOVE is available (else evictions use copy-out). */
    private readonly canMove: boolean,
    /** True when the region is registered in WP mode too (copy-out is then race-free). */
    private readonly canProtect: boolean,
  ) {
    this.location = new Uint8Array(mapper.pages);
    this.slotPopulated = new Uint8Array(mapper.pages);
  }

  onFault(page: number, flags: number): void {
    const c = this.counters;
    c.add(PAGER_COUNTER.faults);
    const isWrite = (flags & UFFD_PAGEFAULT_FLAG.WRITE) !== 0;
    if (isWrite) c.add(PAGER_COUNTER.writeFaults);
    if (flags & UFFD_PAGEFAULT_FLAG.WP) c.add(PAGER_COUNTER.wpFaults);
    switch (this.location[page]) {
      case PageLocation.Resident:
        // Already filled (a second message for the same page) or write-protected: release the waiter.
        if (flags & UFFD_PAGEFAULT_FLAG.WP) this.mapper.unprotect(page, 1);
        else {
          this.mapper.wake(page, 1);
          c.add(PAGER_COUNTER.collisionWakes);
        }
        return;
      case PageLocation.Stored:
        this.mapper.copyIn(page, this.store.pageAddress(page), 1);
        c.add(PAGER_COUNTER.storeFills);
        break;
      case PageLocation.Poisoned:
        this.mapper.wake(page, 1); // the poison entry makes the retry raise SIGBUS
        return;
      default:
        this.mapper.zeroFill(page, 1, isWrite);
        c.add(PAGER_COUNTER.zeroFills);
    }
    this.location[page] = PageLocation.Resident;
  }

  /** Everything here is synchronous. */
  awaitsLoop(): boolean {
    return false;
  }

  storageInFlight(): boolean {
    return false;
  }

  faultAwaitsStorage(): boolean {
    return false;
  }

  readonly directIo = null;

  onCommand(op: number, firstPage: number, count: number, arg: number): number {
    if (count <= 0 || firstPage < 0 || firstPage + count > this.mapper.pages) return CommandResult.OutOfRange;
    switch (op) {
      case PagerOp.Evict:
        if (arg === EvictMethod.Move && !this.canMove) return CommandResult.Unsupported;
        this.forEachRun(firstPage, count, PageLocation.Resident, (p, n) => this.evictRun(p, n, arg));
        return CommandResult.Ok;
      case PagerOp.Poison:
        this.poison(firstPage, count);
        return CommandResult.Ok;
      case PagerOp.Prefetch:
        this.forEachRun(firstPage, count, PageLocation.Stored, (p, n) => this.prefetchRun(p, n));
        return CommandResult.Ok;
      case PagerOp.Barrier:
        return CommandResult.Ok;
      default:
        return CommandResult.BadCommand;
    }
  }

  close(): void {
    this.store.unmap();
  }

  /** Evicts a run of resident pages into the store (MOVE, or protect + copy out + drop). */
  evictRun(page: number, count: number, method: number): void {
    const slot = this.store.pageAddress(page);
    if (method === EvictMethod.Move) {
      if (this.slotPopulated.subarray(page, page + count).includes(1)) madvise(slot, count * PAGE_SIZE_BYTES, MADV_DONTNEED);
      this.mapper.moveOut(page, slot, count);
    } else {
      // Writers that hit the protection wait; after the drop their WP fault finds the page
      // Stored and is filled from the copy, so no write is lost.
      if (this.canProtect) this.mapper.protect(page, count);
      this.mapper.copyOut(page, slot, count);
      this.mapper.drop(page, count);
    }
    this.location.fill(PageLocation.Stored, page, page + count);
    this.slotPopulated.fill(1, page, page + count);
    this.counters.add(PAGER_COUNTER.evictedPages, count);
  }

  /** Fills a run of stored pages before anyone touches them: one UFFDIO_COPY for the run. */
  prefetchRun(page: number, count: number): void {
    this.mapper.copyIn(page, this.store.pageAddress(page), count);
    this.location.fill(PageLocation.Resident, page, page + count);
    this.counters.add(PAGER_COUNTER.prefetchedPages, count);
  }

  /** Poisons pages: resident ones are dropped first; the store forgets them. */
  poison(page: number, count: number): void {
    for (let p = page; p < page + count; p++) {
      if (this.location[p] === PageLocation.Poisoned) continue;
      if (this.location[p] === PageLocation.Resident) this.mapper.drop(p, 1);
      this.mapper.poison(p, 1);
      this.location[p] = PageLocation.Poisoned;
    }
  }

  private forEachRun(first: number, count: number, want: number, run: (page: number, n: number) => void): void {
    const end = first + count;
    let p = first;
    while (p < end) {
      if (this.location[p] !== want) {
        p++;
        continue;
      }
      let q = p + 1;
      while (q < end && this.location[q] === want) q++;
      run(p, q - p);
      p = q;
    }
  }
}
