/**
 * What the fault loop calls. The local page source implements it for this slice; the libs/vm
 * PagingEngine adapter will implement it next (feed `fault` events, execute the commands it
 * returns through the UffdMapper).
 */
export interface FaultHandler {
  /** A thread faulted on `page` (index in the region); `flags`: WRITE = 1, WP = 2, MINOR = 4. Must resolve or poison it. */
  onFault(page: number, flags: number): void;
  /** A control command from main (see PagerOp); returns 0, or a negative error code. */
  onCommand(op: number, firstPage: number, count: number, arg: number): number;
  /** Releases what the handler holds (called on stop, after the range was unregistered). */
  close(): void;
}
