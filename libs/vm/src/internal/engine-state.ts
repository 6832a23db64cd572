import { CommandQueue } from './commands.js';
import type { BuggifyHook, VmConfig } from './config.js';
import { VmCounters } from './counters.js';
import { VmError } from './errors.js';
import { FramePool } from './frame-pool.js';
import { PageList, PageTable } from './page-list.js';
import { createPrefetchPolicy, type PrefetchPolicy } from './prefetch/index.js';
import { MAX_BATCHES_IN_FLIGHT, WritebackBatches } from './writeback-batches.js';

/** Reclaim modes as numbers: the mode is checked after every event. */
export const RECLAIM_NONE = 0;
export const RECLAIM_BACKGROUND = 1;
export const RECLAIM_WATERMARK = 2;

/**
 * The base of the paging engine: the state every concept shares — the packed page table and its
 * lists, the frame pool, frame accounting, reclaim thresholds, write-back backoff — and the
 * page-table accessors. The concepts are layered on it as one class chain (frames and eviction,
 * reclaim, write-back sending, prefetch, fault paths, after-event, inspection, completions,
 * `PagingEngine`), each in its own file, so the whole engine stays one class with prototype
 * methods: V8 sees one shape, calls between concepts are plain `this.` calls it inlines, and
 * nothing allocates or closes over an instance (per-instance closure hooks slowed dvs ~25%).
 */
export abstract class EngineState {
  /** The resolved configuration. */
  readonly config: VmConfig;
  /** Commands for the runtime; drain after every event. */
  readonly commands: CommandQueue;
  /** Event counters. */
  readonly counters = new VmCounters();
  /** The counters' array (indices in `C`). */
  protected readonly counts: Float64Array;
  protected readonly pageCount: number;
  /** The packed page table: words[page * 4] = state | flags << 8, words[page * 4 + 1] = frame. */
  protected readonly table: PageTable;
  protected readonly w: Int32Array;
  protected readonly active: PageList;
  protected readonly inactive: PageList;
  /** Faults waiting for a frame. */
  protected readonly waiting: PageList;
  /** Pages queued for write-back, not yet in a batch. */
  protected readonly wbQueue: PageList;
  protected readonly batches: WritebackBatches;
  protected readonly frames = new FramePool();
  protected readonly policy: PrefetchPolicy;
  /** Scratch for the prefetch policy's proposals (reused: no allocation per fault). */
  protected readonly proposals: Int32Array;
  /** Dirty tracking is on (`config.dirtyTracking`). */
  protected readonly tracking: boolean;
  /** Extra frames that pages queued for or in write-back may hold (async write-back). */
  protected readonly stagingPages: number;
  protected readonly batchPages: number;
  protected readonly maxBatchesInFlight: number;
  /** RECLAIM_NONE, RECLAIM_BACKGROUND or RECLAIM_WATERMARK. */
  protected readonly reclaimMode: number;
  protected readonly buggify: BuggifyHook | undefined;
  /** Asynchronous dirty tracking: asks the runtime whether a clean-mapped page was written (see `setDirtyProbe`). */
  protected dirtyProbe: ((page: number) => boolean) | null = null;

  /** The local budget in pages. */
  protected budget: number;
  /** Frames held by active, inactive and fetching pages. */
  protected residentFrames = 0;
  /** Frames held by pages queued for or in write-back. */
  protected evictingFrames = 0;
  /** Evicting pages whose completion will release their frame. */
  protected pendingFrees = 0;
  /** Evicting pages that go to the inactive list on completion (reclaim in progress). */
  protected pendingToInactive = 0;
  protected prefetchInFlight = 0;
  /** Failed write-back batches in a row; storage that keeps failing is retried with backoff. */
  protected writebackFailStreak = 0;
  /** Ticks to wait before sending write-backs again (so a dead store is not retried in a tight loop). */
  protected writebackPauseTicks = 0;
  // Reclaim thresholds in pages, recomputed when the budget changes (see reclaim.ts).
  protected backgroundTrigger = 0;
  protected backgroundBatch = 0;
  protected watermarkLow = 0;
  protected watermarkHigh = 0;
  /** A watermark refill is under way (started below the low watermark, runs to the high one). */
  protected watermarkRefilling = false;

  protected constructor(config: VmConfig, buggify: BuggifyHook | undefined) {
    this.buggify = buggify;
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
    this.reclaimMode = config.reclaim === 'background' ? RECLAIM_BACKGROUND : config.reclaim === 'watermark' ? RECLAIM_WATERMARK : RECLAIM_NONE;
  }

  // The packed page table (see PageTable): small accessors that V8 inlines.

  protected stateOf(page: number): number {
    return this.w[page * 4] & 0xff;
  }

  protected setState(page: number, state: number): void {
    const i = page * 4;
    this.w[i] = (this.w[i] & ~0xff) | state;
  }

  protected flagsOf(page: number): number {
    return (this.w[page * 4] >>> 8) & 0xff;
  }

  protected setFlags(page: number, flags: number): void {
    const i = page * 4;
    this.w[i] = (this.w[i] & 0xff) | ((flags & 0xff) << 8);
  }

  protected orFlags(page: number, bits: number): void {
    this.w[page * 4] |= (bits & 0xff) << 8;
  }

  protected andFlags(page: number, mask: number): void {
    this.w[page * 4] &= ((mask & 0xff) << 8) | 0xff;
  }

  protected frameAt(page: number): number {
    return this.w[page * 4 + 1];
  }

  protected setFrame(page: number, frame: number): void {
    this.w[page * 4 + 1] = frame;
  }

  protected checkPage(page: number): void {
    if (!((page >>> 0) === page && page < this.pageCount)) {
      throw new VmError('page-out-of-range', `page ${page} is outside the region (0..${this.pageCount - 1})`);
    }
  }
}
