import { deferMicrotask, type Scheduler } from '@rackmem/krdma';

/**
 * The storage fabric's scheduler on the pager thread: deferred completions (connect answers,
 * failures of requests whose connection ended) run at the end of the current turn, like
 * microtasks, and also when the pager ends a turn itself before sleeping in its own poll (see
 * FaultLinger), where microtasks would not run until it returns to the event loop.
 */
export class TurnScheduler implements Scheduler {
  private queue: (() => void)[] = [];
  private microtaskQueued = false;

  defer(fn: () => void): void {
    this.queue.push(fn);
    if (this.microtaskQueued) return;
    this.microtaskQueued = true;
    deferMicrotask(this.runQueued);
  }

  /** Runs everything deferred so far, in order (and what that defers in turn). */
  runNow(): void {
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      for (let i = 0; i < batch.length; i++) {
        try {
          batch[i]();
        } catch (err) {
          this.queue = [...batch.slice(i + 1), ...this.queue]; // the rest still runs, in order
          throw err;
        }
      }
    }
  }

  private readonly runQueued = (): void => {
    this.microtaskQueued = false;
    this.runNow();
  };
}
