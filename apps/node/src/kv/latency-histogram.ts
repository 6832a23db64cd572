/**
 * Request latencies in microseconds: exact 1 us buckets up to 100 ms, one overflow bucket above
 * (with the maximum kept), so memory is bounded (400 KiB) whatever the run length.
 */
export class LatencyHistogramUs {
  private static readonly LIMIT_US = 100_000;
  private readonly buckets = new Uint32Array(LatencyHistogramUs.LIMIT_US + 1);
  count = 0;
  private sumUs = 0;
  maxUs = 0;

  /** Records one latency. */
  record(us: number): void {
    const b = Math.min(LatencyHistogramUs.LIMIT_US, Math.max(0, Math.floor(us)));
    this.buckets[b]++;
    this.count++;
    this.sumUs += us;
    if (us > this.maxUs) this.maxUs = us;
  }

  /** The q-quantile (0..1), to 1 us (past 100 ms: the maximum). */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const target = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let b = 0; b < this.buckets.length; b++) {
      seen += this.buckets[b];
      if (seen >= target) return b === LatencyHistogramUs.LIMIT_US ? this.maxUs : b;
    }
    return this.maxUs;
  }

  /** Mean in microseconds. */
  get meanUs(): number {
    return this.count === 0 ? 0 : this.sumUs / this.count;
  }
}
