// The seams of the region's concept modules: SlabPool and RepairScheduler driven alone through
// their host interfaces, with the host's calls recorded.
import { describe, expect, it } from 'vitest';
import { PAGE, SLAB } from '../../test/helpers.js';
import { MemoryNodeSet } from './memory-node-set.js';
import { NodeRegistry } from './node-registry.js';
import { validateRegionOptions } from './options.js';
import { createPlacement } from './placement.js';
import { PAGE_LIVE, RegionState } from './region-state.js';
import { RepairScheduler } from './repair.js';
import { SlabPool } from './slab-pool.js';
import { Replica, SLOT_BOUND, type Slot } from './slot.js';

/** Region state over in-memory nodes ('immediate' delivery) and a host that records its calls. */
function parts(opts: { nodeCount: number; capacitySlabs: number; replication: number; slots?: number }) {
  const nodes = new MemoryNodeSet({
    nodes: Array.from({ length: opts.nodeCount }, (_, i) => ({ nodeId: `n${i}`, capacityBytes: opts.capacitySlabs * SLAB })),
  });
  const registry = new NodeRegistry(nodes.backends);
  const geo = validateRegionOptions({
    sizeBytes: (opts.slots ?? 4) * SLAB,
    pageSizeBytes: PAGE,
    slabSizeBytes: SLAB,
    replication: opts.replication,
    nodes: registry,
  });
  const state = new RegionState(geo, registry, createPlacement('round-robin', registry, undefined), undefined);
  const calls: string[] = [];
  const late: { repair: RepairScheduler | null } = { repair: null };
  const host = {
    freeReplica: (rep: Replica) => {
      calls.push(`free ${rep.nodeId}`);
      rep.active = false;
      rep.backend.free(rep.slab);
    },
    replicaFailed: (_slot: Slot, rep: Replica) => calls.push(`failed ${rep.nodeId}`),
    afterSlotActivity: (slot: Slot) => {
      calls.push(`activity ${slot.index}`);
      late.repair?.maybePromote(slot); // as the region does: I/O ended, maybe promote
    },
    maybeReclaim: (slot: Slot) => calls.push(`reclaim ${slot.index}`),
    settle: () => calls.push('settle'),
  };
  return { nodes, registry, state, calls, host, late };
}

/** Bind a slot by hand to one slab on `nodeId` holding `livePages` live pages. */
function bindDegraded(p: ReturnType<typeof parts>, slot: Slot, nodeId: string, livePages: number): void {
  const backend = p.registry.backend(nodeId);
  if (backend === undefined) throw new Error(`no node ${nodeId}`);
  let slab = -1;
  backend.alloc(slot.sizeBytes, (_s, id) => (slab = id));
  slot.state = SLOT_BOUND;
  slot.replicas = [new Replica(backend, slab, p.registry.epoch(nodeId))];
  slot.setSizeBytes = slot.sizeBytes;
  for (let i = 0; i < livePages; i++) p.state.flags[slot.firstPage + i] |= PAGE_LIVE;
  slot.liveCount = livePages;
}

describe('SlabPool through PoolHost', () => {
  it('refills with full sets only, hands out the newest, and pools or frees what it is offered', () => {
    const p = parts({ nodeCount: 2, capacitySlabs: 8, replication: 2, slots: 40 });
    const pool = new SlabPool(p.state, p.host);
    pool.checkRefill();
    expect(pool.size).toBe(p.state.geo.refillSets); // ceil(5% of 40) = 2 sets of 2 slabs
    expect(p.nodes.slabCount('n0') + p.nodes.slabCount('n1')).toBe(2 * p.state.geo.refillSets);
    expect(p.calls.filter((c) => c === 'settle')).toHaveLength(2 * p.state.geo.refillSets); // one per alloc completion
    const newest = pool.nodeIds()[pool.size - 1];
    expect(pool.take(SLAB)?.replicas.map((r) => r.nodeId)).toEqual(newest);
    const before = pool.size;
    // A degraded set is never pooled: its slab goes back to its node.
    const degraded = pool.take(SLAB);
    pool.offer({ replicas: [degraded!.replicas[0]], sizeBytes: SLAB });
    expect(pool.size).toBe(before - 1);
    expect(p.calls).toContain(`free ${degraded!.replicas[0].nodeId}`);
  });

  it('drops sets with a slab on a lost node and frees their other slabs', () => {
    const p = parts({ nodeCount: 2, capacitySlabs: 8, replication: 2, slots: 40 });
    const pool = new SlabPool(p.state, p.host);
    pool.checkRefill();
    p.calls.length = 0;
    pool.dropNode('n0');
    expect(pool.size).toBe(0);
    expect(p.calls).toEqual(Array(p.state.geo.refillSets).fill('free n1'));
  });
});

describe('RepairScheduler through RepairHost', () => {
  it('copies every live page to a new node, then promotes the new replica', () => {
    const p = parts({ nodeCount: 2, capacitySlabs: 4, replication: 2 });
    const pool = new SlabPool(p.state, p.host);
    const repair = new RepairScheduler(p.state, pool, p.host);
    p.late.repair = repair;
    const slot = p.state.slots[0];
    bindDegraded(p, slot, 'n0', 3);
    repair.queueRepair(slot);
    expect(slot.replicas.map((r) => r.nodeId)).toEqual(['n0', 'n1']);
    expect(slot.rebuild).toBeNull();
    expect(p.state.backendInflight).toBe(0);
    expect(p.calls).toContain('reclaim 0'); // promotion asks the region whether the slot can be reclaimed
    expect(p.calls.filter((c) => c === 'activity 0')).toHaveLength(3); // one per page copy
    expect(repair.copiesInFlight).toBe(0);
  });

  it('gives a pooled spare set back to make room rather than park', () => {
    const p = parts({ nodeCount: 2, capacitySlabs: 2, replication: 2, slots: 2 });
    const pool = new SlabPool(p.state, p.host);
    const repair = new RepairScheduler(p.state, pool, p.host);
    p.late.repair = repair;
    const slot = p.state.slots[0];
    bindDegraded(p, slot, 'n0', 1);
    pool.checkRefill(); // one spare set on n0 + n1: n0 is full, n1 has one slab of room
    expect(pool.nodeIds()).toEqual([['n0', 'n1']]);
    let slab = -1;
    p.registry.backend('n1')!.alloc(SLAB, (_s, id) => (slab = id)); // n1 is full too
    expect(slab).toBeGreaterThanOrEqual(0);
    p.calls.length = 0;
    repair.queueRepair(slot);
    expect(pool.size).toBe(0);
    expect(p.calls.slice(0, 2)).toEqual(['free n0', 'free n1']);
    expect(repair.parkedRepairs).toBe(0);
    expect(slot.replicas.map((r) => r.nodeId)).toEqual(['n0', 'n1']);
  });

  it('parks a repair with no node to go to, and runs it once capacity returns', () => {
    const p = parts({ nodeCount: 2, capacitySlabs: 1, replication: 2, slots: 2 });
    const pool = new SlabPool(p.state, p.host);
    const repair = new RepairScheduler(p.state, pool, p.host);
    p.late.repair = repair;
    const slot = p.state.slots[0];
    bindDegraded(p, slot, 'n0', 1); // n0 is now full; n1 has one slab of room
    const n1 = p.registry.backend('n1')!;
    let slab = -1;
    n1.alloc(SLAB, (_s, id) => (slab = id)); // take n1's room away
    repair.queueRepair(slot);
    expect(repair.parkedRepairs).toBe(1);
    expect(slot.repairParked).toBe(true);
    n1.free(slab);
    repair.unparkAll();
    expect(repair.parkedRepairs).toBe(0);
    expect(slot.replicas.map((r) => r.nodeId)).toEqual(['n0', 'n1']);
  });
});
