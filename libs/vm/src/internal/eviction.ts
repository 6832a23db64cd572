import { EngineState } from './engine-state.js';
import { Command } from './commands.js';
import { C } from './counters.js';
import { FLAG_DIRTY, FLAG_PREFETCH_MARKER, FLAG_PREFETCHED, FLAG_REMOTE_VALID, FLAG_TO_INACTIVE, PageState } from './page-state.js';

const INACTIVE = PageState.Inactive;
const NOT_PRESENT = PageState.NotPresent;
const WB_QUEUED = PageState.WritebackQueued;

// What `takeFrameNow` may take, beyond free budget. Module-local on purpose: callers in other
// files use the named methods below, so V8 folds these constants when it inlines takeFrameNow
// (an imported constant is a module-cell load it cannot fold; that cost several % of faults/s).
const FREE_ONLY = 0;
const NO_ACTIVE_VICTIM = 1;
const ANY_VICTIM = 2;

/**
 * Layer 1 of the engine (on `EngineState`): frames and eviction — where a fault's frame comes from
 * (free budget, oldest inactive, oldest active), unmapping and queueing a victim for write-back,
 * and the budget enforced after every event.
 */
export abstract class EngineFrames extends EngineState {
  /**
   * A frame for a fault, in the original's victim order: free budget, then the oldest inactive
   * page, then the oldest active page (which needs a write-back unless it is known clean).
   */
  protected obtainFrame(): number {
    let frame = this.takeFrameNow(ANY_VICTIM);
    // One victim per fault: after starting a write-back only a free (staging) frame will do.
    if (frame < 0 && this.evictOldestActive(false)) frame = this.takeFrameNow(FREE_ONLY);
    return frame;
  }

  /**
   * A frame for the oldest fault waiting for one, or -1. Faults already covered by a write-back in
   * flight take only free or inactive frames: one victim per fault, never an extra clean page.
   */
  protected frameForWaitingFault(): number {
    let frame = this.takeFrameNow(this.pendingFrees >= this.waiting.size ? NO_ACTIVE_VICTIM : ANY_VICTIM);
    while (frame < 0 && this.pendingFrees < this.waiting.size && this.evictOldestActive(false)) {
      frame = this.takeFrameNow(FREE_ONLY);
    }
    return frame;
  }

  /** A frame for a prefetch: free budget or an inactive victim, never a write-back; -1 if none. */
  protected frameForPrefetch(): number {
    return this.takeFrameNow(NO_ACTIVE_VICTIM);
  }

  /**
   * A frame that needs no write-back: free budget (`FREE_ONLY`), else an inactive victim
   * (`NO_ACTIVE_VICTIM`, what prefetch may take), else a clean active one (`ANY_VICTIM`).
   */
  protected takeFrameNow(allowed: number): number {
    if (this.residentFrames < this.budget && this.frames.inUse < this.budget + this.stagingPages) {
      this.residentFrames++;
      this.counts[C.alloc_local_page]++;
      return this.frames.take();
    }
    if (allowed === FREE_ONLY) return -1;
    const victim = this.inactive.head;
    if (victim >= 0 && !(allowed === ANY_VICTIM && this.active.size > 0 && this.buggify !== undefined && this.buggify('skip-inactive-victim'))) {
      this.inactive.remove(victim);
      this.counts[C.reclaim_inactive]++;
      this.counts[C.reclaim_fast]++;
      return this.dropClean(victim);
    }
    if (allowed === NO_ACTIVE_VICTIM || !this.tracking) return -1;
    const oldest = this.active.head;
    if (oldest >= 0 && this.isCleanActive(oldest)) {
      this.active.remove(oldest);
      this.unmap(oldest);
      this.counts[C.reclaim_active]++;
      this.counts[C.reclaim_fast]++;
      this.counts[C.writeback_skipped_clean]++;
      return this.dropClean(oldest);
    }
    return -1;
  }

  /** Takes the frame of a clean resident page (storage holds its data); the page becomes not present. */
  protected dropClean(page: number): number {
    if (this.flagsOf(page) & FLAG_PREFETCHED) {
      this.counts[C.prefetch_wasted]++;
      this.policy.onWasted();
    }
    const frame = this.frameAt(page);
    this.setState(page, NOT_PRESENT);
    this.andFlags(page, ~(FLAG_PREFETCHED | FLAG_PREFETCH_MARKER));
    this.setFrame(page, -1);
    return frame;
  }

  /** Starts evicting the oldest active page; false when there is none. */
  protected evictOldestActive(toInactive: boolean): boolean {
    const page = this.active.popHead();
    if (page < 0) return false;
    const clean = this.isCleanActive(page);
    this.unmap(page);
    const flags = this.flagsOf(page);
    if (clean) {
      // Clean: storage holds its data already, no write-back.
      this.counts[C.writeback_skipped_clean]++;
      if (toInactive) {
        this.setState(page, INACTIVE);
        this.inactive.pushTail(page);
      } else {
        this.frames.release(this.dropClean(page));
        this.residentFrames--;
        this.counts[C.free_local_page]++;
      }
      return true;
    }
    this.setState(page, WB_QUEUED);
    this.residentFrames--;
    this.evictingFrames++;
    if (toInactive) {
      this.setFlags(page, flags | FLAG_TO_INACTIVE);
      this.pendingToInactive++;
    } else {
      this.pendingFrees++;
      this.counts[C.reclaim_active]++;
      this.counts[C.reclaim_slow]++;
    }
    this.wbQueue.pushTail(page);
    return true;
  }

  /**
   * Whether an active page may leave local memory without a write-back: dirty tracking is on, no
   * write was reported, and the runtime's dirty probe (asynchronous tracking) finds none either.
   * A write the probe finds marks the page dirty here.
   */
  protected isCleanActive(page: number): boolean {
    if (!this.tracking || (this.flagsOf(page) & FLAG_DIRTY)) return false;
    const probe = this.dirtyProbe;
    if (probe !== null && probe(page)) {
      this.counts[C.dirty_probe_hits]++;
      this.markDirty(page);
      return false;
    }
    return true;
  }

  protected markDirty(page: number): void {
    const flags = this.flagsOf(page);
    if (flags & FLAG_DIRTY) return;
    if (this.tracking) this.counts[C.dirtied]++;
    this.setFlags(page, (flags | FLAG_DIRTY) & ~FLAG_REMOTE_VALID);
    // The stored copy is stale from now on: storage may recycle its space.
    if (flags & FLAG_REMOTE_VALID) this.commands.push(Command.Discard, page, -1, 0);
  }

  protected unmap(page: number): void {
    this.counts[C.unmap]++;
    this.commands.push(Command.Unmap, page, this.frameAt(page), 0);
  }

  protected releaseResidentFrame(page: number): void {
    this.frames.release(this.frameAt(page));
    this.setFrame(page, -1);
    this.residentFrames--;
    this.counts[C.free_local_page]++;
  }

  /** Brings resident pages down to the budget (after it shrank, or after completions). */
  protected enforceBudget(): void {
    while (this.residentFrames > this.budget) {
      const victim = this.inactive.popHead();
      if (victim >= 0) {
        const frame = this.dropClean(victim);
        this.frames.release(frame);
        this.residentFrames--;
        this.counts[C.free_local_page]++;
        this.counts[C.budget_evict]++;
        continue;
      }
      const oldest = this.active.head;
      if (oldest < 0) break; // Only fetches in flight: enforced again when they complete.
      if (this.isCleanActive(oldest)) {
        this.active.remove(oldest);
        this.unmap(oldest);
        this.counts[C.writeback_skipped_clean]++;
        const frame = this.dropClean(oldest);
        this.frames.release(frame);
        this.residentFrames--;
        this.counts[C.free_local_page]++;
      } else {
        this.evictOldestActive(false);
      }
      this.counts[C.budget_evict]++;
    }
  }
}
