// One simulated region: the REAL PagingEngine and the REAL DvsRegion, driven by a runtime that
// executes the engine's commands the way InMemoryPager does, with modelled time:
//
// - the pager (one per region, as the production pager worker) is a FIFO CPU server: an event
//   starts it at max(event time + entry cost, when it is free); each command adds its CPU cost
//   (copy + map, unmap); storage operations are posted at the pager's time;
// - workload threads are closed loops. Hits cost think + hitCostNs and are processed in bulk
//   without events, up to a quantum of simulated time (within a quantum hits see the mapping
//   state at its start). A miss is delivered at the thread's exact time: an event at that time
//   re-checks the mapping and calls engine.fault as a userfaultfd message would;
// - page contents are 8 bytes (u32 version, u32 page id) per frame; every write stamps a new
//   version, every read is checked against the shadow (the last version written).

import { DvsRegion, type NodeRegistry } from '@rackmem/dvs';
import { Command, PageState, PagingEngine, VM_COUNTER_NAMES, type BuggifyHook, type VmCounterName } from '@rackmem/vm';
import type { Engine, EventHandler } from '../engine.js';
import type { AccessStream, Workload } from '../workloads/access-batch.js';
import { AccessBatch } from '../workloads/access-batch.js';
import { LogLinearHistogram } from '../metrics/histogram.js';
import { CONTENT_BYTES, STORAGE_SCALE } from '../model/memory-node.js';
import { OpClass } from '../model/nic-model.js';
import type { SimFabric } from '../model/sim-fabric.js';
import type { FaultPathCosts, RegionSpec, TestOnlyBugs } from '../scenario/scenario.js';
import type { SimCheckCode } from '../checks/errors.js';

const MAP_NONE = 0;
const MAP_RW = 1;
const MAP_WP = 2;

/** Latency classes of a blocking fault (rackmem-original.md §5.3, plus rackmem's own). */
export const FAULT_CLASS_NAMES = [
  'collision', 'soft', 'firstTouch', 'miss', 'missActiveVictim', 'missFrameWait', 'rescue', 'writeProtect', 'poisoned',
] as const;
/** One latency class name. */
export type FaultClassName = (typeof FAULT_CLASS_NAMES)[number];

const FC_COLLISION = 0;
const FC_SOFT = 1;
const FC_FIRST_TOUCH = 2;
const FC_MISS = 3;
const FC_MISS_ACTIVE_VICTIM = 4;
const FC_MISS_FRAME_WAIT = 5;
const FC_RESCUE = 6;
const FC_WP = 7;
const FC_POISONED = 8;

function counterIndex(name: VmCounterName): number {
  return VM_COUNTER_NAMES.indexOf(name);
}
const I_COLLISION = counterIndex('pgfault_collision');
const I_INACTIVE = counterIndex('pgfault_inactive');
const I_ACCESSED = counterIndex('accessed');
const I_MAJOR = counterIndex('pgfault_major');
const I_RECLAIM_SLOW = counterIndex('reclaim_slow');
const I_FRAME_WAIT = counterIndex('frame_wait');
const I_RESCUE = counterIndex('pgfault_rescue');
const I_POISONED_FAULT = counterIndex('pgfault_poisoned');

/** Reports a checker failure (the runner turns it into a SimCheckError with the repro line). */
export type CheckFailure = (code: SimCheckCode, detail: string) => never;

/** A workload thread: a closed loop over its access stream. */
export class SimThread {
  count = 0;
  idx = 0;
  thinkDone = false;
  waitPage = -1;
  waitWrite = false;
  faultStartNs = 0;
  faultClass = 0;
  /** Time the thread would have taken with every access a hit (all-local run). */
  localNs = 0;
  finishNs = 0;
  done = false;
  accesses = 0;
  sigbus = 0;
  constructor(readonly region: SimRegion, readonly index: number, readonly stream: AccessStream, readonly batch: AccessBatch) {}
}

class FetchCtx {
  page = 0;
  frame = 0;
  readonly buf: Uint8Array;
  readonly u32: Uint32Array;
  readonly done: (status: string) => void;
  constructor(region: SimRegion, bytes: number) {
    this.buf = new Uint8Array(bytes);
    this.u32 = new Uint32Array(this.buf.buffer, 0, 2);
    this.done = (status) => region.onFetchDone(this, status);
  }
}

class BatchCtx {
  batchId = 0;
  remaining = 0;
  allOk = true;
}

class WriteCtx {
  batch: BatchCtx | null = null;
  readonly buf: Uint8Array;
  readonly u32: Uint32Array;
  readonly done: (status: string) => void;
  constructor(region: SimRegion, bytes: number) {
    this.buf = new Uint8Array(bytes);
    this.u32 = new Uint32Array(this.buf.buffer, 0, 2);
    this.done = (status) => region.onWriteDone(this, status);
  }
}

/** Everything a region needs from the rack and the run. */
export interface RegionContext {
  engine: Engine;
  registry: NodeRegistry;
  /** The compute node's fabric: told the queue class and post time of the storage calls. */
  fabric: SimFabric;
  costs: FaultPathCosts;
  quantumNs: number;
  batchAccesses: number;
  hitCostNs: number;
  random: { intBelow(bound: number): number };
  buggify: BuggifyHook | undefined;
  testOnly: TestOnlyBugs | undefined;
  fail: CheckFailure;
  onThreadsDone: (region: SimRegion) => void;
}

/** One region of a compute node, with its engine, storage, pager and threads. */
export class SimRegion {
  readonly name: string;
  readonly engine: PagingEngine;
  readonly dvs: DvsRegion;
  readonly pageCount: number;
  readonly blockPages: number;
  readonly pageSizeBytes: number;
  readonly threads: SimThread[] = [];
  /** Fault latency of every blocking fault, and per class. */
  readonly latency = new LogLinearHistogram();
  readonly latencyByClass = FAULT_CLASS_NAMES.map(() => new LogLinearHistogram());
  /** Pages per write-back batch. */
  readonly writebackBatchPages = new LogLinearHistogram();
  faults = 0;
  accessesDone = 0;
  sigbus = 0;
  threadsRunning = 0;
  /** When the threads started, and when the last one finished. */
  startNs = 0;
  finishNs = 0;
  /** Pages storage reported lost (at any time), and pages that were ever poisoned. */
  readonly lostReported: Uint8Array;
  readonly poisonedPages: Uint8Array;
  poisonedCount = 0;
  budgetShrunk = false;

  private readonly sim: Engine;
  private readonly ctx: RegionContext;
  private readonly costs: FaultPathCosts;
  private readonly copyNs: number;
  private readonly mapState: Uint8Array;
  private readonly mappedFrame: Int32Array;
  private readonly shadow: Uint32Array;
  private frameVersion = new Uint32Array(1024);
  private framePage = new Uint32Array(1024);
  private readonly waitHead: Int32Array;
  private readonly waitNext: Int32Array;
  private readonly counts: Float64Array;
  private readonly dvsPageBytes: number;
  private readonly fetchPool: FetchCtx[] = [];
  private readonly writePool: WriteCtx[] = [];
  private readonly batchPool: BatchCtx[] = [];
  private readonly batchScratch: Int32Array;
  private readonly runHandler: EventHandler<SimThread>;
  private draining = false;
  private cpuNs = 0;
  private pagerBusyNs = 0;
  private writesIssued = 0;
  /** WP_ASYNC: writes to write-protected pages are resolved by the kernel; the engine's probe finds them. */
  private readonly asyncWp: boolean;

  constructor(spec: RegionSpec, workload: Workload, ctx: RegionContext) {
    this.name = spec.name;
    this.ctx = ctx;
    this.sim = ctx.engine;
    this.costs = ctx.costs;
    this.blockPages = spec.blockPages;
    this.pageSizeBytes = 4096 * spec.blockPages;
    this.copyNs = ctx.costs.copyNsPer4KiB * spec.blockPages;
    this.pageCount = Math.ceil(workload.pageCount / spec.blockPages);
    const localPages = spec.localPages ?? Math.max(1, Math.round(spec.localRatio * this.pageCount));
    this.engine = new PagingEngine(
      { ...spec.vm, pageCount: this.pageCount, pageSizeBytes: this.pageSizeBytes, localPages, policySet: spec.policySet },
      { buggify: ctx.buggify },
    );
    this.dvsPageBytes = CONTENT_BYTES * spec.blockPages;
    this.dvs = new DvsRegion({
      sizeBytes: this.pageCount * this.dvsPageBytes,
      pageSizeBytes: this.dvsPageBytes,
      slabSizeBytes: spec.slabSizeBytes / STORAGE_SCALE,
      replication: spec.replication,
      placement: spec.placement,
      random: ctx.random,
      nodes: ctx.registry,
      listener: { pagesLost: (pages) => this.onPagesLost(pages) },
    });
    this.counts = this.engine.counters.counts;
    this.mapState = new Uint8Array(this.pageCount);
    this.mappedFrame = new Int32Array(this.pageCount).fill(-1);
    this.shadow = new Uint32Array(this.pageCount);
    this.lostReported = new Uint8Array(this.pageCount);
    this.poisonedPages = new Uint8Array(this.pageCount);
    this.waitHead = new Int32Array(this.pageCount).fill(-1);
    this.waitNext = new Int32Array(workload.threadCount).fill(-1);
    this.batchScratch = new Int32Array(Math.max(1, this.engine.config.writebackBatchPages));
    this.runHandler = { kindId: 0x54, onEvent: (thread) => this.run(thread) };
    this.asyncWp = spec.asyncDirtyTracking && this.engine.config.dirtyTracking;
    if (this.asyncWp) {
      this.engine.setDirtyProbe((page) => {
        this.cpuNs += this.costs.dirtyScanNs;
        return this.mapState[page] === MAP_RW;
      });
    }
    for (let t = 0; t < workload.threadCount; t++) {
      this.threads.push(new SimThread(this, t, workload.stream(t), new AccessBatch(ctx.batchAccesses)));
    }
  }

  /** Starts every thread at time 0. */
  start(): void {
    this.threadsRunning = this.threads.length;
    this.startNs = this.sim.now();
    this.finishNs = this.startNs;
    for (const thread of this.threads) this.sim.schedule(0, this.runHandler, thread, thread.index);
    if (this.threads.length === 0) this.ctx.onThreadsDone(this);
  }

  /** Resident pages (the engine's page_count gauge). */
  residentPages(): number {
    return this.engine.gauges().page_count;
  }

  // ------------------------------------------------------------------ the simulated MMU

  private run(th: SimThread): void {
    const now = this.sim.now();
    const quantumEnd = now + this.ctx.quantumNs;
    const batch = th.batch;
    const pages = batch.pages;
    const writes = batch.writes;
    const thinks = batch.thinkNs;
    const map = this.mapState;
    const block = this.blockPages;
    const hitNs = this.ctx.hitCostNs;
    const asyncWp = this.asyncWp;
    let t = now;
    let idx = th.idx;
    let count = th.count;
    let local = th.localNs;
    let done = 0;
    for (;;) {
      if (idx >= count) {
        count = th.stream.fill(batch, this.ctx.batchAccesses);
        idx = 0;
        if (count === 0) {
          th.count = 0;
          th.idx = 0;
          th.localNs = local;
          th.accesses += done;
          this.accessesDone += done;
          this.finish(th, t);
          return;
        }
      }
      const page = block === 1 ? pages[idx] : Math.floor(pages[idx] / block);
      const write = writes[idx] !== 0;
      let think = 0;
      if (th.thinkDone) th.thinkDone = false;
      else {
        think = thinks[idx];
        local += think;
      }
      const at = t + think;
      const s = map[page];
      const hit = s === MAP_RW || (s === MAP_WP && (!write || asyncWp));
      if (at > now && (!hit || at > quantumEnd)) {
        th.thinkDone = true;
        th.idx = idx;
        th.count = count;
        th.localNs = local;
        th.accesses += done;
        this.accessesDone += done;
        this.sim.scheduleAt(at, this.runHandler, th, th.index);
        return;
      }
      local += hitNs;
      if (hit) {
        if (write) this.stamp(page);
        else this.check(page);
        t = at + hitNs;
        if (write && s === MAP_WP) {
          // WP_ASYNC: the kernel resolves the write itself (no message); the page reads as written.
          map[page] = MAP_RW;
          t += this.costs.wpAsyncNs;
        }
        idx++;
        done++;
        continue;
      }
      th.idx = idx;
      th.count = count;
      th.localNs = local;
      th.accesses += done;
      this.accessesDone += done;
      this.beginFault(th, page, write);
      return;
    }
  }

  private finish(th: SimThread, atNs: number): void {
    th.done = true;
    th.finishNs = atNs;
    if (atNs > this.finishNs) this.finishNs = atNs;
    if (--this.threadsRunning === 0) this.ctx.onThreadsDone(this);
  }

  private stamp(page: number): void {
    const frame = this.mappedFrame[page];
    const version = (this.shadow[page] + 1) >>> 0;
    this.shadow[page] = version;
    this.frameVersion[frame] = version;
    this.framePage[frame] = page;
  }

  private check(page: number): void {
    const frame = this.mappedFrame[page];
    const version = this.frameVersion[frame];
    if (version !== this.shadow[page] || (version !== 0 && this.framePage[frame] !== page)) {
      this.ctx.fail(
        'shadow-mismatch',
        `region ${this.name}: a read of page ${page} saw version ${version} of page ${this.framePage[frame]}, but the last write to it was version ${this.shadow[page]}`,
      );
    }
  }

  /** A miss (or a write to a write-protected page) at the thread's time: the uffd message. */
  private beginFault(th: SimThread, page: number, write: boolean): void {
    const now = this.sim.now();
    th.waitPage = page;
    th.waitWrite = write;
    th.faultStartNs = now;
    this.waitNext[th.index] = this.waitHead[page];
    this.waitHead[page] = th.index;
    this.faults++;
    const wp = this.mapState[page] === MAP_WP;
    const ready = now + (wp ? this.costs.wpFaultNs : this.costs.trapNs);
    this.cpuNs = ready > this.pagerBusyNs ? ready : this.pagerBusyNs;
    if (wp) {
      th.faultClass = FC_WP;
      this.engine.dirtied(page);
    } else {
      const c = this.counts;
      const collision = c[I_COLLISION];
      const inactive = c[I_INACTIVE];
      const accessed = c[I_ACCESSED];
      const major = c[I_MAJOR];
      const slow = c[I_RECLAIM_SLOW];
      const frameWait = c[I_FRAME_WAIT];
      const rescue = c[I_RESCUE];
      const poisoned = c[I_POISONED_FAULT];
      this.engine.fault(page, write);
      let cls = FC_COLLISION;
      if (c[I_POISONED_FAULT] > poisoned) cls = FC_POISONED;
      else if (c[I_INACTIVE] > inactive) cls = FC_SOFT;
      else if (c[I_RESCUE] > rescue) cls = FC_RESCUE;
      else if (c[I_ACCESSED] > accessed) cls = FC_FIRST_TOUCH;
      else if (c[I_MAJOR] > major) cls = c[I_RECLAIM_SLOW] > slow ? FC_MISS_ACTIVE_VICTIM : c[I_FRAME_WAIT] > frameWait ? FC_MISS_FRAME_WAIT : FC_MISS;
      else if (c[I_COLLISION] > collision) cls = FC_COLLISION;
      th.faultClass = cls;
    }
    this.drain();
    this.pagerBusyNs = this.cpuNs;
  }

  /** Runs the threads waiting on `page` now that the engine mapped, woke or poisoned it. */
  private resolveWaiters(page: number): void {
    let t = this.waitHead[page];
    if (t < 0) return;
    const state = this.mapState[page];
    if (state === MAP_NONE) {
      if (this.engine.pageState(page) !== PageState.Poisoned) {
        // Woken but not mapped (cannot happen with this engine): fault again.
        let anyWrite = false;
        for (let u = t; u >= 0; u = this.waitNext[u]) if (this.threads[u].waitWrite) anyWrite = true;
        this.engine.fault(page, anyWrite);
        return;
      }
      this.waitHead[page] = -1;
      const resumeNs = this.cpuNs + this.costs.wakeNs;
      while (t >= 0) {
        const th = this.threads[t];
        t = this.waitNext[t];
        th.sigbus++;
        this.sigbus++;
        this.resume(th, resumeNs, FC_POISONED, false);
      }
      return;
    }
    this.waitHead[page] = -1;
    let blocked = -1;
    const resumeNs = this.cpuNs + this.costs.wakeNs;
    while (t >= 0) {
      const th = this.threads[t];
      const next = this.waitNext[t];
      if (th.waitWrite && state === MAP_WP) {
        this.waitNext[t] = blocked;
        blocked = t;
      } else {
        if (th.waitWrite) this.stamp(page);
        else this.check(page);
        this.resume(th, resumeNs, th.faultClass, true);
      }
      t = next;
    }
    if (blocked >= 0) {
      this.waitHead[page] = blocked;
      this.engine.dirtied(page);
    }
  }

  /** The faulting access completed (or got SIGBUS: not counted as a completed access). */
  private resume(th: SimThread, resumeNs: number, cls: number, completed: boolean): void {
    const latencyNs = resumeNs - th.faultStartNs;
    this.latency.record(latencyNs);
    this.latencyByClass[cls].record(latencyNs);
    th.waitPage = -1;
    th.idx++;
    if (completed) {
      th.accesses++;
      this.accessesDone++;
    }
    this.sim.scheduleAt(resumeNs + this.ctx.hitCostNs, this.runHandler, th, th.index);
  }

  // ------------------------------------------------------------------ the pager

  /** Carries out the engine's commands at the pager's CPU time. */
  private drain(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      const q = this.engine.commands;
      const costs = this.costs;
      while (q.next()) {
        const page = q.page;
        switch (q.kind) {
          case Command.Fetch:
            if (this.ctx.testOnly?.mapBeforeFetch === true) this.engine.fetchDone(page, true);
            else this.startFetch(page, q.frame, OpClass.Demand);
            break;
          case Command.Prefetch:
            this.startFetch(page, q.frame, OpClass.Prefetch);
            break;
          case Command.ZeroFill:
            this.ensureFrame(q.frame);
            this.frameVersion[q.frame] = 0;
            this.framePage[q.frame] = 0;
            break;
          case Command.Map:
            this.ensureFrame(q.frame);
            this.mappedFrame[page] = q.frame;
            this.mapState[page] = q.arg === 1 ? MAP_WP : MAP_RW;
            this.cpuNs += this.copyNs + costs.mapNs;
            this.resolveWaiters(page);
            break;
          case Command.Unmap:
            this.mappedFrame[page] = -1;
            this.mapState[page] = MAP_NONE;
            this.cpuNs += costs.unmapNs;
            break;
          case Command.Writeback:
            this.startWriteback(q.arg);
            break;
          case Command.Discard:
            this.dvs.discardPage(page);
            break;
          case Command.Poison:
            this.mappedFrame[page] = -1;
            this.mapState[page] = MAP_NONE;
            if (this.poisonedPages[page] === 0) {
              this.poisonedPages[page] = 1;
              this.poisonedCount++;
              if (this.lostReported[page] === 0) {
                this.ctx.fail('poisoned-without-loss', `region ${this.name}: page ${page} was poisoned although storage never reported it lost`);
              }
            }
            this.resolveWaiters(page);
            break;
          case Command.Wake:
            this.resolveWaiters(page);
            break;
          case Command.Unprotect:
            if (this.mapState[page] === MAP_WP) this.mapState[page] = MAP_RW;
            this.cpuNs += costs.mapNs; // UFFDIO_WRITEPROTECT: a page-table update, like a map
            this.resolveWaiters(page);
            break;
          default:
            break;
        }
      }
    } finally {
      this.draining = false;
    }
  }

  private ensureFrame(frame: number): void {
    if (frame < this.frameVersion.length) return;
    let size = this.frameVersion.length;
    while (size <= frame) size *= 2;
    const v = new Uint32Array(size);
    v.set(this.frameVersion);
    const p = new Uint32Array(size);
    p.set(this.framePage);
    this.frameVersion = v;
    this.framePage = p;
  }

  private startFetch(page: number, frame: number, cls: number): void {
    this.ensureFrame(frame);
    const ctx = this.fetchPool.pop() ?? new FetchCtx(this, this.dvsPageBytes);
    ctx.page = page;
    ctx.frame = frame;
    const fabric = this.ctx.fabric;
    fabric.setPostContext(cls, this.cpuNs);
    try {
      this.dvs.readPage(page, ctx.buf, ctx.done);
    } finally {
      fabric.clearPostContext();
    }
  }

  /** @internal The storage read of a Fetch / Prefetch completed. */
  onFetchDone(ctx: FetchCtx, status: string): void {
    const ok = status === 'ok';
    if (ok) {
      this.frameVersion[ctx.frame] = ctx.u32[0];
      this.framePage[ctx.frame] = ctx.u32[1];
    }
    const page = ctx.page;
    this.fetchPool.push(ctx);
    const outer = !this.draining;
    if (outer) this.cpuNs = Math.max(this.sim.now(), this.pagerBusyNs);
    this.engine.fetchDone(page, ok);
    if (outer) {
      this.drain();
      this.pagerBusyNs = this.cpuNs;
    }
  }

  private startWriteback(batchId: number): void {
    const count = this.engine.copyBatchPages(batchId, this.batchScratch);
    this.writebackBatchPages.record(count);
    const batch = this.batchPool.pop() ?? new BatchCtx();
    batch.batchId = batchId;
    batch.remaining = count;
    batch.allOk = true;
    const fabric = this.ctx.fabric;
    const every = this.ctx.testOnly?.ackWritebackWithoutStoreEvery ?? 0;
    for (let i = 0; i < count; i++) {
      const page = this.batchScratch[i];
      const frame = this.engine.frameOf(page);
      const w = this.writePool.pop() ?? new WriteCtx(this, this.dvsPageBytes);
      w.batch = batch;
      w.u32[0] = this.frameVersion[frame];
      w.u32[1] = this.framePage[frame];
      this.writesIssued++;
      if (every > 0 && this.writesIssued % every === 0) {
        w.done('ok'); // the deliberate bug: acknowledged, never stored
        continue;
      }
      fabric.setPostContext(OpClass.Demand, this.cpuNs);
      try {
        this.dvs.writePage(page, w.buf, w.done);
      } finally {
        fabric.clearPostContext();
      }
    }
  }

  /** @internal The storage write of one page of a batch completed. */
  onWriteDone(w: WriteCtx, status: string): void {
    const batch = w.batch as BatchCtx;
    w.batch = null;
    this.writePool.push(w);
    if (status !== 'ok') batch.allOk = false;
    if (--batch.remaining > 0) return;
    const outer = !this.draining;
    if (outer) this.cpuNs = Math.max(this.sim.now(), this.pagerBusyNs);
    this.engine.writebackDone(batch.batchId, batch.allOk);
    this.batchPool.push(batch);
    if (outer) {
      this.drain();
      this.pagerBusyNs = this.cpuNs;
    }
  }

  private onPagesLost(pages: readonly number[]): void {
    const outer = !this.draining;
    if (outer) this.cpuNs = Math.max(this.sim.now(), this.pagerBusyNs);
    for (const page of pages) {
      this.lostReported[page] = 1;
      this.engine.remoteLost(page);
    }
    if (outer) {
      this.drain();
      this.pagerBusyNs = this.cpuNs;
    }
  }

  /** Time passes for the engine (reclaim checks, queued write-backs). */
  tick(): void {
    const now = this.sim.now();
    this.cpuNs = Math.max(now, this.pagerBusyNs);
    this.engine.tick(now);
    this.drain();
    this.pagerBusyNs = this.cpuNs;
  }

  /** Changes the local budget at run time. */
  setBudget(localPages: number): void {
    if (localPages < this.engine.localPages) this.budgetShrunk = true;
    this.cpuNs = Math.max(this.sim.now(), this.pagerBusyNs);
    this.engine.setBudget(localPages);
    this.drain();
    this.pagerBusyNs = this.cpuNs;
  }

  // ------------------------------------------------------------------ checks

  /**
   * Resident pages hold the last version written (checked for every page with a frame), and the
   * budget holds once quiet. Called at the end of a run.
   */
  checkResident(): void {
    for (let page = 0; page < this.pageCount; page++) {
      const state = this.engine.pageState(page);
      if (state !== PageState.Active && state !== PageState.Inactive && state !== PageState.Evicting && state !== PageState.WritebackQueued) continue;
      const frame = this.engine.frameOf(page);
      const version = this.frameVersion[frame];
      if (version !== this.shadow[page] || (version !== 0 && this.framePage[frame] !== page)) {
        this.ctx.fail('shadow-mismatch', `region ${this.name}: resident page ${page} holds version ${version} of page ${this.framePage[frame]}, the last write was version ${this.shadow[page]}`);
      }
    }
  }

  /** Last version written to a page (0: never written). */
  shadowVersion(page: number): number {
    return this.shadow[page];
  }
}
