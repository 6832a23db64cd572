import { proposeAlong, type PrefetchPolicy } from './policy.js';

/**
 * Sequential read-ahead with a fixed window, in the manner of Linux's swap read-ahead: a miss on
 * the page after the previous access starts a stream; every access in the stream (miss or
 * prefetched hit) keeps `windowPages` pages ahead of it. Non-sequential misses propose nothing.
 */
export class ReadaheadPolicy implements PrefetchPolicy {
  private lastPage = -2;

  constructor(readonly windowPages: number) {}

  onAccess(page: number, prefetchHit: boolean, out: Int32Array): number {
    const sequential = prefetchHit || page === this.lastPage + 1;
    this.lastPage = page;
    return sequential ? proposeAlong(page, 1, this.windowPages, out) : 0;
  }

  onUseful(): void {}
  onWasted(): void {}
}
