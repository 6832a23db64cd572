import type { DirectPageSource } from './local-page-store.js';
import { PageFingerprints } from './page-fingerprint.js';

/** How a clean page's bytes are checked when it is unmapped. */
const CHECK_NONE = 0;
/** Against the fingerprint recorded when it was mapped. */
const CHECK_FINGERPRINT = 1;
/** Against its stored copy (local storage keeps the bytes it was filled from). */
const CHECK_STORED = 2;

/**
 * The guard of asynchronous dirty tracking. The engine asks the dirty probe (a PAGEMAP_SCAN)
 * before it lets an active page go as clean, but the unmap that follows is a separate step, and
 * with WP_ASYNC nothing stops a write in between; UFFDIO_MOVE then gives the page a fresh PTE, so
 * no later scan can see that write. The guard closes the gap by content: when a clean page is
 * mapped it records what the page holds (a fingerprint, or "equal to the stored copy" for local
 * storage, which costs nothing at fill time), and when the page is unmapped as clean it checks
 * the bytes that were moved out. A page that changed is the caller's to write back.
 */
export class DirtyGuard {
  private readonly check: Uint8Array;
  private readonly fingerprints: PageFingerprints;

  constructor(pageCount: number, private readonly direct: DirectPageSource | null) {
    this.check = new Uint8Array(pageCount);
    this.fingerprints = new PageFingerprints(pageCount);
  }

  /** A clean page was mapped (write-protected) with these bytes. */
  mappedFrom(page: number, bytes: Uint8Array): void {
    this.fingerprints.record(page, bytes);
    this.check[page] = CHECK_FINGERPRINT;
  }

  /** A clean page was mapped straight from its stored copy. */
  mappedFromStore(page: number): void {
    this.check[page] = CHECK_STORED;
  }

  /** Whether `bytes` (the page as it was unmapped) are what it was mapped with. */
  unchanged(page: number, bytes: Uint8Array): boolean {
    switch (this.check[page]) {
      case CHECK_FINGERPRINT:
        return this.fingerprints.matches(page, bytes);
      case CHECK_STORED: {
        const stored = this.direct?.storedPageBytes(page) ?? null;
        return stored !== null && Buffer.compare(stored, bytes) === 0;
      }
      default:
        return false; // never recorded: assume written
    }
  }

  /** The page left local memory: nothing is recorded for it any more. */
  forget(page: number): void {
    this.check[page] = CHECK_NONE;
  }
}
