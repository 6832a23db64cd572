import { Command, CommandQueue } from './commands.js';
import { type BuggifyHook, resolveVmConfig, type VmConfig, type VmConfigInput } from './config.js';
import { C, VmCounters } from './counters.js';
import { VmError } from './errors.js';
import { FramePool } from './frame-pool.js';
import { PageList, PageTable } from './page-list.js';
import {
  FLAG_DEMANDED, FLAG_DIRTY, FLAG_PREFETCH_FETCH, FLAG_PREFETCH_MARKER, FLAG_PREFETCHED, FLAG_REMOTE_VALID, FLAG_TO_INACTIVE,
  FLAG_WRITE_PENDING, PageState, type PageStateValue,
} from './page-state.js';
import { createPrefetchPolicy, type PrefetchPolicy } from './prefetch/index.js';
import { MAX_BATCHES_IN_FLIGHT, WritebackBatches } from './writeback-batches.js';

const IDLE = PageState.Idle;
const ACTIVE = PageState.Active;
const INACTIVE = PageState.Inactive;
const NOT_PRESENT = PageState.NotPresent;
const FETCHING = PageState.Fetching;
const EVICTING = PageState.Evicting;
const WAIT_FRAME = PageState.WaitFrame;
const POISONED = PageState.Poisoned;
const WB_QUEUED = PageState.WritebackQueued;

// What `takeFrameNow` may take, beyond free budget.
const FREE_ONLY = 0;
const NO_ACTIVE_VICTIM = 1;
const ANY_VICTIM = 2;

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
 * The paging engine of one region: RackMem's rack_vm algorithm as a synchronous, deterministic
 * state machine. A runtime feeds it events (`fault`, `fetchDone`, `writebackDone`, `dirtied`,
 * `remoteLost`, `setBudget`, `tick`) and carries out the commands it leaves in `commands`.
 *
 * Invariants kept after every event: resident pages never exceed the budget once the write-backs
 * it started complete; a page leaves local memory only after its write-back completed or when
 * storage holds a valid copy; a frame is zero-filled before a first touch; a page whose data
 * cannot be restored is poisoned, never zero-filled.
 */
export class PagingEngine {
  /** The resolved configuration. */
  readonly config: VmConfig;
  /** Commands for the runtime; drain after every event. */
  readonly commands: CommandQueue;
  /** Event counters. */
  readonly counters = new VmCounters();
  /** The last time passed to `tick`, in nanoseconds. */
  nowNs = 0;

  private readonly pageCount: number;
  /** The packed page table: words[page * 4] = state | flags << 8, words[page * 4 + 1] = frame. */
  private readonly table: PageTable;
  private readonly w: Int32Array;
  private readonly active: PageList;
  private readonly inactive: PageList;
  private readonly waiting: PageList;
  private readonly wbQueue: PageList;
  private readonly batches: WritebackBatches;
  private readonly frames = new FramePool();
  private readonly counts: Float64Array;
  private readonly policy: PrefetchPolicy;
  private readonly proposals: Int32Array;
  private readonly tracking: boolean;
  private readonly stagingPages: number;
  private readonly batchPages: number;
  private readonly maxBatchesInFlight: number;
  private budget: number;
  /** Frames held by active, inactive and fetching pages. */
  private residentFrames = 0;
  /** Frames held by pages queued for or in write-back. */
  private evictingFrames = 0;
  /** Evicting pages whose completion will release their frame. */
  private pendingFrees = 0;
  /** Evicting pages that go to the inactive list on completion (reclaim in progress). */
  private pendingToInactive = 0;
  private prefetchInFlight = 0;
  /** Failed write-back batches in a row; storage that keeps failing is retried with backoff. */
  private writebackFailStreak = 0;
  /** Ticks to wait before sending write-backs again (so a dead store is not retried in a tight loop). */
  private writebackPauseTicks = 0;
  /** 0 none, 1 background, 2 watermark (a number: this is checked after every event). */
  private readonly reclaimMode: number;
  // Reclaim thresholds in pages, recomputed when the budget changes.
  private backgroundTrigger = 0;
  private backgroundBatch = 0;
  private watermarkLow = 0;
  private watermarkHigh = 0;
  /** A watermark refill is under way (started below the low watermark, runs to the high one). */
  private watermarkRefilling = false;

  private readonly buggify: BuggifyHook | undefined;

  /**
   * @param input the region's configuration (see `VmConfig`)
   * @param options `buggify`: simulation-only fault sites (see `BuggifySite`); omit in production
   */
  constructor(input: VmConfigInput, options: { buggify?: BuggifyHook } = {}) {
    this.buggify = options.buggify;
    const config = resolveVmConfig(input);
    this.config = config;
    this.pageCount = config.pageCount;
    this.budget = config.localPages;
    this.commands = new CommandQueue(config.maxQueuedCommands);
    this.counts = this.counters.counts;
    this.table = new PageTable(config.pageCount);
    this.w = this.table.words;
    this.active = new PageList(this.table);
    this.inactive = new PageList(this.table);
    this.waiting = new PageList(this.table);
    this.wbQueue = new PageList(this.table);
    this.batches = new WritebackBatches(this.table);
    this.tracking = config.dirtyTracking;
    const async = config.writebackMode === 'async';
    this.batchPages = async ? config.writebackBatchPages : 1;
    this.maxBatchesInFlight = async ? config.writebackMaxInFlightBatches : MAX_BATCHES_IN_FLIGHT;
    this.stagingPages = async ? config.writebackBatchPages * config.writebackMaxInFlightBatches : 0;
    this.policy = createPrefetchPolicy(config.prefetch, config.prefetchWindowPages, config.prefetchMaxWindowPages);
    this.proposals = new Int32Array(config.prefetchMaxWindowPages);
    this.reclaimMode = config.reclaim === 'background' ? 1 : config.reclaim === 'watermark' ? 2 : 0;
    this.computeThresholds();
  }

  // ---------------------------------------------------------------------------------------------
  // Events

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
      if (demanded) {
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
      if (this.stateOf(page) !== EVICTING) fail(`page ${page} of batch ${batchId} is not evicting`);
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
  // Queries

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

  /** Bytes of engine metadata per page of the region: the packed page table (state, flags, frame, list links). */
  metadataBytesPerPage(): number {
    return this.w.byteLength / this.pageCount;
  }

  /** Bytes of bookkeeping per local frame (the free-frame stack), which scales with the budget, not the region. */
  metadataBytesPerFrame(): number {
    return this.frames.created === 0 ? 0 : this.frames.metadataBytes / this.frames.created;
  }

  /** Recounts everything from the page table and throws if a bookkeeping invariant is broken. O(pages). */
  checkInvariants(): void {
    const byState = new Array<number>(9).fill(0);
    let framesHeld = 0;
    for (let p = 0; p < this.pageCount; p++) {
      const s = this.stateOf(p);
      byState[s]++;
      const hasFrame = this.frameAt(p) >= 0;
      const shouldHaveFrame = s === ACTIVE || s === INACTIVE || s === FETCHING || s === EVICTING || s === WB_QUEUED;
      if (hasFrame !== shouldHaveFrame) fail(`page ${p} in state ${s} ${hasFrame ? 'holds' : 'lacks'} a frame`);
      if (hasFrame) framesHeld++;
      if (s === NOT_PRESENT && !(this.flagsOf(p) & FLAG_REMOTE_VALID)) fail(`page ${p} is not present and has no stored copy`);
      if (s === INACTIVE && (this.flagsOf(p) & FLAG_DIRTY)) fail(`inactive page ${p} is dirty`);
    }
    if (byState[ACTIVE] !== this.active.size) fail(`active list ${this.active.size} != ${byState[ACTIVE]} active pages`);
    if (byState[INACTIVE] !== this.inactive.size) fail(`inactive list ${this.inactive.size} != ${byState[INACTIVE]}`);
    if (byState[WAIT_FRAME] !== this.waiting.size) fail(`wait list ${this.waiting.size} != ${byState[WAIT_FRAME]}`);
    if (byState[WB_QUEUED] !== this.wbQueue.size) fail(`write-back queue ${this.wbQueue.size} != ${byState[WB_QUEUED]}`);
    if (framesHeld !== this.frames.inUse) fail(`frames held ${framesHeld} != frames in use ${this.frames.inUse}`);
    const resident = byState[ACTIVE] + byState[INACTIVE] + byState[FETCHING];
    if (resident !== this.residentFrames) fail(`resident ${resident} != counted ${this.residentFrames}`);
    if (byState[EVICTING] + byState[WB_QUEUED] !== this.evictingFrames) fail(`evicting ${byState[EVICTING] + byState[WB_QUEUED]} != counted ${this.evictingFrames}`);
    if (this.pendingFrees + this.pendingToInactive > this.evictingFrames) fail('more pending completions than evicting pages');
  }

  // ---------------------------------------------------------------------------------------------
  // Fault paths

  private missOrFirstTouch(page: number, isWrite: boolean): void {
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
  private proceedWithFrame(page: number, frame: number, isWrite: boolean): void {
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

  private softFault(page: number, isWrite: boolean): void {
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

  private faultOnEvicting(page: number, isWrite: boolean): void {
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

  private rescueQueued(page: number, isWrite: boolean): void {
    this.wbQueue.remove(page);
    this.evictingFrames--;
    this.residentFrames++;
    if (this.flagsOf(page) & FLAG_TO_INACTIVE) this.pendingToInactive--;
    else this.pendingFrees--;
    this.andFlags(page, ~FLAG_TO_INACTIVE);
    this.activate(page, isWrite);
  }

  /** Maps a page that holds its frame and puts it at the tail of the active list. */
  private activate(page: number, isWrite: boolean): void {
    this.setState(page, ACTIVE);
    this.active.pushTail(page);
    // Without dirty tracking every mapped page may be written: treat it as dirty at once.
    if (isWrite || !this.tracking) this.markDirty(page);
    const protect = this.tracking && !(this.flagsOf(page) & FLAG_DIRTY) ? 1 : 0;
    this.counts[C.remap]++;
    this.commands.push(Command.Map, page, this.frameAt(page), protect);
  }

  private markDirty(page: number): void {
    const flags = this.flagsOf(page);
    if (flags & FLAG_DIRTY) return;
    if (this.tracking) this.counts[C.dirtied]++;
    this.setFlags(page, (flags | FLAG_DIRTY) & ~FLAG_REMOTE_VALID);
    // The stored copy is stale from now on: storage may recycle its space.
    if (flags & FLAG_REMOTE_VALID) this.commands.push(Command.Discard, page, -1, 0);
  }

  private poison(page: number): void {
    this.setState(page, POISONED);
    this.setFlags(page, 0);
    this.counts[C.poisoned]++;
    this.commands.push(Command.Poison, page, -1, 0);
  }

  // ---------------------------------------------------------------------------------------------
  // Frames and eviction

  /**
   * A frame for a fault, in the original's victim order: free budget, then the oldest inactive
   * page, then the oldest active page (which needs a write-back unless it is known clean).
   */
  private obtainFrame(): number {
    let frame = this.takeFrameNow(ANY_VICTIM);
    // One victim per fault: after starting a write-back only a free (staging) frame will do.
    if (frame < 0 && this.evictOldestActive(false)) frame = this.takeFrameNow(FREE_ONLY);
    return frame;
  }

  /**
   * A frame that needs no write-back: free budget (`FREE_ONLY`), else an inactive victim
   * (`NO_ACTIVE_VICTIM`, what prefetch may take), else a clean active one (`ANY_VICTIM`).
   */
  private takeFrameNow(allowed: number): number {
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
    if (oldest >= 0 && !(this.flagsOf(oldest) & FLAG_DIRTY)) {
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
  private dropClean(page: number): number {
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
  private evictOldestActive(toInactive: boolean): boolean {
    const page = this.active.popHead();
    if (page < 0) return false;
    this.unmap(page);
    const flags = this.flagsOf(page);
    if (this.tracking && !(flags & FLAG_DIRTY)) {
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

  private unmap(page: number): void {
    this.counts[C.unmap]++;
    this.commands.push(Command.Unmap, page, this.frameAt(page), 0);
  }

  private releaseResidentFrame(page: number): void {
    this.frames.release(this.frameAt(page));
    this.setFrame(page, -1);
    this.residentFrames--;
    this.counts[C.free_local_page]++;
  }

  // ---------------------------------------------------------------------------------------------
  // After every event: budget, waiting faults, reclaim, write-back batches

  private afterEvent(): void {
    // The guards are inlined: this runs after every event.
    if (this.residentFrames > this.budget) this.enforceBudget();
    if (this.waiting.size > 0) this.serveWaiting();
    if (this.reclaimMode !== 0 || this.buggify !== undefined) this.reclaim();
    if (this.wbQueue.size > 0) this.sendWritebacks();
  }

  private enforceBudget(): void {
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
      if (this.tracking && !(this.flagsOf(oldest) & FLAG_DIRTY)) {
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

  /** Gives frames to faults that wait for one, starting evictions so that each will get one. */
  private serveWaiting(): void {
    while (this.waiting.size > 0) {
      // Faults already covered by a write-back in flight take only free or inactive frames:
      // one victim per fault, never an extra clean page.
      let frame = this.takeFrameNow(this.pendingFrees >= this.waiting.size ? NO_ACTIVE_VICTIM : ANY_VICTIM);
      while (frame < 0 && this.pendingFrees < this.waiting.size && this.evictOldestActive(false)) {
        frame = this.takeFrameNow(FREE_ONLY);
      }
      if (frame < 0) return;
      const page = this.waiting.popHead();
      const isWrite = (this.flagsOf(page) & FLAG_WRITE_PENDING) !== 0;
      this.andFlags(page, ~FLAG_WRITE_PENDING);
      this.proceedWithFrame(page, frame, isWrite);
    }
  }

  private computeThresholds(): void {
    const c = this.config;
    // The original's integer division never triggers below 400 pages of budget; at least 1.
    this.backgroundTrigger = Math.max(1, Math.floor((this.budget * c.backgroundTriggerPermyriad) / 10_000));
    this.backgroundBatch = Math.max(1, Math.floor((this.budget * c.backgroundBatchPermyriad) / 10_000));
    this.watermarkLow = Math.max(1, Math.ceil((this.budget * c.watermarkLowPermille) / 1000));
    this.watermarkHigh = Math.max(this.watermarkLow, Math.ceil((this.budget * c.watermarkHighPermille) / 1000));
  }

  /** Background (the original's bg_reclaim) or watermark reclaim into the inactive list. */
  private reclaim(): void {
    if (this.buggify !== undefined && this.active.size > 1 && this.buggify('reclaim-extra')) this.evictOldestActive(true);
    if (this.reclaimMode === 1) {
      if (this.residentFrames >= this.budget && this.pendingToInactive === 0 && this.inactive.size < this.backgroundTrigger) {
        this.counts[C.background_reclaim_task]++;
        for (let i = 0; i < this.backgroundBatch && this.evictOldestActive(true); i++) this.counts[C.background_reclaim]++;
      }
    } else if (this.reclaimMode === 2) {
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

  private sendWritebacks(): void {
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

  // ---------------------------------------------------------------------------------------------
  // Prefetch

  private prefetchAround(page: number, prefetchHit: boolean): void {
    let count = this.policy.onAccess(page, prefetchHit, this.proposals);
    if (this.buggify !== undefined && count > 1 && this.buggify('prefetch-shrink')) count >>>= 1;
    let issued = 0;
    for (let i = 0; i < count; i++) {
      const candidate = this.proposals[i];
      if (candidate < 0 || candidate >= this.pageCount || this.stateOf(candidate) !== NOT_PRESENT) continue;
      if (this.prefetchInFlight >= this.config.prefetchMaxInFlight) break;
      const frame = this.takeFrameNow(NO_ACTIVE_VICTIM);
      if (frame < 0) break;
      this.setFrame(candidate, frame);
      this.setState(candidate, FETCHING);
      this.orFlags(candidate, FLAG_PREFETCH_FETCH);
      this.prefetchInFlight++;
      this.counts[C.io_read]++;
      this.counts[C.prefetch_issued]++;
      this.commands.push(Command.Prefetch, candidate, frame, 0);
      this.proposals[issued++] = candidate; // reuse the array: issued <= i
    }
    // The marker sits halfway through the batch: reaching it leaves time to fetch the next one.
    if (issued > 0 && this.config.prefetchMapped) this.orFlags(this.proposals[issued >>> 1], FLAG_PREFETCH_MARKER);
  }

  // ---------------------------------------------------------------------------------------------
  // The packed page table (see PageTable): small accessors that V8 inlines

  private stateOf(page: number): number {
    return this.w[page * 4] & 0xff;
  }

  private setState(page: number, state: number): void {
    const i = page * 4;
    this.w[i] = (this.w[i] & ~0xff) | state;
  }

  private flagsOf(page: number): number {
    return (this.w[page * 4] >>> 8) & 0xff;
  }

  private setFlags(page: number, flags: number): void {
    const i = page * 4;
    this.w[i] = (this.w[i] & 0xff) | ((flags & 0xff) << 8);
  }

  private orFlags(page: number, bits: number): void {
    this.w[page * 4] |= (bits & 0xff) << 8;
  }

  private andFlags(page: number, mask: number): void {
    this.w[page * 4] &= ((mask & 0xff) << 8) | 0xff;
  }

  private frameAt(page: number): number {
    return this.w[page * 4 + 1];
  }

  private setFrame(page: number, frame: number): void {
    this.w[page * 4 + 1] = frame;
  }

  private checkPage(page: number): void {
    if (!((page >>> 0) === page && page < this.pageCount)) {
      throw new VmError('page-out-of-range', `page ${page} is outside the region (0..${this.pageCount - 1})`);
    }
  }
}

function fail(message: string): never {
  throw new VmError('invariant-broken', `engine invariant broken (a bug: please report it with the events that led here): ${message}`);
}
