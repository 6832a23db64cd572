// Throughput of the region's page path (write every page, then read every page) against the
// raw backend doing the same copies, measured in the same run. Prints JSON; medians of 5 runs.
import { createDramBackend, DvsRegion, MemoryNodeSet, type Backend, type IoStatus } from '@rackmem/dvs';

const PAGE = 4096;
const SLAB = 64 << 20;
const REGION = 256 << 20;
const PAGES = REGION / PAGE;
const RUNS = 5;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function check(status: IoStatus): void {
  if (status !== 'ok') throw new Error(`unexpected status ${status}`);
}

function rawBackend(): { writeNs: number; readNs: number } {
  const b = createDramBackend({ capacityBytes: 2 * REGION });
  const slabs: number[] = [];
  for (let i = 0; i < REGION / SLAB; i++) b.alloc(SLAB, (_s, slab) => slabs.push(slab));
  const buf = new Uint8Array(PAGE).fill(7);
  const t0 = performance.now();
  for (let p = 0; p < PAGES; p++) b.write(slabs[Math.floor((p * PAGE) / SLAB)], (p * PAGE) % SLAB, buf, check);
  const t1 = performance.now();
  for (let p = 0; p < PAGES; p++) b.read(slabs[Math.floor((p * PAGE) / SLAB)], (p * PAGE) % SLAB, buf, check);
  const t2 = performance.now();
  return { writeNs: ((t1 - t0) * 1e6) / PAGES, readNs: ((t2 - t1) * 1e6) / PAGES };
}

function regionRun(make: () => { nodes: readonly Backend[]; replication: number; placement: 'round-robin' | 'two-choices' }): {
  writeNs: number;
  readNs: number;
} {
  const { nodes, replication, placement } = make();
  let seed = 1;
  const region = new DvsRegion({
    sizeBytes: REGION,
    pageSizeBytes: PAGE,
    slabSizeBytes: SLAB,
    replication,
    placement,
    random: { intBelow: (n) => (seed = (seed * 1103515245 + 12345) >>> 0) % n },
    nodes,
  });
  const buf = new Uint8Array(PAGE).fill(7);
  const t0 = performance.now();
  for (let p = 0; p < PAGES; p++) region.writePage(p, buf, check);
  const t1 = performance.now();
  for (let p = 0; p < PAGES; p++) region.readPage(p, buf, check);
  const t2 = performance.now();
  region.close(() => undefined);
  return { writeNs: ((t1 - t0) * 1e6) / PAGES, readNs: ((t2 - t1) * 1e6) / PAGES };
}

function measure(fn: () => { writeNs: number; readNs: number }): { writeNsPerPage: number; readNsPerPage: number } {
  const w: number[] = [];
  const r: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const m = fn();
    w.push(m.writeNs);
    r.push(m.readNs);
  }
  return { writeNsPerPage: Math.round(median(w)), readNsPerPage: Math.round(median(r)) };
}

const raw = measure(rawBackend);
const dramR1 = measure(() => regionRun(() => ({ nodes: [createDramBackend({ capacityBytes: 2 * REGION })], replication: 1, placement: 'round-robin' })));
const nodesR2 = measure(() =>
  regionRun(() => ({
    nodes: new MemoryNodeSet({ nodes: ['a', 'b', 'c'].map((nodeId) => ({ nodeId, capacityBytes: 2 * REGION })) }).backends,
    replication: 2,
    placement: 'two-choices',
  })),
);
console.log(
  JSON.stringify(
    {
      bench: 'dvs-region-page-path',
      pageSizeBytes: PAGE,
      slabSizeBytes: SLAB,
      pages: PAGES,
      runs: RUNS,
      rawDramBackend: raw,
      regionDramR1: { ...dramR1, writeRatioToRaw: +(dramR1.writeNsPerPage / raw.writeNsPerPage).toFixed(2), readRatioToRaw: +(dramR1.readNsPerPage / raw.readNsPerPage).toFixed(2) },
      regionMemoryNodesR2TwoChoices: nodesR2,
    },
    null,
    2,
  ),
);
