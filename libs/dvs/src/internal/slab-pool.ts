import * as K from './counters.js';
import type { RegionState } from './region-state.js';
import { Replica, type SlabSet } from './slot.js';
import type { Backend, IoStatus } from './types.js';

/** The parts of the region state the pool reads and updates. */
export type PoolState = Pick<
  RegionState,
  'geo' | 'ctr' | 'registry' | 'placement' | 'backendInflight' | 'closing' | 'boundSlots' | 'bindingSlots' | 'current'
>;

/** What the pool needs from the region. */
export interface PoolHost {
  /** Return a slab to its node (this may let parked repairs retry). */
  freeReplica(rep: Replica): void;
  /** End of a backend callback: start queued repairs, finish a close. */
  settle(): void;
}

/**
 * Slab allocation and the region's pool of ready slab sets (`get_slab_fast`), refilled in the
 * background (`update_slab_pool`) and fed by reclaimed slots. Only full sets (r slabs on
 * distinct healthy nodes) are pooled, at most `poolMaxSets` of them.
 */
export class SlabPool {
  // The array is mutated in place (push, pop, splice) and replaced on node loss and close; a
  // nested free may pop from it while a caller iterates it, exactly as before the split.
  private sets: SlabSet[] = [];
  private refillInflight = 0;

  constructor(
    private readonly s: PoolState,
    private readonly host: PoolHost,
  ) {}

  /** Sets in the pool. */
  get size(): number {
    return this.sets.length;
  }

  /** Node ids of each pooled set. */
  nodeIds(): string[][] {
    return this.sets.map((set) => set.replicas.map((r) => r.nodeId));
  }

  /** Take the newest pooled set big enough for `sizeBytes` whose slabs are all current, or null. */
  take(sizeBytes: number): SlabSet | null {
    for (let i = this.sets.length - 1; i >= 0; i--) {
      const set = this.sets[i];
      if (set.sizeBytes >= sizeBytes && set.replicas.every((r) => this.s.current(r))) {
        this.sets.splice(i, 1);
        return set;
      }
    }
    return null;
  }

  /** Remove the newest set (a repair gives it back to its nodes to make room), or undefined. */
  popSpare(): SlabSet | undefined {
    return this.sets.pop();
  }

  /** A reclaimed slot's set: pool it if it is full, current and there is room; else free it. */
  offer(set: SlabSet): void {
    const g = this.s.geo;
    const full =
      set.replicas.length === g.replication &&
      set.sizeBytes === g.slabSizeBytes &&
      set.replicas.every((r) => this.s.current(r));
    if (full && !this.s.closing && this.sets.length < g.poolMaxSets) this.sets.push(set);
    else for (const r of set.replicas) this.host.freeReplica(r);
  }

  /**
   * Allocate one slab of `sizeBytes` on each node; `done` gets the slabs whose nodes are still
   * current when the last allocation completes (or none, with the last failure status).
   */
  allocOnNodes(nodes: Backend[], sizeBytes: number, done: (replicas: Replica[], failStatus: IoStatus) => void): void {
    const s = this.s;
    const got: Replica[] = [];
    let remaining = nodes.length;
    let failStatus: IoStatus = 'no-space';
    for (const node of nodes) {
      const epoch = s.registry.epoch(node.nodeId);
      s.backendInflight++;
      node.alloc(sizeBytes, (status, slab) => {
        s.backendInflight--;
        if (status === 'ok') {
          s.ctr[K.C_SLAB_ALLOC]++;
          got.push(new Replica(node, slab, epoch));
        } else {
          s.ctr[K.C_ALLOC_FAILED]++;
          failStatus = status;
          if (status === 'peer-lost') s.registry.markLost(node.nodeId, epoch);
        }
        if (--remaining === 0) {
          const healthy: Replica[] = [];
          for (const r of got) {
            if (s.current(r)) healthy.push(r);
            else r.active = false;
          }
          done(healthy, failStatus);
        }
        this.host.settle();
      });
    }
  }

  /** Below low water: allocate up to `refillSets` full sets in the background (never more than unbound slots need). */
  checkRefill(): void {
    const s = this.s;
    const g = s.geo;
    if (s.closing || this.refillInflight > 0 || this.sets.length >= g.lowWaterSets) return;
    const unbound = g.slotCount - s.boundSlots - s.bindingSlots;
    const want = Math.min(g.refillSets, unbound - this.sets.length);
    let counted = false;
    for (let i = 0; i < want; i++) {
      const nodes = s.placement.pick(g.replication, g.slabSizeBytes, []);
      if (nodes.length < g.replication) {
        // Never pool a degraded set; the slow path binds degraded when it must.
        break;
      }
      if (!counted) {
        s.ctr[K.C_UPDATE_SLAB_POOL]++;
        counted = true;
      }
      this.refillInflight++;
      this.allocOnNodes(nodes, g.slabSizeBytes, (replicas) => {
        this.refillInflight--;
        if (replicas.length === g.replication && !s.closing && this.sets.length < g.poolMaxSets) {
          this.sets.push({ replicas, sizeBytes: g.slabSizeBytes });
        } else for (const r of replicas) this.host.freeReplica(r);
      });
    }
  }

  /** A node was lost: drop every set with a slab on it (its other slabs go back to their nodes). */
  dropNode(nodeId: string): void {
    const keep: SlabSet[] = [];
    for (const set of this.sets) {
      if (set.replicas.some((r) => r.nodeId === nodeId)) {
        for (const r of set.replicas) {
          if (r.nodeId === nodeId) r.active = false;
          else this.host.freeReplica(r);
        }
      } else keep.push(set);
    }
    this.sets = keep;
  }

  /** Close: free every pooled slab. */
  freeAll(): void {
    for (const set of this.sets) for (const r of set.replicas) this.host.freeReplica(r);
    this.sets = [];
  }
}
