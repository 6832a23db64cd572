import { proposeAlong, type PrefetchPolicy } from './policy.js';
import { DeltaTrend } from './trend.js';

/**
 * rackmem's adaptive per-region prefetcher (our reading of RackMem's "adapts to each process's
 * access pattern"): the direction is Leap's majority trend; the window is driven by outcomes.
 * It doubles once half a window of prefetched pages was used with no waste, and halves once a
 * quarter of a window was evicted unused. Waste can switch prefetching off (window 0); two misses
 * in a row on the same trend then probe again with one page.
 */
export class AdaptivePolicy implements PrefetchPolicy {
  private readonly trend = new DeltaTrend(32);
  private window: number;
  private useful = 0;
  private wasted = 0;
  private lastStride = 0;

  constructor(initialWindowPages: number, private readonly maxWindowPages: number) {
    this.window = initialWindowPages;
  }

  get windowPages(): number {
    return this.window;
  }

  onAccess(page: number, prefetchHit: boolean, out: Int32Array): number {
    this.trend.record(page);
    const stride = this.trend.majority();
    if (this.window === 0) {
      if (!prefetchHit && stride !== 0 && stride === this.lastStride) this.window = 1;
      this.lastStride = stride;
      if (this.window === 0) return 0;
    }
    this.lastStride = stride;
    return stride === 0 ? 0 : proposeAlong(page, stride, this.window, out);
  }

  onUseful(pages: number): void {
    this.useful += pages;
    if (this.wasted === 0 && this.useful * 2 >= Math.max(1, this.window)) {
      this.window = Math.min(this.maxWindowPages, Math.max(1, this.window * 2));
      this.useful = 0;
    }
  }

  onWasted(): void {
    this.wasted++;
    if (this.wasted * 4 >= Math.max(1, this.window)) {
      this.window >>>= 1;
      this.wasted = 0;
      this.useful = 0;
    }
  }
}
