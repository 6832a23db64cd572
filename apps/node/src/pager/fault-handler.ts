import type { DirectReceiver } from '@rackmem/krdma';

/**
 * What the fault loop calls: the local page source (no engine) and the engine runtime
 * (`UffdRuntime`, libs/vm's PagingEngine over storage) implement it.
 */
export interface FaultHandler {
  /** A thread faulted on `page` (index in the region); `flags`: WRITE = 1, WP = 2, MINOR = 4. Must resolve or poison it. */
  onFault(page: number, flags: number): void;
  /** A control command from main (see PagerOp); returns 0, or a negative error code. */
  onCommand(op: number, firstPage: number, count: number, arg: number): number;
  /**
   * True while the handler waits for I/O that only the event loop can complete (a remote fetch or
   * write-back in flight): the pager then returns to the loop instead of waiting in its own poll.
   */
  awaitsLoop(): boolean;
  /**
   * Storage reads or writes issued and not completed. The threads that faulted wait for them, so
   * right after a drain that started a fetch no new fault is likely queued yet: the linger then
   * waits in its poll instead of reading the uffd once more first.
   */
  storageInFlight(): boolean;
  /** True while a faulting thread waits for a storage read (the linger may then poll without sleeping). */
  faultAwaitsStorage(): boolean;
  /**
   * The storage connections the pager may read in its own poll while it waits for faults and
   * replies together (see FaultLinger), with an `endTurn` that also runs the handler's own
   * end-of-turn work; null when storage completes only on the event loop (or synchronously).
   */
  readonly directIo: DirectReceiver | null;
  /** Releases what the handler holds (called on stop, after the range was unregistered). */
  close(): void;
}
