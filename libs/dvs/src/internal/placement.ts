import { DvsError } from './errors.js';
import type { NodeRegistry } from './node-registry.js';
import type { Backend, RandomSource } from './types.js';

/** Placement policy of a region's slabs. */
export type PlacementKind = 'round-robin' | 'two-choices';

/** Picks nodes for new slabs. */
export interface Placement {
  /**
   * Up to `count` distinct healthy nodes with at least `sizeBytes` free, none in `excludeNodeIds`.
   * Returns fewer when fewer are eligible.
   */
  pick(count: number, sizeBytes: number, excludeNodeIds: readonly string[]): Backend[];
}

function eligible(registry: NodeRegistry, i: number, sizeBytes: number, exclude: readonly string[], chosen: readonly Backend[]): boolean {
  const b = registry.backends[i];
  return registry.isHealthyAt(i) && !exclude.includes(b.nodeId) && !chosen.includes(b) && b.freeBytes() >= sizeBytes;
}

/** The original's policy: rotate over the nodes, skipping unhealthy and full ones. */
class RoundRobinPlacement implements Placement {
  private cursor = 0;

  constructor(private readonly registry: NodeRegistry) {}

  pick(count: number, sizeBytes: number, excludeNodeIds: readonly string[]): Backend[] {
    const nodes = this.registry.backends;
    const n = nodes.length;
    const out: Backend[] = [];
    while (out.length < count) {
      let found = false;
      for (let step = 0; step < n; step++) {
        const i = (this.cursor + step) % n;
        if (eligible(this.registry, i, sizeBytes, excludeNodeIds, out)) {
          out.push(nodes[i]);
          this.cursor = (i + 1) % n;
          found = true;
          break;
        }
      }
      if (!found) break;
    }
    return out;
  }
}

/** Power of two choices on free capacity (Infiniswap): draw two, keep the freer (lower index on ties). */
class TwoChoicesPlacement implements Placement {
  constructor(private readonly registry: NodeRegistry, private readonly random: RandomSource) {}

  pick(count: number, sizeBytes: number, excludeNodeIds: readonly string[]): Backend[] {
    const nodes = this.registry.backends;
    const out: Backend[] = [];
    while (out.length < count) {
      const candidates: number[] = [];
      for (let i = 0; i < nodes.length; i++) if (eligible(this.registry, i, sizeBytes, excludeNodeIds, out)) candidates.push(i);
      if (candidates.length === 0) break;
      if (candidates.length === 1) {
        out.push(nodes[candidates[0]]);
        continue;
      }
      const m = candidates.length;
      const first = this.draw(m);
      let second = this.draw(m - 1);
      if (second >= first) second++;
      const a = candidates[Math.min(first, second)];
      const b = candidates[Math.max(first, second)];
      out.push(nodes[nodes[b].freeBytes() > nodes[a].freeBytes() ? b : a]);
    }
    return out;
  }

  private draw(bound: number): number {
    const v = this.random.intBelow(bound);
    if (!Number.isInteger(v) || v < 0 || v >= bound) {
      throw new DvsError('bad-random', `random.intBelow(${bound}) returned ${v}; it must return an integer in [0, bound)`);
    }
    return v;
  }
}

/** Create a placement policy over a registry. */
export function createPlacement(kind: PlacementKind, registry: NodeRegistry, random: RandomSource | undefined): Placement {
  if (kind === 'round-robin') return new RoundRobinPlacement(registry);
  if (random === undefined) {
    throw new DvsError('invalid-option', "placement 'two-choices' needs a `random` source; pass a seeded stream");
  }
  return new TwoChoicesPlacement(registry, random);
}
