import { DvsRegion, MemoryNodeSet, NodeRegistry } from '@rackmem/dvs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PagingEngine, type VmConfigInput } from '../index.js';
import { InMemoryPager, PoisonedPageError } from './in-memory-pager.js';

/**
 * The paging engine on top of real dvs storage (three memory nodes, small slabs, manual
 * delivery so completions arrive in any order), with memory-node failures and restarts. Checked
 * against a reference model: every read returns the last write; with replication 2 nothing is ever
 * lost; with replication 1 only pages that dvs reported lost may be poisoned, and a poisoned page
 * never reads as zeros or stale data.
 */

const PAGE_BYTES = 4096;
const PAGES_PER_SLAB = 4;
const NODES = ['m0', 'm1', 'm2'];
const THREADS = 3;

type Op =
  | { kind: 'access'; thread: number; page: number; isWrite: boolean }
  | { kind: 'deliver'; pick: number }
  | { kind: 'budget'; pages: number }
  | { kind: 'fail'; node: number }
  | { kind: 'restart'; node: number };

function opArb(pageCount: number): fc.Arbitrary<Op> {
  return fc.oneof(
    { weight: 8, arbitrary: fc.record({ kind: fc.constant('access' as const), thread: fc.integer({ min: 0, max: THREADS - 1 }), page: fc.integer({ min: 0, max: pageCount - 1 }), isWrite: fc.boolean() }) },
    { weight: 10, arbitrary: fc.record({ kind: fc.constant('deliver' as const), pick: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('budget' as const), pages: fc.integer({ min: 1, max: pageCount }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('fail' as const), node: fc.integer({ min: 0, max: NODES.length - 1 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('restart' as const), node: fc.integer({ min: 0, max: NODES.length - 1 }) }) },
  );
}

function vmConfigArb(pageCount: number): fc.Arbitrary<VmConfigInput> {
  return fc.record({
    pageCount: fc.constant(pageCount),
    localPages: fc.integer({ min: 1, max: Math.max(1, pageCount >> 1) }),
    policySet: fc.constantFrom('rackmem2021', 'improved'),
    reclaim: fc.constantFrom('none', 'background', 'watermark'),
    dirtyTracking: fc.boolean(),
    prefetch: fc.constantFrom('none', 'readahead', 'leap', 'adaptive'),
    prefetchWindowPages: fc.constant(2),
    prefetchMaxWindowPages: fc.constant(8),
    prefetchMapped: fc.boolean(),
    watermarkLowPermille: fc.constant(100),
    watermarkHighPermille: fc.constant(250),
  }) as fc.Arbitrary<VmConfigInput>;
}

function run(replication: 1 | 2, config: VmConfigInput, ops: Op[]): void {
  const nodes = new MemoryNodeSet({
    nodes: NODES.map((nodeId) => ({ nodeId, capacityBytes: 64 * PAGES_PER_SLAB * PAGE_BYTES })),
    delivery: 'manual',
  });
  const registry = new NodeRegistry(nodes.backends);
  const reportedLost = new Set<number>();
  const engine = new PagingEngine(config);
  const holder: { pager?: InMemoryPager } = {};
  const region = new DvsRegion({
    sizeBytes: config.pageCount * PAGE_BYTES,
    slabSizeBytes: PAGES_PER_SLAB * PAGE_BYTES,
    replication,
    nodes: registry,
    listener: {
      pagesLost: (pages) => {
        for (const page of pages) {
          reportedLost.add(page);
          engine.remoteLost(page);
        }
        holder.pager?.pump();
      },
    },
  });
  const pager = new InMemoryPager(engine, region);
  holder.pager = pager;

  const expected = new Map<number, number>();
  const poisoned = new Set<number>();
  const busy = new Array<boolean>(THREADS).fill(false);
  let stamp = 1;
  const failed = new Set<number>();

  const issue = (thread: number, page: number, isWrite: boolean): void => {
    busy[thread] = true;
    pager.access(page, isWrite, (error, bytes) => {
      busy[thread] = false;
      if (error) {
        expect(error).toBeInstanceOf(PoisonedPageError);
        expect(replication, `page ${page} poisoned with replication 2`).toBe(1);
        expect(reportedLost.has(page), `page ${page} poisoned but dvs never reported it lost`).toBe(true);
        poisoned.add(page);
        return;
      }
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const want = expected.get(page) ?? 0;
      expect(view.getUint32(0, true), `page ${page}`).toBe(want);
      if (want !== 0) expect(view.getUint32(4, true)).toBe(page);
      if (isWrite) {
        const next = stamp++;
        view.setUint32(0, next, true);
        view.setUint32(4, page, true);
        expected.set(page, next);
      }
    });
  };

  const quiet = (): boolean => {
    const g = region.gauges();
    return g.degradedSlots === 0 && g.rebuildingSlots === 0 && g.parkedRepairs === 0;
  };

  for (const op of ops) {
    switch (op.kind) {
      case 'access':
        if (!busy[op.thread] && !poisoned.has(op.page)) issue(op.thread, op.page, op.isWrite);
        break;
      case 'deliver':
        if (nodes.pendingCount() > 0) nodes.deliver(op.pick % nodes.pendingCount());
        break;
      case 'budget':
        engine.setBudget(op.pages);
        pager.pump();
        break;
      case 'fail':
        // r=2 keeps every page on two nodes: fail one only when every slot is fully replicated.
        if (failed.size === 0 && (replication === 1 || quiet())) {
          failed.add(op.node);
          nodes.fail(NODES[op.node]);
          registry.markLost(NODES[op.node]);
        }
        break;
      case 'restart':
        if (failed.has(op.node)) {
          failed.delete(op.node);
          nodes.restart(NODES[op.node]);
          registry.markHealthy(NODES[op.node]);
        }
        break;
    }
    engine.checkInvariants();
  }

  // Heal and drain.
  for (const node of failed) {
    nodes.restart(NODES[node]);
    registry.markHealthy(NODES[node]);
  }
  const drain = (): void => {
    for (let guard = 0; nodes.pendingCount() > 0 || engine.gauges().writeback_queue > 0; guard++) {
      if (guard > 200_000) throw new Error('no quiescence');
      if (nodes.pendingCount() > 0) nodes.deliver(0);
      else {
        engine.tick(guard); // paused write-backs resume with time
        pager.pump();
      }
    }
  };
  drain();
  expect(busy.every((b) => !b), 'every access completed').toBe(true);
  engine.checkInvariants();
  const g = engine.gauges();
  expect(g.page_count).toBeLessThanOrEqual(g.page_count_limit);
  for (let page = 0; page < config.pageCount; page++) {
    if (poisoned.has(page)) continue;
    issue(0, page, false);
    drain();
    expect(busy[0], `final read of page ${page} completed`).toBe(false);
  }
}

describe('paging engine over dvs with memory-node failures', () => {
  for (const replication of [1, 2] as const) {
    it(`replication ${replication}: reads return the last write${replication === 1 ? ' or are poisoned where dvs reported a loss' : '; nothing is lost'}`, () => {
      fc.assert(
        fc.property(
          fc.integer({ min: 4, max: 20 }).chain((pageCount) => fc.tuple(vmConfigArb(pageCount), fc.array(opArb(pageCount), { minLength: 20, maxLength: 250 }))),
          ([config, ops]) => run(replication, config, ops),
        ),
        { numRuns: 150, seed: 7472 + replication },
      );
    });
  }
});
