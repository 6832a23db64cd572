import { EngineInspection } from './inspection.js';
import { Command } from './commands.js';
import { C } from './counters.js';
import { failInvariant, VmError } from './errors.js';
import {
  FLAG_DEMANDED, FLAG_DIRTY, FLAG_PREFETCH_FETCH, FLAG_PREFETCH_MARKER, FLAG_PREFETCHED, FLAG_REMOTE_VALID, FLAG_TO_INACTIVE,
  FLAG_WRITE_PENDING, PageState, type PageStateValue,
} from './page-state.js';

const ACTIVE = PageState.Active;
const INACTIVE = PageState.Inactive;
const NOT_PRESENT = PageState.NotPresent;
const FETCHING = PageState.Fetching;
const EVICTING = PageState.Evicting;
const WAIT_FRAME = PageState.WaitFrame;

/**
 * Layer 8: the completion events `fetchDone`, `writebackDone` and `remoteLost`; public through
 * `PagingEngine`.
 */
export abstract class EngineCompletions extends EngineInspection {
  /** The read issued by a Fetch or Prefetch command for `page` completed. */
  fetchDone(page: number, ok: boolean): void {
    this.checkPage(page);
    if (this.stateOf(page) !== FETCHING) {
      throw new VmError('unexpected-completion', `fetchDone(${page}) but the page is ${this.stateOf(page)}, not fetching`);
    }
    const flags = this.flagsOf(page);
    const wasPrefetch = (flags & FLAG_PREFETCH_FETCH) !== 0;
    const demanded = (flags & FLAG_DEMANDED) !== 0;
    const isWrite = (flags & FLAG_WRITE_PENDING) !== 0;
    this.setFlags(page, flags & ~(FLAG_PREFETCH_FETCH | FLAG_DEMANDED | FLAG_WRITE_PENDING));
    if (wasPrefetch) this.prefetchInFlight--;
    if (ok) {
      this.writebackPauseTicks = 0; // storage answers again
      if (demanded || !(this.flagsOf(page) & FLAG_REMOTE_VALID)) {
        // Someone waits (or storage lost its copy meanwhile, so the frame is the only copy).
        const marker = (this.flagsOf(page) & FLAG_PREFETCH_MARKER) !== 0;
        if (wasPrefetch && demanded) {
          this.counts[C.prefetch_useful]++;
          this.policy.onUseful(marker ? Math.max(1, this.policy.windowPages >>> 1) : 1);
        }
        this.andFlags(page, ~FLAG_PREFETCH_MARKER);
        this.activate(page, isWrite);
        if (marker && demanded) this.prefetchAround(page, true); // a late marker still moves the stream on
      } else if (this.config.prefetchMapped && !(this.flagsOf(page) & FLAG_PREFETCH_MARKER)) {
        // Mapped at once: its use costs no fault (and cannot be observed).
        this.counts[C.prefetch_mapped]++;
        this.activate(page, false);
      } else {
        this.setState(page, INACTIVE);
        this.orFlags(page, FLAG_PREFETCHED);
        this.inactive.pushTail(page);
      }
    } else {
      this.releaseResidentFrame(page);
      // Storage lost its copy while the fetch was out: nothing can restore the page.
      if (demanded || !(this.flagsOf(page) & FLAG_REMOTE_VALID)) {
        this.poison(page);
      } else {
        this.setState(page, NOT_PRESENT);
        this.counts[C.prefetch_failed]++;
      }
    }
    this.afterEvent();
  }

  /** The write-back of batch `batchId` completed (`ok` only when every page of it was stored). */
  writebackDone(batchId: number, ok: boolean): void {
    const list = this.batches.list(batchId);
    if (ok) {
      this.writebackFailStreak = 0;
      this.writebackPauseTicks = 0;
    } else {
      // Back off: pause sending for 1, 2, 4 ... 64 ticks; a successful completion resumes at once.
      this.counts[C.writeback_failed]++;
      this.writebackPauseTicks = Math.min(64, 2 ** this.writebackFailStreak);
      this.writebackFailStreak++;
    }
    for (let page = list.popHead(); page >= 0; page = list.popHead()) {
      if (this.stateOf(page) !== EVICTING) failInvariant(`page ${page} of batch ${batchId} is not evicting`);
      const flags = this.flagsOf(page);
      this.evictingFrames--;
      if (ok) {
        this.setFlags(page, (flags & ~FLAG_DIRTY) | FLAG_REMOTE_VALID);
      } else {
        // Storage may hold part of the batch: forget it; the frame stays the only copy.
        this.commands.push(Command.Discard, page, -1, 0);
      }
      if (flags & FLAG_DEMANDED) {
        // A fault waited for this write-back to finish: the page comes straight back.
        this.residentFrames++;
        this.andFlags(page, ~(FLAG_DEMANDED | FLAG_WRITE_PENDING));
        this.activate(page, (flags & FLAG_WRITE_PENDING) !== 0);
      } else if (!ok) {
        this.residentFrames++;
        if (flags & FLAG_TO_INACTIVE) this.pendingToInactive--;
        else this.pendingFrees--;
        this.andFlags(page, ~FLAG_TO_INACTIVE);
        this.activate(page, true);
      } else if (flags & FLAG_TO_INACTIVE) {
        this.residentFrames++;
        this.pendingToInactive--;
        this.andFlags(page, ~FLAG_TO_INACTIVE);
        this.setState(page, INACTIVE);
        this.inactive.pushTail(page);
      } else {
        this.pendingFrees--;
        this.setState(page, NOT_PRESENT);
        this.frames.release(this.frameAt(page));
        this.setFrame(page, -1);
        this.counts[C.free_local_page]++;
      }
    }
    this.batches.close(batchId);
    this.afterEvent();
  }

  /** Storage lost its copy of `page` (a memory node failed and no replica is left). */
  remoteLost(page: number): void {
    this.checkPage(page);
    const flags = this.flagsOf(page);
    if (!(flags & FLAG_REMOTE_VALID)) return;
    this.counts[C.remote_lost]++;
    this.setFlags(page, (flags & ~FLAG_REMOTE_VALID) | FLAG_DIRTY);
    switch (this.stateOf(page) as PageStateValue) {
      case NOT_PRESENT:
        this.poison(page);
        break;
      case WAIT_FRAME:
        this.waiting.remove(page);
        this.poison(page);
        break;
      case INACTIVE:
        // The frame is now the only copy: it may not be dropped as a clean victim.
        this.inactive.remove(page);
        this.andFlags(page, ~FLAG_PREFETCHED);
        this.activate(page, true);
        break;
      case ACTIVE:
        this.commands.push(Command.Unprotect, page, this.frameAt(page), 0);
        break;
      default:
        // Fetching: fetchDone sees REMOTE_VALID clear. Evicting / queued: a write is on its way.
        break;
    }
    this.afterEvent();
  }
}
