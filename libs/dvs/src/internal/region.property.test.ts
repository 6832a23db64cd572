import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PAGE, SLAB, pageData, seeded } from '../../test/helpers.js';
import { MemoryNodeSet, type DeliveryMode } from './memory-node-set.js';
import { NodeRegistry } from './node-registry.js';
import { DvsRegion } from './region.js';
import type { IoStatus } from './types.js';

const NODES = ['n0', 'n1', 'n2'];
const PAGES = 14; // 4 slots of 4 pages, the last one partial (2 pages)

type Cmd =
  | { t: 'write'; page: number }
  | { t: 'read'; page: number }
  | { t: 'discard'; page: number }
  | { t: 'deliver'; i: number }
  | { t: 'fail'; node: number }
  | { t: 'restart'; node: number };

const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ t: fc.constant('write' as const), page: fc.nat(PAGES - 1) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('read' as const), page: fc.nat(PAGES - 1) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('discard' as const), page: fc.nat(PAGES - 1) }) },
  { weight: 8, arbitrary: fc.record({ t: fc.constant('deliver' as const), i: fc.nat(1000) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('fail' as const), node: fc.nat(2) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('restart' as const), node: fc.nat(2) }) },
);

interface ModelOp {
  kind: 'write' | 'read' | 'discard';
  version: number;
}

/** Run one scenario against a plain Map reference; throws on any divergence. */
function runScenario(
  replication: 1 | 2,
  delivery: DeliveryMode,
  twoChoices: boolean,
  seed: number,
  copies: number,
  rebuilds: number,
  cmds: readonly Cmd[],
): void {
  const nodes = new MemoryNodeSet({ nodes: NODES.map((nodeId) => ({ nodeId, capacityBytes: 64 * SLAB })), delivery });
  const registry = new NodeRegistry(nodes.backends);
  const value = new Map<number, number>(); // page -> version of the last completed write
  const lostPages = new Set<number>();
  const queues = new Map<number, ModelOp[]>(); // per-page issue order of ops not yet applied
  const failures: string[] = [];
  const region = new DvsRegion({
    sizeBytes: PAGES * PAGE,
    pageSizeBytes: PAGE,
    slabSizeBytes: SLAB,
    replication,
    placement: twoChoices ? 'two-choices' : 'round-robin',
    random: seeded(seed),
    nodes: registry,
    maxCopiesInFlight: copies,
    maxConcurrentRebuilds: rebuilds,
    listener: {
      pagesLost: (pages) => {
        if (replication === 2) failures.push(`pages lost with r=2: ${pages.join(',')}`);
        for (const p of pages) {
          if (!value.has(p)) failures.push(`page ${p} reported lost but it was not live`);
          value.delete(p);
          lostPages.add(p);
        }
      },
    },
  });

  const applyDiscards = (page: number): void => {
    const q = queues.get(page) as ModelOp[];
    while (q.length > 0 && q[0].kind === 'discard') {
      q.shift();
      value.delete(page);
      lostPages.delete(page);
    }
  };
  const issue = (page: number, op: ModelOp): void => {
    const q = queues.get(page) ?? [];
    queues.set(page, q);
    q.push(op);
    if (op.kind === 'discard' && q.length === 1) applyDiscards(page);
  };
  const complete = (page: number, op: ModelOp): void => {
    const q = queues.get(page) as ModelOp[];
    if (q[0] !== op) failures.push(`page ${page}: ${op.kind} completed out of issue order`);
    q.shift();
    // the region applies queued discards right after this completion; the checks below run
    // inside the callback, before that, so apply them after the check (see callers)
  };

  let version = 0;
  const write = (page: number): void => {
    const op: ModelOp = { kind: 'write', version: ++version };
    issue(page, op);
    region.writePage(page, pageData(page, op.version), (status) => {
      complete(page, op);
      if (status === 'ok') {
        value.set(page, op.version);
        lostPages.delete(page);
      } else if (replication === 2 || (status !== 'peer-lost' && status !== 'lost')) {
        failures.push(`write of page ${page} failed: ${status}`);
      }
      applyDiscards(page);
    });
  };
  const read = (page: number): void => {
    const op: ModelOp = { kind: 'read', version: 0 };
    issue(page, op);
    const into = new Uint8Array(PAGE);
    region.readPage(page, into, (status: IoStatus) => {
      complete(page, op);
      const v = value.get(page);
      if (status === 'ok') {
        if (v === undefined) failures.push(`read of page ${page} returned data but nothing is stored`);
        else if (!pageData(page, v).every((b, i) => into[i] === b)) failures.push(`read of page ${page} returned wrong bytes`);
      } else if (status === 'lost') {
        if (!lostPages.has(page)) failures.push(`read of page ${page} said lost, but it was not reported lost`);
      } else if (status === 'not-found') {
        if (v !== undefined || lostPages.has(page)) failures.push(`read of page ${page} said not-found, expected ${v ?? 'lost'}`);
      } else failures.push(`read of page ${page} failed: ${status}`);
      applyDiscards(page);
    });
  };

  const rnd = seeded(seed ^ 0x5eed);
  const failed = new Set<string>();
  for (const cmd of cmds) {
    if (cmd.t === 'write') write(cmd.page);
    else if (cmd.t === 'read') read(cmd.page);
    else if (cmd.t === 'discard') {
      issue(cmd.page, { kind: 'discard', version: 0 });
      region.discardPage(cmd.page);
    } else if (cmd.t === 'deliver') {
      if (nodes.pendingCount() > 0) nodes.deliver(cmd.i % nodes.pendingCount());
    } else if (cmd.t === 'fail') {
      const id = NODES[cmd.node];
      if (failed.has(id) || registry.healthyCount() <= 1) continue;
      if (replication === 2) {
        // at most one failure between repairs
        const g = region.gauges();
        if (g.degradedSlots > 0 || g.rebuildingSlots > 0 || g.parkedRepairs > 0) continue;
      }
      failed.add(id);
      nodes.fail(id);
      registry.markLost(id);
    } else {
      const id = NODES[cmd.node];
      if (!failed.has(id)) continue;
      failed.delete(id);
      nodes.restart(id);
      registry.markHealthy(id);
    }
    if (failures.length > 0) break;
  }
  const drain = (): void => {
    while (nodes.pendingCount() > 0) nodes.deliver(rnd.intBelow(nodes.pendingCount()));
  };
  drain();
  if (replication === 2 && registry.healthyCount() >= 2 && region.gauges().degradedSlots !== 0) {
    failures.push(`repair did not finish: ${JSON.stringify(region.gauges())}`);
  }
  for (let p = 0; p < PAGES; p++) read(p);
  drain();
  const g = region.gauges();
  if (g.livePages !== value.size) failures.push(`livePages ${g.livePages} != model ${value.size}`);
  if (g.lostPages !== lostPages.size) failures.push(`lostPages ${g.lostPages} != model ${lostPages.size}`);
  if (g.pendingOps !== 0 || g.backendOpsInFlight !== 0) failures.push(`work left after drain: ${JSON.stringify(g)}`);
  let closed = false;
  region.close(() => (closed = true));
  drain();
  if (!closed) failures.push('close did not complete');
  for (const id of NODES) if (nodes.usedBytes(id) !== 0) failures.push(`node ${id} still holds ${nodes.usedBytes(id)} bytes after close`);
  expect(failures).toEqual([]);
}

// Random interleavings of writes, reads, discards, node failures and restarts (at least one healthy
// node; with r = 2 a failure only when no slot is degraded or being repaired) and random
// completion order, checked against a Map of the last completed write per page.
describe('region property: random interleavings against a Map reference', () => {
  for (const replication of [2, 1] as const) {
    it(`r=${replication}: reads return the last completed write (or lost only where allowed)`, () => {
      fc.assert(
        fc.property(
          fc.constantFrom<DeliveryMode>('manual', 'manual', 'manual', 'immediate'),
          fc.boolean(),
          fc.integer({ min: 1, max: 1 << 30 }),
          fc.integer({ min: 1, max: 3 }),
          fc.integer({ min: 1, max: 3 }),
          fc.array(cmdArb, { minLength: 40, maxLength: 200 }),
          (delivery, twoChoices, seed, copies, rebuilds, cmds) => runScenario(replication, delivery, twoChoices, seed, copies, rebuilds, cmds),
        ),
        { numRuns: 100 },
      );
    });
  }
});
