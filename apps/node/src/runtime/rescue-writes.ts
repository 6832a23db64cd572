import type { PageStore } from '@rackmem/vm';
import { PAGE_SIZE_BYTES } from '../native/constants.js';

interface Rescue {
  readonly bytes: Uint8Array;
  /** Fetches of the page that wait for the write (a read before it lands would be stale); told whether it landed. */
  readonly waiters: ((landed: boolean) => void)[];
}

/**
 * Writes of pages that were found written after the engine had let them go as clean (the race of
 * asynchronous dirty tracking: a write between the dirty probe and the unmap). The unmapped bytes
 * are copied here at once (the frame is the engine's to reuse) and written to storage; a fetch of
 * the page waits until the write landed. At most `maxPages` at once: `start` returns false beyond
 * that, and the caller treats the page as lost (poisoned, reported), never as clean.
 */
export class RescueWrites {
  private readonly pending = new Map<number, Rescue>();

  constructor(
    private readonly store: PageStore,
    readonly maxPages: number,
    /** The write failed: storage holds a stale copy of `page`. */
    private readonly onFailed: (page: number) => void,
  ) {}

  /** Rescues in flight. */
  get size(): number {
    return this.pending.size;
  }

  /** Whether a rescue of `page` is in flight. */
  has(page: number): boolean {
    return this.pending.has(page);
  }

  /** Starts writing `bytes` (copied) as `page`'s content; false when `maxPages` are in flight already. */
  start(page: number, bytes: Uint8Array): boolean {
    // A page is fetched only after its rescue landed, so it cannot be rescued twice at once.
    if (this.pending.has(page) || this.pending.size >= this.maxPages) return false;
    const rescue: Rescue = { bytes: new Uint8Array(PAGE_SIZE_BYTES), waiters: [] };
    rescue.bytes.set(bytes);
    this.pending.set(page, rescue);
    this.store.writePage(page, rescue.bytes, (status) => {
      this.pending.delete(page);
      const landed = status === 'ok';
      if (!landed) this.onFailed(page);
      for (const waiter of rescue.waiters) waiter(landed);
    });
    return true;
  }

  /** Runs `then` once the rescue of `page` completed, with whether it landed (at once if there is none). */
  afterRescue(page: number, then: (landed: boolean) => void): void {
    const rescue = this.pending.get(page);
    if (rescue) rescue.waiters.push(then);
    else then(true);
  }
}
