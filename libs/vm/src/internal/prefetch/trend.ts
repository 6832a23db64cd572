/**
 * Majority trend over recent page-number deltas, as in Leap (ATC'20): a ring of the last
 * `historySize` deltas; a Boyer-Moore majority vote over the newest quarter of the history,
 * doubling the window up to the whole history until a strict majority is found.
 */
export class DeltaTrend {
  private readonly deltas: Int32Array;
  private count = 0;
  private next = 0;
  private lastPage = -1;

  constructor(readonly historySize = 32) {
    this.deltas = new Int32Array(historySize);
  }

  /** Records an access at `page` (repeated accesses to one page add nothing). */
  record(page: number): void {
    if (this.lastPage >= 0 && page !== this.lastPage) {
      this.deltas[this.next] = page - this.lastPage;
      this.next = (this.next + 1) % this.historySize;
      if (this.count < this.historySize) this.count++;
    }
    this.lastPage = page;
  }

  /** The majority delta of the recent history, or 0 when there is none. */
  majority(): number {
    if (this.count === 0) return 0;
    let window = Math.max(1, this.historySize >>> 2);
    for (;;) {
      const w = Math.min(window, this.count);
      const delta = this.vote(w);
      if (delta !== 0) return delta;
      if (w >= this.count) return 0;
      window *= 2;
    }
  }

  private vote(window: number): number {
    let candidate = 0;
    let votes = 0;
    for (let i = 0; i < window; i++) {
      const d = this.deltas[(this.next - 1 - i + this.historySize) % this.historySize];
      if (votes === 0) {
        candidate = d;
        votes = 1;
      } else if (d === candidate) votes++;
      else votes--;
    }
    let matches = 0;
    for (let i = 0; i < window; i++) {
      if (this.deltas[(this.next - 1 - i + this.historySize) % this.historySize] === candidate) matches++;
    }
    return matches * 2 > window ? candidate : 0;
  }
}
