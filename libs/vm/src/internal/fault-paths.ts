import { EnginePrefetch } from './prefetch-issue.js';
import { Command } from './commands.js';
import { C } from './counters.js';
import { FLAG_DEMANDED, FLAG_DIRTY, FLAG_PREFETCH_MARKER, FLAG_PREFETCHED, FLAG_REMOTE_VALID, FLAG_TO_INACTIVE, FLAG_WRITE_PENDING, PageState } from './page-state.js';

const ACTIVE = PageState.Active;
const FETCHING = PageState.Fetching;
const WAIT_FRAME = PageState.WaitFrame;
const POISONED = PageState.Poisoned;

/**
 * Layer 5: fault paths after dispatch (miss, first touch, soft fault, rescue) and the page
 * transitions they share with completions (activate, poison).
 */
export abstract class EngineFaultPaths extends EnginePrefetch {
  /** A fault on an idle or not-present page: take a frame, or wait for one. */
  protected missOrFirstTouch(page: number, isWrite: boolean): void {
    const frame = this.obtainFrame();
    if (frame < 0) {
      this.setState(page, WAIT_FRAME);
      if (isWrite) this.orFlags(page, FLAG_WRITE_PENDING);
      this.waiting.pushTail(page);
      this.counts[C.frame_wait]++;
      return;
    }
    this.proceedWithFrame(page, frame, isWrite);
  }

  /** A fault that has its frame: restore from storage, or zero-fill a first touch. */
  protected proceedWithFrame(page: number, frame: number, isWrite: boolean): void {
    this.setFrame(page, frame);
    if (this.flagsOf(page) & FLAG_REMOTE_VALID) {
      this.setState(page, FETCHING);
      this.orFlags(page, FLAG_DEMANDED | (isWrite ? FLAG_WRITE_PENDING : 0));
      this.counts[C.io_read]++;
      this.commands.push(Command.Fetch, page, frame, 0);
    } else {
      // First touch: no read. The frame may have held another page: zero it (original defect 3).
      this.setState(page, FETCHING); // transient, for activate's bookkeeping
      this.commands.push(Command.ZeroFill, page, frame, 0);
      this.orFlags(page, FLAG_DIRTY);
      this.activate(page, isWrite);
    }
  }

  /** A fault on an inactive page: mapped again with no I/O; a prefetched page counts as useful. */
  protected softFault(page: number, isWrite: boolean): void {
    this.inactive.remove(page);
    const prefetched = (this.flagsOf(page) & FLAG_PREFETCHED) !== 0;
    if (prefetched) {
      // A marker stands for its whole batch, whose other pages were mapped without a trace.
      const credit = this.flagsOf(page) & FLAG_PREFETCH_MARKER ? Math.max(1, this.policy.windowPages >>> 1) : 1;
      this.andFlags(page, ~(FLAG_PREFETCHED | FLAG_PREFETCH_MARKER));
      this.counts[C.prefetch_useful]++;
      this.policy.onUseful(credit);
    }
    this.activate(page, isWrite);
    if (prefetched) this.prefetchAround(page, true);
  }

  protected faultOnEvicting(page: number, isWrite: boolean): void {
    // The write-back is on the wire: wait for it, then the page comes back without a read.
    const flags = this.flagsOf(page);
    if (flags & FLAG_DEMANDED) {
      this.counts[C.pgfault_collision]++;
    } else {
      this.counts[C.pgfault_rescue]++;
      if (flags & FLAG_TO_INACTIVE) this.pendingToInactive--;
      else this.pendingFrees--;
      this.setFlags(page, (flags & ~FLAG_TO_INACTIVE) | FLAG_DEMANDED);
    }
    if (isWrite) this.orFlags(page, FLAG_WRITE_PENDING);
  }

  /** A fault on a page queued for write-back (not yet sent): taken back with no I/O. */
  protected rescueQueued(page: number, isWrite: boolean): void {
    this.wbQueue.remove(page);
    this.evictingFrames--;
    this.residentFrames++;
    if (this.flagsOf(page) & FLAG_TO_INACTIVE) this.pendingToInactive--;
    else this.pendingFrees--;
    this.andFlags(page, ~FLAG_TO_INACTIVE);
    this.activate(page, isWrite);
  }

  /** Maps a page that holds its frame and puts it at the tail of the active list. */
  protected activate(page: number, isWrite: boolean): void {
    this.setState(page, ACTIVE);
    this.active.pushTail(page);
    // Without dirty tracking every mapped page may be written: treat it as dirty at once.
    if (isWrite || !this.tracking) this.markDirty(page);
    const protect = this.tracking && !(this.flagsOf(page) & FLAG_DIRTY) ? 1 : 0;
    this.counts[C.remap]++;
    this.commands.push(Command.Map, page, this.frameAt(page), protect);
  }

  protected poison(page: number): void {
    this.setState(page, POISONED);
    this.setFlags(page, 0);
    this.counts[C.poisoned]++;
    this.commands.push(Command.Poison, page, -1, 0);
  }
}
