import { EngineFaultPaths } from './fault-paths.js';
import { FLAG_WRITE_PENDING } from './page-state.js';

/**
 * Layer 6: the work after every event — budget, faults waiting for a frame, reclaim, write-back
 * batches.
 */
export abstract class EngineAfterEvent extends EngineFaultPaths {
  /** Runs after every event: the budget, faults waiting for a frame, reclaim, write-back batches. */
  protected afterEvent(): void {
    // The guards are inlined: this runs after every event. 0 is RECLAIM_NONE, written as a
    // literal because an imported constant costs a module-cell load here.
    if (this.residentFrames > this.budget) this.enforceBudget();
    if (this.waiting.size > 0) this.serveWaiting();
    if (this.reclaimMode !== 0 || this.buggify !== undefined) this.reclaim();
    if (this.wbQueue.size > 0) this.sendWritebacks();
  }

  /** Gives frames to faults that wait for one, starting evictions so that each will get one. */
  private serveWaiting(): void {
    while (this.waiting.size > 0) {
      const frame = this.frameForWaitingFault();
      if (frame < 0) return;
      const page = this.waiting.popHead();
      const isWrite = (this.flagsOf(page) & FLAG_WRITE_PENDING) !== 0;
      this.andFlags(page, ~FLAG_WRITE_PENDING);
      this.proceedWithFrame(page, frame, isWrite);
    }
  }
}
