import { EngineAfterEvent } from './after-event.js';
import { failInvariant } from './errors.js';
import { FLAG_DIRTY, FLAG_REMOTE_VALID, PageState } from './page-state.js';

const ACTIVE = PageState.Active;
const INACTIVE = PageState.Inactive;
const NOT_PRESENT = PageState.NotPresent;
const FETCHING = PageState.Fetching;
const EVICTING = PageState.Evicting;
const WAIT_FRAME = PageState.WaitFrame;
const WB_QUEUED = PageState.WritebackQueued;

/** Point-in-time gauges of a region, named like the original's `stat` gauges where they exist. */
export interface VmGauges {
  region_size: number;
  region_page_size: number;
  /** Resident pages (mapped, inactive, or being fetched). */
  page_count: number;
  page_count_limit: number;
  full: number;
  active_list_size: number;
  inactive_list_size: number;
  frames_in_use: number;
  evicting_pages: number;
  waiting_faults: number;
  writeback_queue: number;
  writeback_batches_in_flight: number;
  prefetch_in_flight: number;
  prefetch_window: number;
}

/**
 * Layer 7 (cold code): gauges, metadata sizes and the full invariant recount; public through
 * `PagingEngine`.
 */
export abstract class EngineInspection extends EngineAfterEvent {
  /** Current gauges. */
  gauges(): VmGauges {
    return {
      region_size: this.pageCount * this.config.pageSizeBytes,
      region_page_size: this.config.pageSizeBytes,
      page_count: this.residentFrames,
      page_count_limit: this.budget,
      full: this.residentFrames >= this.budget ? 1 : 0,
      active_list_size: this.active.size,
      inactive_list_size: this.inactive.size,
      frames_in_use: this.frames.inUse,
      evicting_pages: this.evictingFrames,
      waiting_faults: this.waiting.size,
      writeback_queue: this.wbQueue.size,
      writeback_batches_in_flight: this.batches.inFlight,
      prefetch_in_flight: this.prefetchInFlight,
      prefetch_window: this.policy.windowPages,
    };
  }

  /** Recounts everything from the page table and throws if a bookkeeping invariant is broken. O(pages). */
  checkInvariants(): void {
    const byState = new Array<number>(9).fill(0);
    let framesHeld = 0;
    for (let p = 0; p < this.pageCount; p++) {
      const st = this.stateOf(p);
      byState[st]++;
      const hasFrame = this.frameAt(p) >= 0;
      const shouldHaveFrame = st === ACTIVE || st === INACTIVE || st === FETCHING || st === EVICTING || st === WB_QUEUED;
      if (hasFrame !== shouldHaveFrame) failInvariant(`page ${p} in state ${st} ${hasFrame ? 'holds' : 'lacks'} a frame`);
      if (hasFrame) framesHeld++;
      if (st === NOT_PRESENT && !(this.flagsOf(p) & FLAG_REMOTE_VALID)) failInvariant(`page ${p} is not present and has no stored copy`);
      if (st === INACTIVE && (this.flagsOf(p) & FLAG_DIRTY)) failInvariant(`inactive page ${p} is dirty`);
    }
    if (byState[ACTIVE] !== this.active.size) failInvariant(`active list ${this.active.size} != ${byState[ACTIVE]} active pages`);
    if (byState[INACTIVE] !== this.inactive.size) failInvariant(`inactive list ${this.inactive.size} != ${byState[INACTIVE]}`);
    if (byState[WAIT_FRAME] !== this.waiting.size) failInvariant(`wait list ${this.waiting.size} != ${byState[WAIT_FRAME]}`);
    if (byState[WB_QUEUED] !== this.wbQueue.size) failInvariant(`write-back queue ${this.wbQueue.size} != ${byState[WB_QUEUED]}`);
    if (framesHeld !== this.frames.inUse) failInvariant(`frames held ${framesHeld} != frames in use ${this.frames.inUse}`);
    const resident = byState[ACTIVE] + byState[INACTIVE] + byState[FETCHING];
    if (resident !== this.residentFrames) failInvariant(`resident ${resident} != counted ${this.residentFrames}`);
    if (byState[EVICTING] + byState[WB_QUEUED] !== this.evictingFrames) failInvariant(`evicting ${byState[EVICTING] + byState[WB_QUEUED]} != counted ${this.evictingFrames}`);
    if (this.pendingFrees + this.pendingToInactive > this.evictingFrames) failInvariant('more pending completions than evicting pages');
  }

  /** Bytes of engine metadata per page of the region: the packed page table (state, flags, frame, list links). */
  metadataBytesPerPage(): number {
    return this.w.byteLength / this.pageCount;
  }

  /** Bytes of bookkeeping per local frame (the free-frame stack), which scales with the budget, not the region. */
  metadataBytesPerFrame(): number {
    return this.frames.created === 0 ? 0 : this.frames.metadataBytes / this.frames.created;
  }
}
