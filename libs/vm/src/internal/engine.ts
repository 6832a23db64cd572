import { Command } from './commands.js';
import { type BuggifyHook, resolveVmConfig, type VmConfigInput } from './config.js';
import { C } from './counters.js';
import { EngineCompletions } from './completions.js';
import { VmError } from './errors.js';
import { FLAG_DEMANDED, FLAG_DIRTY, FLAG_PREFETCH_FETCH, FLAG_WRITE_PENDING, PageState, type PageStateValue } from './page-state.js';

export type { VmGauges } from './inspection.js';

const IDLE = PageState.Idle;
const ACTIVE = PageState.Active;
const INACTIVE = PageState.Inactive;
const NOT_PRESENT = PageState.NotPresent;
const FETCHING = PageState.Fetching;
const EVICTING = PageState.Evicting;
const WAIT_FRAME = PageState.WaitFrame;
const POISONED = PageState.Poisoned;
const WB_QUEUED = PageState.WritebackQueued;

/**
 * The paging engine of one region: RackMem's rack_vm algorithm as a synchronous, deterministic
 * state machine. A runtime feeds it events (`fault`, `fetchDone`, `writebackDone`, `dirtied`,
 * `remoteLost`, `setBudget`, `tick`) and carries out the commands it leaves in `commands`.
 *
 * Invariants kept after every event: resident pages never exceed the budget once the write-backs
 * it started complete; a page leaves local memory only after its write-back completed or when
 * storage holds a valid copy; a frame is zero-filled before a first touch; a page whose data
 * cannot be restored is poisoned, never zero-filled.
 *
 * This file holds the fault dispatch, the small events and the queries; the completions, gauges
 * and invariant check, and the concepts behind them live in the classes it extends (see the
 * file map in the package README).
 */
export class PagingEngine extends EngineCompletions {
  /** The last time passed to `tick`, in nanoseconds. */
  nowNs = 0;

  /**
   * @param input the region's configuration (see `VmConfig`)
   * @param options `buggify`: simulation-only fault sites (see `BuggifySite`); omit in production
   */
  constructor(input: VmConfigInput, options: { buggify?: BuggifyHook } = {}) {
    super(resolveVmConfig(input), options.buggify);
    this.computeThresholds();
  }

  // ---------------------------------------------------------------------------------------------
  // Events (fetchDone, writebackDone and remoteLost: completions.ts)

  /** A thread touched `page`, which is not mapped (a userfaultfd message, a simulated miss). */
  fault(page: number, isWrite: boolean): void {
    this.checkPage(page);
    const counts = this.counts;
    counts[C.pgfault]++;
    counts[isWrite ? C.pgfault_write : C.pgfault_read]++;
    switch (this.stateOf(page) as PageStateValue) {
      case ACTIVE:
        if (isWrite && this.tracking && !(this.flagsOf(page) & FLAG_DIRTY)) {
          // A write-protect fault reported as a fault: the first write to a clean page.
          counts[C.pgfault_wp]++;
          this.markDirty(page);
          this.commands.push(Command.Unprotect, page, this.frameAt(page), 0);
        } else {
          // Another thread's fault already mapped it.
          counts[C.pgfault_collision]++;
        }
        this.commands.push(Command.Wake, page, this.frameAt(page), 0);
        break;
      case FETCHING:
        counts[C.pgfault_collision]++;
        if ((this.flagsOf(page) & (FLAG_PREFETCH_FETCH | FLAG_DEMANDED)) === FLAG_PREFETCH_FETCH) counts[C.prefetch_late]++;
        this.orFlags(page, FLAG_DEMANDED | (isWrite ? FLAG_WRITE_PENDING : 0));
        break;
      case WAIT_FRAME:
        counts[C.pgfault_collision]++;
        if (isWrite) this.orFlags(page, FLAG_WRITE_PENDING);
        break;
      case EVICTING:
        this.faultOnEvicting(page, isWrite);
        break;
      case WB_QUEUED:
        counts[C.pgfault_rescue]++;
        this.rescueQueued(page, isWrite);
        break;
      case INACTIVE:
        counts[C.pgfault_inactive]++;
        this.softFault(page, isWrite);
        break;
      case POISONED:
        counts[C.pgfault_poisoned]++;
        this.commands.push(Command.Poison, page, -1, 0);
        break;
      case IDLE:
        counts[C.accessed]++;
        this.missOrFirstTouch(page, isWrite);
        break;
      case NOT_PRESENT:
        counts[C.pgfault_major]++;
        this.missOrFirstTouch(page, isWrite);
        if (this.stateOf(page) === FETCHING) this.prefetchAround(page, false);
        break;
    }
    this.afterEvent();
  }

  /** The runtime saw the first write to a clean mapped page (a write-protect fault or a scan). */
  dirtied(page: number): void {
    this.checkPage(page);
    if (this.stateOf(page) !== ACTIVE) return; // A stale report: the page was evicted since.
    this.markDirty(page);
    this.commands.push(Command.Unprotect, page, this.frameAt(page), 0);
  }

  /**
   * Asynchronous dirty tracking. Without a probe the engine learns of writes to clean pages only
   * through `dirtied` (write-protect faults). With one, writes to clean pages may go unreported
   * (the kernel resolves them itself, as userfaultfd's WP_ASYNC mode does) and the engine asks
   * `probe(page)` before it lets an active page leave without a write-back; true means "written
   * since mapped". Writes after the probe answered are the runtime's to catch (it carries out the
   * unmap). `null` removes the probe.
   */
  setDirtyProbe(probe: ((page: number) => boolean) | null): void {
    this.dirtyProbe = probe;
  }

  /** Changes the local budget; a smaller one is enforced at once (evictions start now). */
  setBudget(localPages: number): void {
    if (!Number.isSafeInteger(localPages) || localPages < 1) {
      throw new VmError('invalid-budget', `budget ${localPages} is invalid: give a positive whole number of pages`);
    }
    this.budget = Math.min(localPages, this.pageCount);
    this.computeThresholds();
    this.afterEvent();
  }

  /** Time passes: runs the reclaim checks and sends queued write-backs. */
  tick(nowNs: number): void {
    this.nowNs = nowNs;
    if (this.writebackPauseTicks > 0) this.writebackPauseTicks--;
    this.afterEvent();
  }

  // ---------------------------------------------------------------------------------------------
  // Queries (gauges, metadata sizes and checkInvariants: inspection.ts)

  /** The current budget in pages. */
  get localPages(): number {
    return this.budget;
  }

  /** State of `page` (a `PageState` value). */
  pageState(page: number): PageStateValue {
    this.checkPage(page);
    return this.stateOf(page) as PageStateValue;
  }

  /** Frame holding `page`, or -1. */
  frameOf(page: number): number {
    this.checkPage(page);
    return this.frameAt(page);
  }

  /** Whether the engine considers `page` dirty. */
  isDirty(page: number): boolean {
    this.checkPage(page);
    return (this.flagsOf(page) & FLAG_DIRTY) !== 0;
  }

  /** Frame numbers ever handed out: the runtime's frame table needs this many entries. */
  get framesCreated(): number {
    return this.frames.created;
  }

  /** Copies the pages of an in-flight write-back batch into `out`; returns how many. */
  copyBatchPages(batchId: number, out: Int32Array): number {
    const list = this.batches.list(batchId);
    let n = 0;
    for (let page = list.head; page >= 0; page = this.table.next(page)) out[n++] = page;
    return n;
  }

  /** The pages of an in-flight write-back batch. */
  batchPagesOf(batchId: number): number[] {
    const list = this.batches.list(batchId);
    const pages: number[] = [];
    for (let page = list.head; page >= 0; page = this.table.next(page)) pages.push(page);
    return pages;
  }
}
