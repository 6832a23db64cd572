import type { PagingEngine } from '../index.js';
import { drainRecorded, kinds } from './recorder.js';

/**
 * Drives an engine in tests: every drained Fetch/Prefetch/Writeback is remembered as pending, so
 * a test can look at the commands of one event and complete the I/O later, in any order.
 */
export class Driver {
  readonly fetches: number[] = [];
  readonly writebacks: number[] = [];
  /** Last Map command's write-protect argument, per page. */
  readonly mapProtect = new Map<number, number>();

  constructor(readonly engine: PagingEngine) {}

  /** Drains the queue; returns `kind:page` strings (`writeback#id` for batches). */
  drain(): string[] {
    const records = drainRecorded(this.engine);
    for (const r of records) {
      if (r.kind === 'fetch' || r.kind === 'prefetch') this.fetches.push(r.page);
      if (r.kind === 'writeback') this.writebacks.push(r.arg);
      if (r.kind === 'map') this.mapProtect.set(r.page, r.arg);
    }
    return kinds(records);
  }

  fault(page: number, isWrite = false): string[] {
    this.engine.fault(page, isWrite);
    return this.drain();
  }

  /** Completes the pending write-back batches (oldest first) with `ok`. */
  completeWritebacks(ok = true): string[] {
    const out: string[] = [];
    // Only the batches pending now: a failed batch is retried with a new one.
    for (let n = this.writebacks.length; n > 0; n--) {
      this.engine.writebackDone(this.writebacks.shift() as number, ok);
      out.push(...this.drain());
    }
    return out;
  }

  /** Completes the pending fetches (oldest first) with `ok`. */
  completeFetches(ok = true): string[] {
    const out: string[] = [];
    for (let n = this.fetches.length; n > 0; n--) {
      this.engine.fetchDone(this.fetches.shift() as number, ok);
      out.push(...this.drain());
    }
    return out;
  }

  /** Completes everything successfully until the engine is quiet; returns every command seen. */
  settle(): string[] {
    const out = this.drain();
    for (let guard = 0; guard < 100_000; guard++) {
      if (this.writebacks.length === 0 && this.fetches.length === 0) {
        // Write-backs paused after a failure resume with time.
        if (this.engine.gauges().writeback_queue === 0) return out;
        this.engine.tick(guard);
        out.push(...this.drain());
        continue;
      }
      out.push(...this.completeWritebacks(), ...this.completeFetches());
    }
    throw new Error('engine never settled');
  }
}
