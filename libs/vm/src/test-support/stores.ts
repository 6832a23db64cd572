import type { PageStore } from '../internal/in-memory-pager.js';

/** A Map-backed PageStore for tests: synchronous by default, or manual delivery in any order. */
export class MapStore implements PageStore {
  readonly data = new Map<number, Uint8Array>();
  readonly pending: Array<() => void> = [];
  reads = 0;
  writes = 0;
  discards = 0;
  /** Pages whose reads fail (as if the copy was lost). */
  readonly failingReads = new Set<number>();
  /** When true, writes fail. */
  failWrites = false;

  constructor(private readonly manual = false) {}

  readPage(page: number, into: Uint8Array, done: (status: string) => void): void {
    this.reads++;
    this.complete(() => {
      const stored = this.data.get(page);
      if (this.failingReads.has(page)) done('lost');
      else if (!stored) done('not-found');
      else {
        into.set(stored);
        done('ok');
      }
    });
  }

  writePage(page: number, data: Uint8Array, done: (status: string) => void): void {
    this.writes++;
    const copy = data.slice();
    this.complete(() => {
      if (this.failWrites) done('error');
      else {
        this.data.set(page, copy);
        done('ok');
      }
    });
  }

  discardPage(page: number): void {
    this.discards++;
    this.data.delete(page);
  }

  /** Delivers the pending completion at `index` (manual mode). */
  deliver(index: number): void {
    const [run] = this.pending.splice(index, 1);
    run();
  }

  deliverAll(): void {
    while (this.pending.length > 0) this.deliver(0);
  }

  private complete(run: () => void): void {
    if (this.manual) this.pending.push(run);
    else run();
  }
}
