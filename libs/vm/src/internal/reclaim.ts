import { EngineFrames } from './eviction.js';
import { C } from './counters.js';
import { RECLAIM_BACKGROUND, RECLAIM_WATERMARK } from './engine-state.js';

/**
 * Layer 2: reclaim thresholds and the background / watermark policies that move active pages to
 * the inactive list ahead of faults.
 */
export abstract class EngineReclaim extends EngineFrames {
  /** Recomputes the reclaim thresholds in pages from the budget (at start and on `setBudget`). */
  protected computeThresholds(): void {
    const c = this.config;
    // The original's integer division never triggers below 400 pages of budget; at least 1.
    this.backgroundTrigger = Math.max(1, Math.floor((this.budget * c.backgroundTriggerPermyriad) / 10_000));
    this.backgroundBatch = Math.max(1, Math.floor((this.budget * c.backgroundBatchPermyriad) / 10_000));
    this.watermarkLow = Math.max(1, Math.ceil((this.budget * c.watermarkLowPermille) / 1000));
    this.watermarkHigh = Math.max(this.watermarkLow, Math.ceil((this.budget * c.watermarkHighPermille) / 1000));
  }

  /** Background (the original's bg_reclaim) or watermark reclaim into the inactive list. */
  protected reclaim(): void {
    if (this.buggify !== undefined && this.active.size > 1 && this.buggify('reclaim-extra')) this.evictOldestActive(true);
    if (this.reclaimMode === RECLAIM_BACKGROUND) {
      if (this.residentFrames >= this.budget && this.pendingToInactive === 0 && this.inactive.size < this.backgroundTrigger) {
        this.counts[C.background_reclaim_task]++;
        for (let i = 0; i < this.backgroundBatch && this.evictOldestActive(true); i++) this.counts[C.background_reclaim]++;
      }
    } else if (this.reclaimMode === RECLAIM_WATERMARK) {
      const free = this.budget > this.residentFrames ? this.budget - this.residentFrames : 0;
      const reclaimable = free + this.inactive.size + this.pendingToInactive;
      // Only under pressure: when every page that is not resident fits in the free budget, no
      // fault can ever need a victim, and reclaiming would write back for nothing.
      const outside = this.pageCount - this.residentFrames - this.evictingFrames;
      if (reclaimable < this.watermarkLow && outside > free) this.watermarkRefilling = true;
      if (this.watermarkRefilling) {
        // A refill to the high watermark, spread over events (bounded bursts keep the tail short).
        // Keep at least one active page so the working set is not emptied.
        const stop = Math.min(this.watermarkHigh, reclaimable + this.config.watermarkMaxPagesPerEvent);
        let i = reclaimable;
        for (; i < stop && this.active.size > 1 && this.evictOldestActive(true); i++) this.counts[C.watermark_reclaim]++;
        if (i >= this.watermarkHigh || i < stop) this.watermarkRefilling = false; // reached, or nothing left to move
      }
    }
  }
}
