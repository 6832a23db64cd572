/**
 * When each waiting fault started, for the fault-latency histogram. Faults wait only while the
 * pager resolves them, so only a few are open at once (one per faulting thread): a small array
 * scanned linearly beats a Map here (no boxed times, no hashing, no allocation per fault). At most
 * `capacity` faults are timed at once; more are counted in `untimed` and left out of the histogram.
 */
export class FaultTimer {
  private readonly pages: Int32Array;
  private readonly startMs: Float64Array;
  private open = 0;
  /** Faults not timed because `capacity` faults were already open. */
  untimed = 0;

  constructor(readonly capacity = 256) {
    this.pages = new Int32Array(capacity);
    this.startMs = new Float64Array(capacity);
  }

  /** Faults being timed now. */
  get openCount(): number {
    return this.open;
  }

  /**
   * Starts timing `page` at `nowMs` (-1: tracked as waiting, not timed), unless it is already
   * open (a second message for the same fault).
   */
  start(page: number, nowMs: number): void {
    if (this.indexOf(page) >= 0) return;
    if (this.open === this.capacity) {
      this.untimed++;
      return;
    }
    this.pages[this.open] = page;
    this.startMs[this.open] = nowMs;
    this.open++;
  }

  /** Whether `page` is being timed (a thread waits for it). */
  has(page: number): boolean {
    return this.indexOf(page) >= 0;
  }

  /** Stops timing `page`; returns when it started, or -1 when it was not timed or not open (a prefetch, say). */
  finish(page: number): number {
    const i = this.indexOf(page);
    if (i < 0) return -1;
    const started = this.startMs[i];
    const last = --this.open;
    this.pages[i] = this.pages[last];
    this.startMs[i] = this.startMs[last];
    return started;
  }

  private indexOf(page: number): number {
    const pages = this.pages;
    for (let i = 0; i < this.open; i++) if (pages[i] === page) return i;
    return -1;
  }
}
