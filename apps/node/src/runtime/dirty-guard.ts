import { PAGE_SIZE_BYTES } from '../native/constants.js';
import { ZEROS } from './frame-store.js';
import type { DirectPageSource } from './local-page-store.js';

// How a clean page's bytes are checked when it is unmapped (0: never recorded, assume written).
/** Against its frame slot, which keeps the bytes the page was copied from until the unmap. */
const CHECK_SLOT = 1;
/** Against its stored copy (local storage keeps the bytes it was filled from). */
const CHECK_STORED = 2;
/** Against zeros (a clean page mapped as a zero page). */
const CHECK_ZERO = 3;

/**
 * The guard of asynchronous dirty tracking. The engine asks the dirty probe (a PAGEMAP_SCAN)
 * before it lets an active page go as clean, but the unmap that follows is a separate step, and
 * with WP_ASYNC nothing stops a write in between; UFFDIO_MOVE then gives the page a fresh PTE, so
 * no later scan can see that write. The guard closes the gap by content, at no cost when pages
 * are mapped: a clean page was copied in from bytes that stay where they were until its unmap
 * (its frame slot, its stored copy over local storage, or zeros), so when the page is unmapped as
 * clean the bytes moved out are compared with those (one 4 KiB copy and one memcmp). A page that
 * changed is the caller's to write back.
 */
export class DirtyGuard {
  private readonly check: Uint8Array;
  /** The slot bytes of the page being unmapped, saved before the move overwrites the slot. */
  private readonly original = new Uint8Array(PAGE_SIZE_BYTES);
  private originalPage = -1;

  constructor(pageCount: number, private readonly direct: DirectPageSource | null) {
    this.check = new Uint8Array(pageCount);
  }

  /** A clean page was copied in (write-protected) from its frame slot. */
  mappedFromSlot(page: number): void {
    this.check[page] = CHECK_SLOT;
  }

  /** A clean page was copied in straight from its stored copy. */
  mappedFromStore(page: number): void {
    this.check[page] = CHECK_STORED;
  }

  /** A clean page was mapped as zeros. */
  mappedZero(page: number): void {
    this.check[page] = CHECK_ZERO;
  }

  /** Call before the unmap moves the page into its slot: keeps the slot's bytes if they are the reference. */
  beforeUnmap(page: number, slotBytes: () => Uint8Array): void {
    if (this.check[page] !== CHECK_SLOT) return;
    this.original.set(slotBytes());
    this.originalPage = page;
  }

  /** Whether `bytes` (the page as it was unmapped) are what it was mapped with. */
  unchanged(page: number, bytes: Uint8Array): boolean {
    switch (this.check[page]) {
      case CHECK_SLOT:
        return this.originalPage === page && Buffer.compare(this.original, bytes) === 0;
      case CHECK_STORED: {
        const stored = this.direct?.storedPageBytes(page) ?? null;
        return stored !== null && Buffer.compare(stored, bytes) === 0;
      }
      case CHECK_ZERO:
        return Buffer.compare(ZEROS, bytes) === 0;
      default:
        return false; // never recorded: assume written
    }
  }
}
