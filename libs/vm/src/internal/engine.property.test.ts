import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PagingEngine, type VmConfigInput } from '../index.js';
import { MapStore } from '../test-support/stores.js';
import { InMemoryPager, PoisonedPageError } from './in-memory-pager.js';

/**
 * Random interleavings of accesses from several threads, budget changes, completions delivered in
 * any order, failed write-backs and lost pages, checked against a plain reference model: every read
 * returns the last write (or zeros for a page never written), or is poisoned only where the store
 * lost the page; resident pages respect the budget once quiet; the counters add up.
 */

type Op =
  | { kind: 'access'; thread: number; page: number; isWrite: boolean }
  | { kind: 'deliver'; pick: number }
  | { kind: 'budget'; pages: number }
  | { kind: 'failWrites'; on: boolean }
  | { kind: 'lose'; page: number }
  | { kind: 'tick' };

const THREADS = 3;

function configArb(pageCount: number): fc.Arbitrary<VmConfigInput> {
  return fc.record({
    pageCount: fc.constant(pageCount),
    localPages: fc.integer({ min: 1, max: pageCount }),
    reclaim: fc.constantFrom('none', 'background', 'watermark'),
    writebackMode: fc.constantFrom('sync', 'async'),
    writebackBatchPages: fc.integer({ min: 1, max: 6 }),
    writebackMaxInFlightBatches: fc.integer({ min: 1, max: 3 }),
    dirtyTracking: fc.boolean(),
    prefetch: fc.constantFrom('none', 'readahead', 'leap', 'adaptive'),
    prefetchWindowPages: fc.integer({ min: 1, max: 4 }),
    prefetchMaxWindowPages: fc.constant(8),
    prefetchMapped: fc.boolean(),
    watermarkLowPermille: fc.constant(100),
    watermarkHighPermille: fc.constant(250),
  }) as fc.Arbitrary<VmConfigInput>;
}

function opArb(pageCount: number): fc.Arbitrary<Op> {
  return fc.oneof(
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('access' as const), thread: fc.integer({ min: 0, max: THREADS - 1 }), page: fc.integer({ min: 0, max: pageCount - 1 }), isWrite: fc.boolean() }) },
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('deliver' as const), pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('budget' as const), pages: fc.integer({ min: 1, max: pageCount }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('failWrites' as const), on: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('lose' as const), page: fc.integer({ min: 0, max: pageCount - 1 }) }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'tick' as const }) },
  );
}

class Model {
  readonly expected = new Map<number, number>();
  /** Pages whose stored copy the store may have lost: a poison is acceptable there. */
  readonly mayBeLost = new Set<number>();
  readonly poisoned = new Set<number>();
  readonly busy = new Array<boolean>(THREADS).fill(false);
  nextStamp = 1;
  accessesDone = 0;
}

function runScenario(config: VmConfigInput, ops: Op[], buggifySeed: number, asyncDirtyTracking = false): void {
  // Buggify sites fire from a small deterministic generator when the seed is odd.
  let x = buggifySeed | 0;
  const buggify = buggifySeed % 2 === 1 ? () => ((x = (x * 1103515245 + 12345) >>> 0) & 3) === 0 : undefined;
  const engine = new PagingEngine(config, { buggify });
  const store = new MapStore(true);
  const pager = new InMemoryPager(engine, store, { asyncDirtyTracking });
  const model = new Model();

  const issue = (thread: number, page: number, isWrite: boolean): void => {
    model.busy[thread] = true;
    pager.access(page, isWrite, (error, bytes) => {
      model.busy[thread] = false;
      model.accessesDone++;
      if (error) {
        expect(error).toBeInstanceOf(PoisonedPageError);
        expect(model.mayBeLost.has(page), `page ${page} poisoned without a loss`).toBe(true);
        model.poisoned.add(page);
        return;
      }
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const stamp = view.getUint32(0, true);
      const owner = view.getUint32(4, true);
      const expected = model.expected.get(page) ?? 0;
      expect(stamp, `page ${page} read ${stamp}, expected ${expected}`).toBe(expected);
      if (expected !== 0) expect(owner).toBe(page);
      if (isWrite) {
        const next = model.nextStamp++;
        view.setUint32(0, next, true);
        view.setUint32(4, page, true);
        model.expected.set(page, next);
      }
    });
  };

  for (const op of ops) {
    switch (op.kind) {
      case 'access':
        if (!model.busy[op.thread] && !model.poisoned.has(op.page)) issue(op.thread, op.page, op.isWrite);
        break;
      case 'deliver':
        if (store.pending.length > 0) store.deliver(op.pick % store.pending.length);
        break;
      case 'budget':
        engine.setBudget(op.pages);
        pager.pump();
        break;
      case 'failWrites':
        store.failWrites = op.on;
        break;
      case 'lose':
        // The store loses its copy (a memory node died with replication 1): reads of it fail.
        store.failingReads.add(op.page);
        model.mayBeLost.add(op.page);
        break;
      case 'tick':
        engine.tick(0);
        pager.pump();
        break;
    }
    engine.checkInvariants();
  }

  // Heal: writes succeed again; deliver everything until quiet.
  store.failWrites = false;
  for (let guard = 0; store.pending.length > 0 || engine.gauges().writeback_queue > 0; guard++) {
    if (guard > 100_000) throw new Error('no quiescence');
    if (store.pending.length > 0) store.deliver(0);
    else {
      engine.tick(guard); // paused write-backs resume with time
      pager.pump();
    }
  }
  expect(model.busy.every((b) => !b), 'every access completed').toBe(true);
  engine.checkInvariants();
  const g = engine.gauges();
  expect(g.page_count).toBeLessThanOrEqual(g.page_count_limit);
  expect(g.writeback_queue + g.evicting_pages + g.waiting_faults + g.prefetch_in_flight).toBe(0);

  // Read every page back through the pager: the last write, or poisoned where lost.
  for (let page = 0; page < config.pageCount; page++) {
    if (model.poisoned.has(page)) continue;
    issue(0, page, false);
    for (let guard = 0; store.pending.length > 0 || engine.gauges().writeback_queue > 0; guard++) {
      if (guard > 100_000) throw new Error('no quiescence');
      if (store.pending.length > 0) store.deliver(0);
      else {
        engine.tick(guard);
        pager.pump();
      }
    }
    expect(model.busy[0]).toBe(false);
  }

  // Counters add up.
  const c = engine.counters.snapshot();
  expect(c.pgfault).toBe(c.pgfault_read + c.pgfault_write);
  expect(c.pgfault).toBe(c.pgfault_collision + c.pgfault_inactive + c.accessed + c.pgfault_major + c.pgfault_rescue + c.pgfault_poisoned + c.pgfault_wp);
  expect(c.io_read).toBe(c.pgfault_major + c.prefetch_issued);
  expect(c.prefetch_issued).toBeGreaterThanOrEqual(c.prefetch_useful + c.prefetch_wasted + c.prefetch_failed);
  expect(c.io_write).toBeGreaterThanOrEqual(c.writeback_batches);
}

describe('paging engine against a reference model', () => {
  it('never returns wrong data under random interleavings, failures and budget changes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 4, max: 24 }).chain((pageCount) => fc.tuple(configArb(pageCount), fc.array(opArb(pageCount), { minLength: 20, maxLength: 300 }), fc.nat(), fc.boolean())),
        ([config, ops, buggifySeed, asyncDirty]) => runScenario(config, ops, buggifySeed, asyncDirty),
      ),
      { numRuns: 300, seed: 20261126 },
    );
  });

  it('is deterministic: the same events give the same commands and counters', () => {
    const ops: Op[] = [];
    let x = 12345;
    for (let i = 0; i < 2000; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      ops.push(i % 3 === 2 ? { kind: 'deliver', pick: x >>> 8 } : { kind: 'access', thread: x % THREADS, page: (x >>> 4) % 32, isWrite: (x & 1) === 1 });
    }
    const run = (): string => {
      const engine = new PagingEngine({ pageCount: 32, localPages: 7, policySet: 'improved' });
      const store = new MapStore(true);
      const pager = new InMemoryPager(engine, store);
      const busy = [false, false, false];
      for (const op of ops) {
        if (op.kind === 'access' && !busy[op.thread]) {
          busy[op.thread] = true;
          pager.access(op.page, op.isWrite, () => {
            busy[op.thread] = false;
          });
        } else if (op.kind === 'deliver' && store.pending.length > 0) store.deliver(op.pick % store.pending.length);
      }
      return JSON.stringify([engine.counters.snapshot(), engine.gauges()]);
    };
    expect(run()).toBe(run());
  });
});
