import { EngineReclaim } from './reclaim.js';
import { Command } from './commands.js';
import { C } from './counters.js';
import type { PageList } from './page-list.js';
import { PageState } from './page-state.js';

const EVICTING = PageState.Evicting;

/**
 * Layer 3: sending queued write-backs as bounded batches, paused while storage keeps failing.
 */
export abstract class EngineWritebackSender extends EngineReclaim {
  /**
   * Sends queued write-backs as batches of up to `batchPages`, while fewer than
   * `maxBatchesInFlight` are in flight; paused while storage keeps failing (backoff in ticks).
   */
  protected sendWritebacks(): void {
    if (this.writebackPauseTicks > 0) return;
    // Holding the queue is legal only while a batch is in flight: its completion flushes it.
    if (this.buggify !== undefined && this.batches.inFlight > 0 && this.buggify('writeback-delay')) return;
    while (this.wbQueue.size > 0 && this.batches.inFlight < this.maxBatchesInFlight) {
      const batchId = this.batches.open();
      const list = this.batches.opened as PageList;
      const n = Math.min(this.batchPages, this.wbQueue.size);
      for (let i = 0; i < n; i++) {
        const page = this.wbQueue.popHead();
        this.setState(page, EVICTING);
        list.pushTail(page);
      }
      this.counts[C.writeback_batches]++;
      this.counts[C.io_write] += n;
      this.commands.push(Command.Writeback, -1, -1, batchId);
    }
  }
}
