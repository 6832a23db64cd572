import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RandomStreams } from '../random-stream.js';
import type { AccessStream, Workload } from './access-batch.js';
import { AccessBatch } from './access-batch.js';
import { createWorkload } from './create-workload.js';
import { WorkloadError } from './errors.js';
import type { WorkloadSpec } from './spec.js';

interface Collected {
  pages: number[];
  writes: number[];
  thinkNs: number[];
}

function collect(stream: AccessStream, batchSize = 97, limit = 10_000_000): Collected {
  const batch = new AccessBatch(batchSize);
  const out: Collected = { pages: [], writes: [], thinkNs: [] };
  for (let n = stream.fill(batch, batchSize); n > 0; n = stream.fill(batch, batchSize)) {
    for (let i = 0; i < n; i++) {
      out.pages.push(batch.pages[i]);
      out.writes.push(batch.writes[i]);
      out.thinkNs.push(batch.thinkNs[i]);
    }
    if (out.pages.length > limit) throw new Error('stream does not end');
  }
  return out;
}

function build(spec: WorkloadSpec, seed: string | number = 1): Workload {
  const streams = new RandomStreams(seed);
  return createWorkload(spec, (name) => streams.stream(name));
}

function run(spec: WorkloadSpec, seed: string | number = 1, thread = 0, batchSize = 97): Collected {
  return collect(build(spec, seed).stream(thread), batchSize);
}

function counts(pages: number[], pageCount: number): number[] {
  const c = new Array<number>(pageCount).fill(0);
  for (const p of pages) c[p]++;
  return c;
}

const RANDOM_SPECS: WorkloadSpec[] = [
  { kind: 'uniform', pageCount: 500, accessesPerThread: 2000 },
  { kind: 'zipfian', pageCount: 500, accessesPerThread: 2000 },
  { kind: 'zipfian', pageCount: 500, accessesPerThread: 2000, scrambled: true, theta: 0.8 },
  { kind: 'hotspot', pageCount: 500, accessesPerThread: 2000 },
  { kind: 'pointer-chase', pageCount: 500, accessesPerThread: 2000 },
  { kind: 'pointer-chase', pageCount: 500, accessesPerThread: 2000, layout: 'split', threadCount: 2 },
  { kind: 'working-set-shift', pageCount: 500, accessesPerThread: 2000 },
  { kind: 'interleaved', pageCount: 500, accessesPerThread: 2000, order: 'random' },
  { kind: 'gemm', matrixSize: 12, pageSizeBytes: 256 },
  { kind: 'sequential', pageCount: 500, writeNumerator: 1, writeDenominator: 3 },
  { kind: 'strided', pageCount: 500, stridePages: 7, thinkNs: 100, thinkDistribution: 'exponential' },
  { kind: 'phases', pageCount: 500, switchEvery: 100, accessesPerThread: 2000, phases: [{ kind: 'uniform' }, { kind: 'zipfian', pageOffset: 100, pageCount: 300 }] },
];

const ALL_SPECS: WorkloadSpec[] = [
  ...RANDOM_SPECS,
  { kind: 'sequential', pageCount: 300, passes: 2, threadCount: 3 },
  { kind: 'sequential', pageCount: 300, direction: 'backward', layout: 'shared', threadCount: 2 },
  { kind: 'strided', pageCount: 300, stridePages: -20, threadCount: 2 },
  { kind: 'interleaved', pageCount: 300, streams: 3, mixing: 'across-threads', threadCount: 3, burstLength: 4 },
  { kind: 'touch', pageCount: 64, threadCount: 2 },
  { kind: 'phases', pageCount: 400, threadCount: 2, switchEvery: 7, phases: [{ kind: 'touch', pageCount: 50 }, { kind: 'gemm', matrixSize: 8, pageSizeBytes: 128, pageOffset: 50 }, { kind: 'strided', stridePages: 3 }] },
];

describe('every generator', () => {
  it('stays in range, emits totalAccesses accesses with integer think times, and ends', () => {
    for (const spec of ALL_SPECS) {
      const workload = build(spec);
      let total = 0;
      for (let t = 0; t < workload.threadCount; t++) {
        const { pages, writes, thinkNs } = collect(workload.stream(t));
        total += pages.length;
        for (let i = 0; i < pages.length; i++) {
          if (!(pages[i] >= 0 && pages[i] < workload.pageCount)) throw new Error(`${workload.name}: page ${pages[i]} out of range`);
          if (writes[i] !== 0 && writes[i] !== 1) throw new Error(`${workload.name}: bad write flag`);
          if (!Number.isSafeInteger(thinkNs[i]) || thinkNs[i] < 0) throw new Error(`${workload.name}: bad think ${thinkNs[i]}`);
        }
      }
      expect(total, workload.name).toBe(workload.totalAccesses);
    }
  });

  it('gives the same sequence for the same seed, whatever the batch sizes', () => {
    for (const spec of ALL_SPECS) {
      const a = run(spec, 'seed-a', 0, 1);
      const b = run(spec, 'seed-a', 0, 4096);
      const c = run(spec, 'seed-a', 0, 33);
      expect(b, spec.kind).toEqual(a);
      expect(c, spec.kind).toEqual(a);
    }
  });

  it('gives a different sequence for a different seed (random kinds)', () => {
    for (const spec of RANDOM_SPECS) {
      const a = run(spec, 1);
      const b = run(spec, 2);
      expect(b, spec.kind).not.toEqual(a);
    }
  });

  it('keeps threads independent: adding a thread never changes another thread (shared layout)', () => {
    const kinds: WorkloadSpec[] = [
      { kind: 'uniform', pageCount: 300, accessesPerThread: 500 },
      { kind: 'zipfian', pageCount: 300, accessesPerThread: 500, writeNumerator: 1, writeDenominator: 2 },
      { kind: 'hotspot', pageCount: 300, accessesPerThread: 500, thinkNs: 50, thinkDistribution: 'exponential' },
      { kind: 'pointer-chase', pageCount: 300, accessesPerThread: 500 },
      { kind: 'working-set-shift', pageCount: 300, accessesPerThread: 500 },
    ];
    for (const spec of kinds) {
      const two = build({ ...spec, threadCount: 2 } as WorkloadSpec, 9);
      const three = build({ ...spec, threadCount: 3 } as WorkloadSpec, 9);
      const t1of2 = collect(two.stream(1));
      // Thread 2 of the three-thread run draws first: it must not disturb thread 1.
      collect(three.stream(2));
      const t1of3 = collect(three.stream(1));
      expect(t1of3, spec.kind).toEqual(t1of2);
      expect(collect(two.stream(0)), spec.kind).not.toEqual(t1of2);
    }
  });

  it('reads and writes in the requested ratio', () => {
    for (const [numerator, denominator] of [[1, 4], [1, 2], [9, 10]]) {
      const { writes } = run({ kind: 'uniform', pageCount: 100, accessesPerThread: 20_000, writeNumerator: numerator, writeDenominator: denominator });
      const ratio = writes.reduce((a, b) => a + b, 0) / writes.length;
      expect(Math.abs(ratio - numerator / denominator)).toBeLessThan(0.02);
    }
    expect(run({ kind: 'sequential', pageCount: 50 }).writes.every((w) => w === 0)).toBe(true);
    expect(run({ kind: 'sequential', pageCount: 50, writeNumerator: 3, writeDenominator: 3 }).writes.every((w) => w === 1)).toBe(true);
  });

  it('draws constant and exponential think times', () => {
    expect(run({ kind: 'uniform', pageCount: 10, thinkNs: 250 }).thinkNs.every((t) => t === 250)).toBe(true);
    const { thinkNs } = run({ kind: 'uniform', pageCount: 10, accessesPerThread: 20_000, thinkNs: 1000, thinkDistribution: 'exponential' });
    const mean = thinkNs.reduce((a, b) => a + b, 0) / thinkNs.length;
    expect(Math.abs(mean - 1000)).toBeLessThan(40);
    expect(new Set(thinkNs).size).toBeGreaterThan(1000);
  });

  it('rejects bad threads and bad fill arguments', () => {
    const workload = build({ kind: 'uniform', pageCount: 10 });
    expect(() => workload.stream(1)).toThrow(WorkloadError);
    expect(() => workload.stream(0).fill(new AccessBatch(4), 0)).toThrow(/max >= 1/);
    expect(() => new AccessBatch(0)).toThrow(WorkloadError);
  });
});

describe('sequential and strided', () => {
  it('scans forward, backward and in passes; split threads own contiguous slices', () => {
    expect(run({ kind: 'sequential', pageCount: 5, passes: 2 }).pages).toEqual([0, 1, 2, 3, 4, 0, 1, 2, 3, 4]);
    expect(run({ kind: 'sequential', pageCount: 5, direction: 'backward' }).pages).toEqual([4, 3, 2, 1, 0]);
    expect(run({ kind: 'sequential', pageCount: 5, accessesPerThread: 7 }).pages).toEqual([0, 1, 2, 3, 4, 0, 1]);
    const split = build({ kind: 'sequential', pageCount: 10, threadCount: 3 });
    expect([0, 1, 2].map((t) => collect(split.stream(t)).pages)).toEqual([[0, 1, 2], [3, 4, 5], [6, 7, 8, 9]]);
  });

  it('walks with the stride sign and size, visiting every page once per sweep', () => {
    for (const stride of [1, 3, 17, 40, -1, -5, -33]) {
      const pageCount = 1000;
      const { pages } = run({ kind: 'strided', pageCount, stridePages: stride });
      expect(new Set(pages).size).toBe(pageCount);
      const deltas = pages.slice(1).map((p, i) => p - pages[i]);
      const regular = deltas.filter((d) => d === stride).length;
      // Only the jumps between columns differ from the stride.
      expect(regular).toBeGreaterThanOrEqual(deltas.length - Math.abs(stride));
      expect(pages[0]).toBe(stride > 0 ? 0 : pageCount - 1);
    }
    expect(run({ kind: 'strided', pageCount: 10, stridePages: 4 }).pages).toEqual([0, 4, 8, 1, 5, 9, 2, 6, 3, 7]);
    expect(run({ kind: 'strided', pageCount: 10, stridePages: -4 }).pages).toEqual([9, 5, 1, 8, 4, 0, 7, 3, 6, 2]);
  });
});

describe('zipfian and hotspot', () => {
  it('makes rank 0 the hottest page, with a long tail', () => {
    const pageCount = 1000;
    const c = counts(run({ kind: 'zipfian', pageCount, accessesPerThread: 50_000 }).pages, pageCount);
    expect(c[0]).toBe(Math.max(...c));
    expect(c[0]).toBeGreaterThan(c[1]);
    expect(c[1]).toBeGreaterThan(c[100]);
    const top = [...c].sort((a, b) => b - a).slice(0, 100).reduce((a, b) => a + b, 0);
    expect(top / 50_000).toBeGreaterThan(0.55);
  });

  it('spreads the hot pages over the region when scrambled', () => {
    const pageCount = 1000;
    const hottest = (scrambled: boolean) => {
      const c = counts(run({ kind: 'zipfian', pageCount, accessesPerThread: 50_000, scrambled }).pages, pageCount);
      return c.map((n, page) => ({ n, page })).sort((a, b) => b.n - a.n).slice(0, 10).map((e) => e.page);
    };
    const plain = hottest(false);
    const scrambled = hottest(true);
    expect(Math.max(...plain)).toBeLessThan(12);
    expect(Math.max(...scrambled) - Math.min(...scrambled)).toBeGreaterThan(pageCount / 2);
    // Still skewed: the hottest scrambled page takes far more than a uniform share.
    const c = counts(run({ kind: 'zipfian', pageCount, accessesPerThread: 50_000, scrambled: true }).pages, pageCount);
    expect(Math.max(...c)).toBeGreaterThan(50 * (50_000 / pageCount));
  });

  it('sends hotAccessPercent of the accesses to the first hotPagePercent of the pages', () => {
    const { pages } = run({ kind: 'hotspot', pageCount: 1000, accessesPerThread: 20_000, hotAccessPercent: 90, hotPagePercent: 10 });
    const hot = pages.filter((p) => p < 100).length / pages.length;
    expect(Math.abs(hot - 0.9)).toBeLessThan(0.015);
    const all = run({ kind: 'hotspot', pageCount: 10, accessesPerThread: 100, hotPagePercent: 100 }).pages;
    expect(all.every((p) => p < 10)).toBe(true);
  });
});

describe('pointer chasing, working-set shift, interleaving, phases', () => {
  it('pointer chasing visits every page once per cycle, then repeats the cycle', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 0, max: 1000 }), (pageCount, seed) => {
        const { pages } = run({ kind: 'pointer-chase', pageCount, accessesPerThread: 2 * pageCount }, seed);
        expect(new Set(pages.slice(0, pageCount)).size).toBe(pageCount);
        expect(pages.slice(pageCount)).toEqual(pages.slice(0, pageCount));
      }),
      { numRuns: 30 },
    );
  });

  it('pointer chasing has no stride to detect', () => {
    const { pages } = run({ kind: 'pointer-chase', pageCount: 5000 });
    const deltas = counts(pages.slice(1).map((p, i) => p - pages[i] + 5000), 10_000);
    expect(Math.max(...deltas) / pages.length).toBeLessThan(0.01);
  });

  it('working-set shift keeps accesses in a window that slides and wraps', () => {
    const spec: WorkloadSpec = { kind: 'working-set-shift', pageCount: 100, windowPages: 10, shiftPages: 30, shiftEvery: 50, accessesPerThread: 250 };
    const { pages } = run(spec);
    for (let i = 0; i < pages.length; i++) {
      const start = (Math.floor(i / 50) * 30) % 100;
      const offset = (pages[i] - start + 100) % 100;
      expect(offset).toBeLessThan(10);
    }
    expect(build({ kind: 'working-set-shift', pageCount: 80, windowPages: 8, shiftPages: 2, shiftEvery: 8 }).totalAccesses).toBe(8 * 40);
  });

  it('interleaves sequential streams per thread, round-robin, in bursts', () => {
    expect(run({ kind: 'interleaved', pageCount: 12, streams: 3 }).pages).toEqual([0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
    expect(run({ kind: 'interleaved', pageCount: 12, streams: 2, burstLength: 2, direction: 'backward' }).pages).toEqual([5, 4, 11, 10, 3, 2, 9, 8, 1, 0, 7, 6]);
    const perThread = build({ kind: 'interleaved', pageCount: 16, streams: 2, threadCount: 2 });
    expect(collect(perThread.stream(1)).pages).toEqual([8, 12, 9, 13, 10, 14, 11, 15]);
    const across = build({ kind: 'interleaved', pageCount: 12, streams: 4, threadCount: 2, mixing: 'across-threads' });
    expect(collect(across.stream(0)).pages).toEqual([0, 6, 1, 7, 2, 8]);
    expect(collect(across.stream(1)).pages).toEqual([3, 9, 4, 10, 5, 11]);
  });

  it('random interleaving keeps each stream sequential (wrapping at its slice end)', () => {
    const { pages } = run({ kind: 'interleaved', pageCount: 400, streams: 4, order: 'random' });
    for (let s = 0; s < 4; s++) {
      const mine = pages.filter((p) => Math.floor(p / 100) === s);
      expect(mine).toEqual(Array.from({ length: mine.length }, (_, i) => s * 100 + (i % 100)));
    }
  });

  it('switches phases every switchEvery accesses and resumes each phase where it left off', () => {
    const spec: WorkloadSpec = {
      kind: 'phases', pageCount: 100, switchEvery: 3, accessesPerThread: 12,
      phases: [{ kind: 'sequential' }, { kind: 'sequential', direction: 'backward', pageOffset: 50, pageCount: 10, writeNumerator: 1, writeDenominator: 1, thinkNs: 7 }],
    };
    const { pages, writes, thinkNs } = run(spec);
    expect(pages).toEqual([0, 1, 2, 59, 58, 57, 3, 4, 5, 56, 55, 54]);
    expect(writes).toEqual([0, 0, 0, 1, 1, 1, 0, 0, 0, 1, 1, 1]);
    expect(thinkNs).toEqual([0, 0, 0, 7, 7, 7, 0, 0, 0, 7, 7, 7]);
    expect(build({ ...spec, accessesPerThread: undefined } as WorkloadSpec).totalAccesses).toBe(6);
  });
});
