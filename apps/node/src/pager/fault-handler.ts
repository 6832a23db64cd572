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
  /** Releases what the handler holds (called on stop, after the range was unregistered). */
  close(): void;
}
