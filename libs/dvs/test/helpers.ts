import { DvsRegion, MemoryNodeSet, NodeRegistry, type DeliveryMode, type DvsRegionOptions, type IoStatus, type RandomSource } from '../src/index.js';

export const PAGE = 16;
export const SLAB = 64; // 4 pages per slab

/** Page content that depends on the page and a version, so misplaced pages are caught. */
export function pageData(page: number, version: number, pageSize = PAGE): Uint8Array {
  const out = new Uint8Array(pageSize);
  for (let i = 0; i < pageSize; i++) out[i] = (page * 31 + version * 7 + i) & 0xff;
  return out;
}

/** A random source that replays fixed values (cycling). */
export function fixedRandom(values: readonly number[]): RandomSource {
  let i = 0;
  return { intBelow: (bound) => values[i++ % values.length] % bound };
}

/** A small seeded generator (mulberry32) for test-side choices. */
export function seeded(seed: number): RandomSource & { next(): number } {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, intBelow: (bound) => Math.floor(next() * bound) };
}

export interface Setup {
  nodes: MemoryNodeSet;
  registry: NodeRegistry;
  region: DvsRegion;
  lost: number[][];
}

/** A MemoryNodeSet of `nodeCount` nodes (ids n0, n1, ...) and a region over it. */
export function setup(
  opts: {
    nodeCount?: number;
    capacitySlabs?: number | readonly number[];
    delivery?: DeliveryMode;
  } & Partial<Omit<DvsRegionOptions, 'nodes'>>,
): Setup {
  const nodeCount = opts.nodeCount ?? 3;
  const caps = opts.capacitySlabs ?? 64;
  const nodes = new MemoryNodeSet({
    nodes: Array.from({ length: nodeCount }, (_, i) => ({
      nodeId: `n${i}`,
      capacityBytes: (typeof caps === 'number' ? caps : caps[i]) * (opts.slabSizeBytes ?? SLAB),
    })),
    delivery: opts.delivery ?? 'immediate',
  });
  const registry = new NodeRegistry(nodes.backends);
  const lost: number[][] = [];
  const region = new DvsRegion({
    sizeBytes: opts.sizeBytes ?? 10 * PAGE,
    pageSizeBytes: opts.pageSizeBytes ?? PAGE,
    slabSizeBytes: opts.slabSizeBytes ?? SLAB,
    replication: opts.replication ?? 1,
    placement: opts.placement ?? 'round-robin',
    random: opts.random,
    nodes: registry,
    listener: { pagesLost: (pages) => lost.push([...pages]) },
    maxPendingOps: opts.maxPendingOps,
    maxCopiesInFlight: opts.maxCopiesInFlight,
    maxConcurrentRebuilds: opts.maxConcurrentRebuilds,
  });
  return { nodes, registry, region, lost };
}

/** Write and return the status captured (for synchronous, immediate-mode use). */
export function writeSync(region: DvsRegion, page: number, data: Uint8Array): IoStatus | undefined {
  let status: IoStatus | undefined;
  region.writePage(page, data, (s) => (status = s));
  return status;
}

/** Read and return status and bytes (for immediate-mode use). */
export function readSync(region: DvsRegion, page: number, pageSize = PAGE): { status: IoStatus | undefined; data: Uint8Array } {
  const data = new Uint8Array(pageSize);
  let status: IoStatus | undefined;
  region.readPage(page, data, (s) => (status = s));
  return { status, data };
}

/** Total bytes held on all nodes. */
export function usedBytes(nodes: MemoryNodeSet, count = 3): number {
  let sum = 0;
  for (let i = 0; i < count; i++) sum += nodes.usedBytes(`n${i}`);
  return sum;
}

/** Index of the first pending op on `nodeId` of `kind` (throws when there is none). */
export function pendingIndex(nodes: MemoryNodeSet, nodeId: string, kind: 'alloc' | 'read' | 'write'): number {
  for (let i = 0; i < nodes.pendingCount(); i++) {
    const op = nodes.pendingOp(i);
    if (op.nodeId === nodeId && op.kind === kind) return i;
  }
  throw new Error(`no pending ${kind} on ${nodeId}`);
}
