import { libc, madvise } from '../native/libc.js';
import { MADV_DONTNEED, PAGE_SIZE_BYTES } from '../native/constants.js';
import { UFFD_EXISTS, UFFD_RETRY, type Userfaultfd } from '../native/uffd.js';
import { UFFDIO_COPY_MODE, UFFDIO_MOVE_MODE } from '../native/uffd-abi.js';
import { NativeError } from '../native/errors.js';
import { PAGER_COUNTER, type PagerCounters } from './stats.js';

const MAX_RETRIES = 10_000;

/**
 * The commands a pager executes on a userfaultfd-registered region, one function each, in pages
 * of the region (page 0 = the region's start). This is the runtime side of the vm engine's Mapper
 * port: a fault handler (the local page source now, the libs/vm PagingEngine later) decides, and
 * calls these. Every fill handles EEXIST by waking the waiters (another fault already filled the
 * page) and retries EAGAIN. Runs on the pager thread only; it never reads a page that might be
 * missing (that would fault on the thread that must resolve it).
 *
 * This implementation is for memory the pager's process owns (private anonymous). A region
 * adopted from another process (a shared memfd) will need a second implementation: evict by
 * write-protect + copy out through the daemon's own mapping + hole punch, restore by COPY or
 * CONTINUE.
 */
export class UffdMapper {
  constructor(
    readonly uffd: Userfaultfd,
    /** Region start address. */
    readonly base: number,
    /** Region size in pages. */
    readonly pages: number,
    private readonly counters: PagerCounters,
    /** Address of at least `maxZeroPages` pages of zeros (never registered, never written). */
    private readonly zeroSource: number,
    private readonly maxZeroPages: number,
  ) {}

  /** Address of a page. */
  addressOf(page: number): number {
    return this.base + page * PAGE_SIZE_BYTES;
  }

  /**
   * Installs `count` pages at `page` from `src` (staging memory, never uffd-registered) with one
   * UFFDIO_COPY per contiguous run; `wake = false` leaves waiters asleep (batch, then `wake`),
   * `writeProtect` maps them write-protected (dirty tracking). Returns pages newly installed;
   * pages already present are skipped and their waiters woken.
   */
  copyIn(page: number, src: number, count: number, wake = true, writeProtect = false): number {
    const mode = (wake ? 0 : UFFDIO_COPY_MODE.DONTWAKE) | (writeProtect ? UFFDIO_COPY_MODE.WP : 0);
    const installed = this.uffd.copyRange(this.addressOf(page), src, count * PAGE_SIZE_BYTES, mode) / PAGE_SIZE_BYTES;
    this.counters.add(PAGER_COUNTER.collisionWakes, this.uffd.lastExistingPages);
    return installed;
  }

  /**
   * Fills `count` pages with zeros. A read fault gets the shared zero page (UFFDIO_ZEROPAGE); a
   * write fault gets a private zeroed page by COPY (saves the copy-on-write fault that follows).
   */
  zeroFill(page: number, count: number, forWrite: boolean): number {
    if (forWrite && count <= this.maxZeroPages) return this.copyIn(page, this.zeroSource, count);
    const bytes = this.uffd.zeropageRange(this.addressOf(page), count * PAGE_SIZE_BYTES, 0);
    this.counters.add(PAGER_COUNTER.collisionWakes, this.uffd.lastExistingPages);
    return bytes / PAGE_SIZE_BYTES;
  }

  /**
   * Moves `count` resident pages from the region to `dst` (a private anonymous area registered
   * with the same uffd, e.g. in WP mode only, whose pages at `dst` are empty): atomic eviction,
   * no copy. Holes in the source are skipped. Returns bytes moved.
   */
  moveOut(page: number, dst: number, count: number): number {
    return this.moveLoop(dst, this.addressOf(page), count * PAGE_SIZE_BYTES, UFFDIO_MOVE_MODE.ALLOW_SRC_HOLES | UFFDIO_MOVE_MODE.DONTWAKE);
  }

  /** Moves `count` pages from `src` (registered staging, see `moveOut`) into the region and wakes waiters. Returns bytes moved. */
  moveIn(page: number, src: number, count: number): number {
    return this.moveLoop(this.addressOf(page), src, count * PAGE_SIZE_BYTES, 0);
  }

  /** Copies `count` resident pages out of the region to `dst` (libc memcpy). The pages must be resident. */
  copyOut(page: number, dst: number, count: number): void {
    libc().memcpy(dst, this.addressOf(page), count * PAGE_SIZE_BYTES);
  }

  /** Drops `count` pages from the region (MADV_DONTNEED): the next access faults again. */
  drop(page: number, count: number): void {
    madvise(this.addressOf(page), count * PAGE_SIZE_BYTES, MADV_DONTNEED);
  }

  /** Write-protects resident pages (writers then wait for `unprotect`). */
  protect(page: number, count: number): void {
    this.uffd.writeProtect(this.addressOf(page), count * PAGE_SIZE_BYTES, true);
  }

  /** Removes write protection and wakes the writers waiting on it. */
  unprotect(page: number, count: number): void {
    this.uffd.writeProtect(this.addressOf(page), count * PAGE_SIZE_BYTES, false);
    this.counters.add(PAGER_COUNTER.unprotects, count);
  }

  /** Poisons `count` missing pages: an access raises SIGBUS (a page that cannot be restored). Present pages must be dropped first. */
  poison(page: number, count: number): void {
    let done = 0;
    let retries = 0;
    const bytes = count * PAGE_SIZE_BYTES;
    while (done < bytes) {
      const r = this.uffd.poison(this.addressOf(page) + done, bytes - done, 0);
      if (r > 0) done += r;
      else if (r === UFFD_EXISTS) throw new NativeError('UFFDIO_POISON', 17, 'page is present: drop it before poisoning');
      else if (++retries > MAX_RETRIES) throw new NativeError('UFFDIO_POISON', 11);
    }
    this.counters.add(PAGER_COUNTER.poisonedPages, count);
  }

  /** Wakes threads waiting on faults in `count` pages at `page`. */
  wake(page: number, count: number): void {
    this.uffd.wake(this.addressOf(page), count * PAGE_SIZE_BYTES);
  }

  private moveLoop(dst: number, src: number, bytes: number, mode: number): number {
    let done = 0;
    let retries = 0;
    while (done < bytes) {
      const r = this.uffd.move(dst + done, src + done, bytes - done, mode);
      if (r > 0) done += r;
      else if (r === UFFD_RETRY) {
        if (++retries > MAX_RETRIES) throw new NativeError('UFFDIO_MOVE', 11);
      } else throw new NativeError('UFFDIO_MOVE', 17, `destination page at 0x${(dst + done).toString(16)} is present`);
    }
    return done;
  }
}
