// Polling a completion queue from the event loop. Each round polls up to `busyPollRounds` times
// back to back (a bounded busy poll: completions that land within a few microseconds are picked up
// without a trip through the loop); then it yields with setImmediate while work is in flight, and
// backs off with a doubling timer up to `maxIdleDelayMs` when nothing is in flight. `kick()`
// (called after a post) returns to the fast mode at once.

/** Options of a {@link CqPoller}. */
export interface CqPollerOptions {
  /** Polls once; returns completions read (negative: the CQ failed, which stops the poller). */
  readonly pollOnce: () => number;
  /** Whether requests are in flight (fast mode) or the poller only waits for incoming messages. */
  readonly busy: () => boolean;
  /** Called once per round (software timeouts). */
  readonly onRound?: () => void;
  /** Called when pollOnce fails or throws; the poller is stopped. */
  readonly onError: (err: unknown) => void;
  /** Polls per round before yielding; default 16. */
  readonly busyPollRounds?: number;
  /** Longest idle sleep; default 1 ms. */
  readonly maxIdleDelayMs?: number;
  /** Empty setImmediate rounds, with work in flight, before falling back to the timer; default 64. */
  readonly immediateRounds?: number;
}

/** Drives a CQ from the event loop (see the module comment). */
export class CqPoller {
  private readonly busyPollRounds: number;
  private readonly maxIdleDelayMs: number;
  private immediate: ReturnType<typeof setImmediate> | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly immediateRounds: number;
  private idleDelayMs = 0;
  private emptyRounds = 0;
  private running = false;
  /** Rounds run (for tests and stats). */
  rounds = 0;

  constructor(private readonly options: CqPollerOptions) {
    this.busyPollRounds = options.busyPollRounds ?? 16;
    this.maxIdleDelayMs = options.maxIdleDelayMs ?? 1;
    this.immediateRounds = options.immediateRounds ?? 64;
  }

  /** Starts polling. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(true);
  }

  /** Stops polling (pending timers are cleared). */
  stop(): void {
    this.running = false;
    this.clear();
  }

  /** New work was posted: poll on the next turn of the loop instead of after an idle sleep. */
  kick(): void {
    if (!this.running || this.immediate !== null) return;
    this.clear();
    this.idleDelayMs = 0;
    this.emptyRounds = 0;
    this.schedule(true);
  }

  private clear(): void {
    if (this.immediate !== null) clearImmediate(this.immediate);
    if (this.timer !== null) clearTimeout(this.timer);
    this.immediate = null;
    this.timer = null;
  }

  private schedule(fast: boolean): void {
    if (!this.running) return;
    if (fast) {
      this.immediate = setImmediate(this.round);
      return;
    }
    this.idleDelayMs = this.idleDelayMs === 0 ? 0.05 : Math.min(this.maxIdleDelayMs, this.idleDelayMs * 2);
    this.timer = setTimeout(this.round, this.idleDelayMs);
    // With nothing in flight the poller does not keep the process alive; the side channel or the caller does.
    if (!this.options.busy()) this.timer.unref();
  }

  private readonly round = (): void => {
    this.immediate = null;
    this.timer = null;
    if (!this.running) return;
    this.rounds += 1;
    let found = 0;
    try {
      for (let i = 0; i < this.busyPollRounds; i += 1) {
        const n = this.options.pollOnce();
        if (n < 0) throw new Error('poll_cq failed (the completion queue is in error)');
        found += n;
        if (n === 0 && found > 0) break;
      }
      this.options.onRound?.();
    } catch (err) {
      this.stop();
      this.options.onError(err);
      return;
    }
    if (found > 0) {
      this.idleDelayMs = 0;
      this.emptyRounds = 0;
    } else {
      this.emptyRounds += 1;
    }
    this.schedule(found > 0 || (this.options.busy() && this.emptyRounds < this.immediateRounds));
  };
}
