/**
 * A prefetch policy sees the stream of demand misses and first hits on prefetched pages and
 * proposes pages to read ahead. It is pure decision code: the engine filters the proposals (only
 * pages whose data is in storage and not resident), bounds them, and finds frames for them.
 */
export interface PrefetchPolicy {
  /**
   * Called on a demand miss (`prefetchHit` false) or on the first access to a prefetched page
   * (`prefetchHit` true) at `page`. Writes proposed pages into `out` and returns their count
   * (at most `out.length`).
   */
  onAccess(page: number, prefetchHit: boolean, out: Int32Array): number;
  /** `pages` prefetched pages were used before they were evicted (usually 1). */
  onUseful(pages: number): void;
  /** A prefetched page was evicted without ever being used. */
  onWasted(): void;
  /** The current window in pages (for statistics). */
  readonly windowPages: number;
}

/** The policy that never prefetches. */
export class NoPrefetch implements PrefetchPolicy {
  readonly windowPages = 0;
  onAccess(): number {
    return 0;
  }
  onUseful(): void {}
  onWasted(): void {}
}

/** Writes `page + stride * k` for k = 1..count into `out`; returns how many were written. */
export function proposeAlong(page: number, stride: number, count: number, out: Int32Array): number {
  const n = Math.min(count, out.length);
  for (let k = 0; k < n; k++) out[k] = page + stride * (k + 1);
  return n;
}
