import { describe, expect, it } from 'vitest';
import { PagingEngine, PageState, VmError, type VmConfigInput } from '../index.js';
import { Driver } from '../test-support/driver.js';

function driver(input: Partial<VmConfigInput> = {}): Driver {
  return new Driver(new PagingEngine({ pageCount: 16, localPages: 2, ...input }));
}

describe('configuration', () => {
  it('names the bad field in a typed error', () => {
    expect(() => new PagingEngine({ pageCount: 0 })).toThrow(/pageCount = 0 is invalid/);
    expect(() => new PagingEngine({ pageCount: 8, pageSizeBytes: 5000 })).toThrow(/pageSizeBytes = 5000/);
    expect(() => new PagingEngine({ pageCount: 8, prefetch: 'magic' as never })).toThrow(/prefetch = "magic"/);
    expect(() => new PagingEngine({ pageCount: 8, localPages: -1 })).toThrow(VmError);
  });

  it('defaults to the original module parameters and clamps the budget to the region', () => {
    const e = new PagingEngine({ pageCount: 100_000 });
    expect(e.config.pageSizeBytes).toBe(4096);
    expect(e.localPages).toBe(65_536);
    expect(e.config.reclaim).toBe('none');
    expect(e.config.dirtyTracking).toBe(false);
    expect(new PagingEngine({ pageCount: 10 }).localPages).toBe(10);
  });
});

describe('the original fault path (rackmem2021)', () => {
  it('serves a first touch without a read: zero-fill and map', () => {
    const d = driver();
    expect(d.fault(3, true)).toEqual(['zero-fill:3', 'map:3']);
    expect(d.engine.counters.get('accessed')).toBe(1);
    expect(d.engine.counters.get('io_read')).toBe(0);
    expect(d.engine.pageState(3)).toBe(PageState.Active);
  });

  it('evicts the oldest active page with a write-back before reusing its frame', () => {
    const d = driver();
    const e = d.engine;
    d.fault(0, true);
    d.fault(1, true);
    expect(d.fault(2)).toEqual(['unmap:0', 'writeback#0']);
    expect(e.pageState(2)).toBe(PageState.WaitFrame);
    expect(e.counters.get('reclaim_slow')).toBe(1);
    expect(d.completeWritebacks()).toEqual(['zero-fill:2', 'map:2']);
    expect(e.pageState(0)).toBe(PageState.NotPresent);
    // Page 0 comes back by a read; the victim is page 1 (FIFO by time of mapping).
    expect(d.fault(0)).toEqual(['unmap:1', 'writeback#65536']);
    expect(d.completeWritebacks()).toEqual(['fetch:0']);
    // Exclusive caching, as in the original: once mapped writable, the stored copy is dead.
    expect(d.completeFetches()).toEqual(['discard:0', 'map:0']);
    expect(e.counters.get('io_read')).toBe(1);
    expect(e.counters.get('io_write')).toBe(2);
    expect(e.counters.get('pgfault_major')).toBe(1);
    e.checkInvariants();
  });

  it('takes victims in order: free budget, oldest inactive (no I/O), oldest active', () => {
    const d = driver({ localPages: 4, reclaim: 'background' });
    const e = d.engine;
    for (const p of [0, 1, 2, 3]) d.fault(p, true);
    expect(e.counters.get('alloc_local_page')).toBe(4);
    // Full and the inactive list empty: background reclaim moves 1% of the budget (at least 1).
    expect(e.counters.get('background_reclaim_task')).toBe(1);
    d.settle();
    expect(e.pageState(0)).toBe(PageState.Inactive);
    // The inactive victim needs no write: the fault is served before anything is written.
    expect(d.fault(4, true).slice(0, 2)).toEqual(['zero-fill:4', 'map:4']);
    expect(e.counters.get('reclaim_inactive')).toBe(1);
    expect(e.counters.get('reclaim_fast')).toBe(1);
    expect(e.pageState(0)).toBe(PageState.NotPresent);
    d.settle();
    e.checkInvariants();
  });

  it('serves a soft fault from the inactive list with no I/O', () => {
    const d = driver({ localPages: 4, reclaim: 'background' });
    for (const p of [0, 1, 2, 3]) d.fault(p, true);
    d.settle();
    const reads = d.engine.counters.get('io_read');
    expect(d.fault(0)).toContain('map:0');
    expect(d.engine.counters.get('pgfault_inactive')).toBe(1);
    expect(d.engine.counters.get('io_read')).toBe(reads);
    expect(d.engine.pageState(0)).toBe(PageState.Active);
  });

  it('counts collisions for concurrent faults on one page', () => {
    const d = driver();
    d.fault(0, true);
    d.fault(1, true);
    d.fault(2); // waits for a frame
    expect(d.fault(2)).toEqual([]);
    expect(d.fault(1)).toEqual(['wake:1']); // already mapped: wake the faulting thread
    expect(d.engine.counters.get('pgfault_collision')).toBe(2);
  });

  it('runs background reclaim only when enabled: below 0.25% of the budget, moving 1%', () => {
    const off = driver({ pageCount: 2000, localPages: 1000 });
    for (let p = 0; p < 1000; p++) off.fault(p, true);
    expect(off.engine.counters.get('background_reclaim_task')).toBe(0);
    const on = driver({ pageCount: 2000, localPages: 1000, reclaim: 'background' });
    for (let p = 0; p < 999; p++) on.fault(p, true);
    expect(on.engine.counters.get('background_reclaim_task')).toBe(0); // not full yet
    on.fault(999, true);
    expect(on.engine.counters.get('background_reclaim_task')).toBe(1);
    expect(on.engine.counters.get('background_reclaim')).toBe(10); // 1% of 1000
    on.settle();
    expect(on.engine.gauges().inactive_list_size).toBe(10);
    on.fault(1000, true); // 9 inactive left >= trigger 2 (0.25% of 1000): no new task
    expect(on.engine.counters.get('background_reclaim_task')).toBe(1);
    on.engine.checkInvariants();
  });
});

describe('budget changes at run time', () => {
  it('shrinks at once: evictions start in the same event', () => {
    const d = driver({ localPages: 4, reclaim: 'background' });
    for (const p of [0, 1, 2, 3]) d.fault(p, true);
    d.settle();
    d.engine.setBudget(2);
    const commands = d.drain();
    expect(commands.filter((c) => c.startsWith('unmap')).length).toBeGreaterThanOrEqual(1);
    // At most the new budget at once (background reclaim may keep one more page in reserve).
    expect(d.engine.gauges().page_count).toBeLessThanOrEqual(2);
    expect(() => d.engine.setBudget(0)).toThrow(VmError);
    d.settle();
    d.engine.checkInvariants();
  });

  it('does not loop when pages are in flight and both lists are empty (original defect 17)', () => {
    const d = driver({ localPages: 2 });
    d.fault(0, true);
    d.fault(1, true);
    d.settle();
    d.fault(5); // waits; page 0 in write-back
    d.engine.setBudget(1); // must return although the only victims are in flight
    d.settle();
    expect(d.engine.gauges().page_count).toBeLessThanOrEqual(1);
    d.engine.checkInvariants();
  });

  it('reports full only while resident pages fill the budget (original defect 16)', () => {
    const d = driver({ localPages: 2 });
    d.fault(0, true);
    d.fault(1, true);
    expect(d.engine.gauges().full).toBe(1);
    d.engine.setBudget(4);
    expect(d.engine.gauges().full).toBe(0);
  });

  it('never crashes or starves with an empty active list (original defect 5)', () => {
    const d = driver({ localPages: 1 });
    d.fault(0, true);
    d.fault(1, true);
    d.fault(2, true); // the only frame is in write-back, the active list is empty: wait
    d.settle();
    expect([1, 2].map((p) => d.engine.pageState(p))).toContain(PageState.Active);
    d.fault(1, true);
    d.settle();
    expect(d.engine.pageState(1)).toBe(PageState.Active);
    d.engine.checkInvariants();
  });
});

describe('failures', () => {
  it('poisons a page whose fetch failed, never zero-fills it', () => {
    const d = driver();
    const e = d.engine;
    d.fault(0, true);
    d.fault(1, true);
    d.fault(2, true);
    d.settle();
    d.fault(0);
    d.completeWritebacks();
    const commands = d.completeFetches(false);
    expect(commands).toContain('poison:0');
    expect(commands).not.toContain('zero-fill:0');
    expect(e.pageState(0)).toBe(PageState.Poisoned);
    expect(d.fault(0)).toEqual(['poison:0']);
    expect(e.counters.get('pgfault_poisoned')).toBe(1);
    d.settle();
    e.checkInvariants();
  });

  it('keeps a page whose write-back failed (nothing is dropped before it is stored)', () => {
    const d = driver();
    d.fault(0, true);
    d.fault(1, true);
    d.fault(2, true);
    d.completeWritebacks(false);
    expect(d.engine.pageState(0)).toBe(PageState.Active);
    expect(d.engine.isDirty(0)).toBe(true);
    expect(d.engine.counters.get('writeback_failed')).toBe(1);
    d.settle();
    d.engine.checkInvariants();
  });

  it('backs off when storage keeps failing instead of retrying in a loop', () => {
    const d = driver({ localPages: 2 });
    d.fault(0, true);
    d.fault(1, true);
    d.fault(2, true);
    for (let round = 0; round < 5; round++) d.completeWritebacks(false);
    // After the first failure no batch goes out until time passes.
    expect(d.engine.counters.get('writeback_failed')).toBe(1);
    expect(d.writebacks.length).toBe(0);
    d.engine.tick(1);
    d.drain();
    expect(d.writebacks.length).toBe(1);
    d.completeWritebacks(false);
    d.engine.tick(2);
    d.drain();
    expect(d.writebacks.length).toBe(0); // second failure: pause 2 ticks
    d.engine.tick(3);
    d.drain();
    expect(d.writebacks.length).toBe(1);
    d.settle();
    expect(d.engine.pageState(2)).toBe(PageState.Active);
    d.engine.checkInvariants();
  });

  it('rejects completions that match nothing in flight', () => {
    const d = driver();
    expect(() => d.engine.fetchDone(0, true)).toThrow(/not fetching/);
    expect(() => d.engine.writebackDone(12345, true)).toThrow(/not in flight/);
    expect(() => d.engine.fault(99, false)).toThrow(/outside the region/);
  });

  it('poisons a lost page that is not present, and keeps a resident one as the only copy', () => {
    const d = driver({ dirtyTracking: true });
    const e = d.engine;
    d.fault(0, true);
    d.fault(1, true);
    d.fault(2, true);
    d.settle(); // page 0 is in storage only
    e.remoteLost(0);
    expect(d.drain()).toEqual(['poison:0']);
    d.fault(3, true);
    d.settle();
    d.fault(1); // back from storage, clean
    d.settle();
    expect(e.isDirty(1)).toBe(false);
    e.remoteLost(1);
    expect(e.isDirty(1)).toBe(true);
    expect(d.drain()).toEqual(['unprotect:1']);
    e.checkInvariants();
  });
});

describe('write-back rescue', () => {
  it('takes a queued page straight back without I/O', () => {
    const d = driver({ localPages: 4, writebackMode: 'async', writebackBatchPages: 8, writebackMaxInFlightBatches: 1 });
    for (const p of [0, 1, 2, 3]) d.fault(p, true);
    d.fault(4, true); // evicts 0: a batch goes out at once
    d.fault(5, true); // evicts 1: queued behind the one batch in flight
    expect(d.engine.pageState(1)).toBe(PageState.WritebackQueued);
    expect(d.fault(1)).toContain('map:1');
    expect(d.engine.counters.get('pgfault_rescue')).toBe(1);
    d.settle();
    d.engine.checkInvariants();
  });

  it('a fault on a page whose write-back is on the wire waits for it, then maps it without a read', () => {
    const d = driver();
    d.fault(0, true);
    d.fault(1, true);
    d.fault(2, true); // page 0 in write-back
    expect(d.engine.pageState(0)).toBe(PageState.Evicting);
    expect(d.fault(0)).not.toContain('map:0');
    const first = d.writebacks.shift() as number;
    d.engine.writebackDone(first, true);
    const after = d.drain();
    expect(after).toContain('map:0');
    expect(after).not.toContain('fetch:0');
    d.settle();
    d.engine.checkInvariants();
  });
});

describe('improvements', () => {
  it('dirty tracking drops clean pages without a write-back', () => {
    const d = driver({ dirtyTracking: true });
    const e = d.engine;
    d.fault(0, true);
    d.fault(1, true);
    d.fault(2, true);
    d.settle(); // 0 written back (dirty)
    d.fault(0); // back from storage: clean; page 1 written back to make room
    d.settle();
    expect(d.fault(3, true)).toContain('unmap:2'); // 2 is dirty: written back
    d.settle();
    const writes = e.counters.get('io_write');
    const commands = d.fault(4, true); // the oldest active page is 0, clean: dropped with no write
    expect(commands[0]).toBe('unmap:0');
    expect(commands.some((c) => c.startsWith('writeback'))).toBe(false);
    d.settle();
    expect(e.counters.get('io_write')).toBe(writes);
    expect(e.counters.get('writeback_skipped_clean')).toBe(1);
    e.checkInvariants();
  });

  it('maps clean pages write-protected and unprotects them on the first write', () => {
    const d = driver({ dirtyTracking: true });
    d.fault(0, true);
    d.fault(1, true);
    d.fault(2, true);
    d.settle();
    d.fault(0);
    d.settle();
    expect(d.mapProtect.get(0)).toBe(1);
    d.engine.dirtied(0);
    expect(d.drain()).toEqual(['discard:0', 'unprotect:0']);
    expect(d.engine.isDirty(0)).toBe(true);
  });

  it('asks the dirty probe before dropping a clean page, and writes back what it reports written', () => {
    const d = driver({ dirtyTracking: true });
    const e = d.engine;
    const asked: number[] = [];
    const written = new Set<number>();
    e.setDirtyProbe((page) => {
      asked.push(page);
      return written.has(page);
    });
    d.fault(0, true);
    d.fault(1, true);
    d.fault(2, true);
    d.settle();
    d.fault(0); // back from storage, mapped write-protected (clean)
    d.settle();
    d.fault(3, true);
    d.settle();
    expect(d.mapProtect.get(0)).toBe(1);
    // A write the kernel let through (WP_ASYNC): no `dirtied` event, only the probe knows.
    written.add(0);
    asked.length = 0;
    const writes = e.counters.get('io_write');
    const commands = d.fault(4, true);
    expect(asked).toEqual([0]);
    expect(commands).toContain('unmap:0');
    expect(commands).toContain('discard:0');
    d.settle();
    expect(e.counters.get('io_write')).toBe(writes + 1);
    expect(e.counters.get('dirty_probe_hits')).toBe(1);
    e.checkInvariants();
    // A page the probe reports clean is dropped without a write-back.
    d.fault(0); // storage holds 0 again: clean
    d.settle();
    const clean = e.counters.get('writeback_skipped_clean');
    written.clear();
    for (let p = 5; p < 9; p++) d.fault(p, true);
    d.settle();
    expect(e.counters.get('writeback_skipped_clean')).toBe(clean + 1);
    expect(e.counters.get('dirty_probe_hits')).toBe(1);
    e.checkInvariants();
  });

  it('async write-back stages evicted pages so faults do not wait, in bounded batches', () => {
    const d = driver({ localPages: 8, writebackMode: 'async', writebackBatchPages: 4, writebackMaxInFlightBatches: 2 });
    for (let p = 0; p < 8; p++) d.fault(p, true);
    for (let p = 8; p < 16; p++) {
      d.fault(p, true);
      expect(d.engine.gauges().writeback_batches_in_flight).toBeLessThanOrEqual(2);
      expect(d.engine.gauges().page_count).toBeLessThanOrEqual(8);
    }
    // Staging (4 x 2 frames) let every fault proceed without waiting for a write-back.
    expect(d.engine.counters.get('frame_wait')).toBe(0);
    d.settle();
    expect(d.engine.counters.get('io_write')).toBe(8);
    d.engine.checkInvariants();
  });

  it('batches the write-backs started by one event up to the batch size', () => {
    const d = driver({ pageCount: 64, localPages: 32, writebackMode: 'async', writebackBatchPages: 8, writebackMaxInFlightBatches: 2 });
    for (let p = 0; p < 32; p++) d.fault(p, true);
    d.engine.setBudget(8); // 24 dirty pages: 2 batches of 8 in flight, 8 queued
    d.drain();
    expect(d.writebacks.length).toBe(2);
    expect(d.engine.batchPagesOf(d.writebacks[0])).toHaveLength(8);
    expect(d.engine.gauges().writeback_queue).toBe(8);
    d.settle();
    expect(d.engine.counters.get('io_write')).toBe(24);
    expect(d.engine.counters.get('writeback_batches')).toBe(3);
    expect(d.engine.gauges().page_count).toBe(8);
    d.engine.checkInvariants();
  });

  it('watermark reclaim stays idle when the whole region fits in the budget', () => {
    const d = driver({ pageCount: 500, localPages: 1000, reclaim: 'watermark' });
    for (let p = 0; p < 500; p++) d.fault(p, true);
    d.settle();
    expect(d.engine.counters.get('watermark_reclaim')).toBe(0);
    expect(d.engine.counters.get('io_write')).toBe(0);
  });

  it('watermark reclaim keeps clean victims ready, so faults never wait for a write-back', () => {
    const d = driver({ pageCount: 2000, localPages: 1000, reclaim: 'watermark', watermarkLowPermille: 10, watermarkHighPermille: 30 });
    for (let p = 0; p < 1000; p++) {
      d.fault(p, true);
      d.settle();
    }
    expect(d.engine.gauges().inactive_list_size).toBeGreaterThanOrEqual(10);
    expect(d.engine.counters.get('watermark_reclaim')).toBeGreaterThan(0);
    for (let p = 1000; p < 1500; p++) {
      d.fault(p, true);
      d.settle();
    }
    expect(d.engine.counters.get('frame_wait')).toBe(0);
    expect(d.engine.gauges().page_count).toBeLessThanOrEqual(1000);
    d.engine.checkInvariants();
  });
});

describe('prefetch', () => {
  /** A region whose 256 pages are all in storage, with room for 64 resident. */
  function stored(input: Partial<VmConfigInput>): Driver {
    const d = new Driver(new PagingEngine({ pageCount: 256, localPages: 256, ...input }));
    for (let p = 0; p < 256; p++) d.fault(p, true);
    d.engine.setBudget(1);
    d.settle();
    d.engine.setBudget(64);
    d.settle();
    return d;
  }

  it('readahead prefetches the next window on sequential misses and counts useful pages', () => {
    const d = stored({ prefetch: 'readahead', prefetchWindowPages: 4 });
    expect(d.fault(10)).toEqual(['fetch:10']);
    d.settle();
    expect(d.fault(11)).toEqual(['fetch:11', 'prefetch:12', 'prefetch:13', 'prefetch:14', 'prefetch:15']);
    d.settle();
    expect(d.engine.pageState(12)).toBe(PageState.Inactive);
    const soft = d.fault(12); // a prefetched page: a soft fault, and the stream moves on
    expect(soft).toContain('map:12');
    expect(soft).toContain('prefetch:16');
    expect(d.engine.counters.get('prefetch_issued')).toBe(5);
    expect(d.engine.counters.get('prefetch_useful')).toBe(1);
  });

  it('poisons a page whose prefetch fails after storage lost it (never a zero-fill later)', () => {
    const d = stored({ prefetch: 'readahead', prefetchWindowPages: 4 });
    d.fault(50);
    d.settle();
    d.fault(51);
    expect(d.engine.pageState(52)).toBe(PageState.Fetching);
    d.engine.remoteLost(52);
    expect(d.completeFetches(false)).toContain('poison:52');
    expect(d.engine.pageState(52)).toBe(PageState.Poisoned);
    expect(d.fault(52)).toEqual(['poison:52']);
    d.engine.checkInvariants();
  });

  it('counts late prefetches (demanded in flight) and wasted ones (evicted unused)', () => {
    const d = stored({ prefetch: 'readahead', prefetchWindowPages: 4 });
    d.fault(20);
    d.settle();
    d.fault(21);
    d.fault(22); // in flight as a prefetch
    expect(d.engine.counters.get('prefetch_late')).toBe(1);
    d.settle();
    expect(d.engine.pageState(22)).toBe(PageState.Active);
    expect(d.engine.counters.get('prefetch_useful')).toBe(1);
    d.engine.setBudget(3);
    d.settle();
    expect(d.engine.counters.get('prefetch_wasted')).toBe(3); // 23, 24, 25 never used
    d.engine.checkInvariants();
  });

  it('mapped prefetch maps pages on arrival except a marker whose soft fault continues the stream', () => {
    const d = stored({ prefetch: 'readahead', prefetchWindowPages: 4, prefetchMapped: true });
    d.fault(40);
    d.settle();
    d.fault(41);
    d.settle(); // prefetched 42..45; marker at 44
    expect([42, 43, 45].map((p) => d.engine.pageState(p))).toEqual([PageState.Active, PageState.Active, PageState.Active]);
    expect(d.engine.pageState(44)).toBe(PageState.Inactive);
    expect(d.engine.counters.get('prefetch_mapped')).toBe(3);
    const soft = d.fault(44);
    expect(soft).toContain('map:44');
    expect(soft).toEqual(expect.arrayContaining(['prefetch:46', 'prefetch:47', 'prefetch:48']));
    d.settle();
    expect(d.engine.counters.get('prefetch_useful')).toBe(1);
    d.engine.checkInvariants();
  });

  it('leap follows a majority stride, including negative strides', () => {
    const d = stored({ prefetch: 'leap', prefetchWindowPages: 2 });
    for (const p of [200, 197, 194, 191]) {
      d.fault(p);
      d.settle();
    }
    expect(d.engine.counters.get('prefetch_issued')).toBeGreaterThan(0);
    expect(d.engine.pageState(188)).toBe(PageState.Inactive);
  });

  it('adaptive grows its window on useful prefetches and shrinks it on waste', () => {
    const d = stored({ prefetch: 'adaptive', prefetchWindowPages: 2, prefetchMaxWindowPages: 32 });
    for (let p = 0; p < 40; p++) {
      d.fault(p);
      d.settle();
    }
    const grown = d.engine.gauges().prefetch_window;
    expect(grown).toBeGreaterThan(2);
    // A stride the prefetcher follows but the program abandons: prefetched pages go unused.
    for (let i = 0; i < 30; i++) {
      const base = 60 + ((i * 37) % 180);
      for (const p of [base, base + 3, base + 6]) {
        d.fault(p);
        d.settle();
      }
    }
    expect(d.engine.counters.get('prefetch_wasted')).toBeGreaterThan(0);
    expect(d.engine.gauges().prefetch_window).toBeLessThan(grown);
    d.engine.checkInvariants();
  });
});

describe('metadata', () => {
  it('costs at most 16 bytes per page, plus at most 8 bytes per local frame', () => {
    const d = new Driver(new PagingEngine({ pageCount: 1 << 16, localPages: 1 << 12 }));
    expect(d.engine.metadataBytesPerPage()).toBeLessThanOrEqual(16);
    for (let p = 0; p < 1 << 13; p++) d.fault(p, true);
    d.settle();
    expect(d.engine.metadataBytesPerFrame()).toBeLessThanOrEqual(8); // a free stack that doubles
  });
});
