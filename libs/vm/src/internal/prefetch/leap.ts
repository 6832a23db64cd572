import { proposeAlong, type PrefetchPolicy } from './policy.js';
import { DeltaTrend } from './trend.js';

/**
 * Leap's prefetcher (ATC'20): prefetch along the majority trend of recent fault deltas. On each
 * miss the window is resized from the prefetched pages used since the previous miss: grown to the
 * next power of two above the hits, or halved when there were none (never below one page).
 */
export class LeapPolicy implements PrefetchPolicy {
  private readonly trend = new DeltaTrend(32);
  private hitsSinceMiss = 0;
  private window: number;

  constructor(initialWindowPages: number, private readonly maxWindowPages: number) {
    this.window = initialWindowPages;
  }

  get windowPages(): number {
    return this.window;
  }

  onAccess(page: number, prefetchHit: boolean, out: Int32Array): number {
    this.trend.record(page);
    if (!prefetchHit) {
      this.window = this.hitsSinceMiss > 0
        ? Math.min(this.maxWindowPages, nextPowerOfTwo(this.hitsSinceMiss + 1))
        : Math.max(1, this.window >>> 1);
      this.hitsSinceMiss = 0;
    }
    const stride = this.trend.majority();
    return stride === 0 ? 0 : proposeAlong(page, stride, this.window, out);
  }

  onUseful(pages: number): void {
    this.hitsSinceMiss += pages;
  }

  onWasted(): void {}
}

function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}
