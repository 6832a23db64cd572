import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { benchRegionBytes, formatBenchTable, validateBenchOptions, KV_BENCH_DEFAULTS, type KvBenchReport } from '../src/kv/bench.js';
import { registerKvCommands } from '../src/kv/commands.js';
import { LatencyHistogramUs } from '../src/kv/latency-histogram.js';
import { ScrambledZipfian, ZipfianGenerator, seededRandom } from '../src/kv/zipf.js';
import { describeWithUffd } from './uffd-available.js';

describe('kv bench building blocks', () => {
  it('the zipfian generator follows its distribution (theta 0.99; Gray et al. is exact for ranks 0 and 1, approximate beyond)', () => {
    const n = 1000;
    const gen = new ZipfianGenerator(n, 0.99, seededRandom(1));
    const counts = new Uint32Array(n);
    const draws = 200_000;
    for (let i = 0; i < draws; i++) counts[gen.next()]++;
    const near = (got: number, expected: number, tolerance: number) => expect(Math.abs(got - expected) / expected).toBeLessThan(tolerance);
    near(counts[0], gen.probability(0) * draws, 0.03);
    near(counts[1], gen.probability(1) * draws, 0.04);
    for (const rank of [2, 5, 9, 50]) near(counts[rank], gen.probability(rank) * draws, 0.25);
    let top100 = 0;
    let expectedTop100 = 0;
    for (let r = 0; r < 100; r++) {
      top100 += counts[r];
      expectedTop100 += gen.probability(r) * draws;
    }
    near(top100, expectedTop100, 0.03);
    expect(counts.every((c, i) => i < 1 || c <= counts[0])).toBe(true);
  });

  it('the scrambled chooser is a seeded permutation of the ranks', () => {
    const a = new ScrambledZipfian(5000, 0.99, 42);
    const b = new ScrambledZipfian(5000, 0.99, 42);
    const seqA = Array.from({ length: 100 }, () => a.next());
    expect(Array.from({ length: 100 }, () => b.next())).toEqual(seqA);
    const seen = new Set(Array.from({ length: 5000 }, (_, r) => a.keyOfRank(r)));
    expect(seen.size).toBe(5000);
    const other = new ScrambledZipfian(5000, 0.99, 43);
    expect(Array.from({ length: 20 }, (_, r) => other.keyOfRank(r))).not.toEqual(Array.from({ length: 20 }, (_, r) => a.keyOfRank(r)));
    expect(seqA.every((k) => k >= 0 && k < 5000)).toBe(true);
  });

  it('the latency histogram gives quantiles to the microsecond and bounds memory', () => {
    const h = new LatencyHistogramUs();
    for (let us = 1; us <= 1000; us++) h.record(us + 0.4);
    h.record(250_000);
    expect(h.quantile(0.5)).toBe(501);
    expect(h.quantile(0.99)).toBe(991);
    expect(h.quantile(1)).toBe(250_000);
    expect(h.count).toBe(1001);
  });

  it('validates options and sizes the region for the keys', () => {
    expect(validateBenchOptions(KV_BENCH_DEFAULTS)).toEqual([]);
    expect(validateBenchOptions({ ...KV_BENCH_DEFAULTS, ratios: [0] }).join()).toMatch(/--ratios/);
    expect(validateBenchOptions({ ...KV_BENCH_DEFAULTS, keys: 1 }).join()).toMatch(/--keys/);
    expect(validateBenchOptions({ ...KV_BENCH_DEFAULTS, durationSec: 0 }).join()).toMatch(/--duration/);
    const bytes = benchRegionBytes(100_000, 1024);
    expect(bytes % 4096).toBe(0);
    expect(bytes).toBeGreaterThan(100_000 * 1046);
    expect(bytes).toBeLessThan(100_000 * 1046 * 1.25);
  });
});

describeWithUffd('kv bench (the command)', () => {
  it('a tiny run (2 s, one ratio) finishes and reports numbers > 0', async () => {
    const out: string[] = [];
    const err: string[] = [];
    let failure: unknown;
    const program = new Command('rackmem').exitOverride();
    registerKvCommands(program, {
      stdout: (t) => void out.push(t),
      stderr: (t) => void err.push(t),
      run: async (action) => {
        try {
          await action();
        } catch (error) {
          failure = error;
        }
      },
    });
    await program.parseAsync(
      ['kv', 'bench', '--keys', '3000', '--value-bytes', '512', '--duration', '2', '--warmup', '0', '--ratios', '0.5', '--connections', '4', '--json'],
      { from: 'user' },
    );
    expect(failure).toBeUndefined();
    const report = JSON.parse(out.join('')) as KvBenchReport;
    expect(report.results).toHaveLength(1);
    const [r] = report.results;
    expect(r.ratio).toBe(0.5);
    expect(r.requests).toBeGreaterThan(0);
    expect(r.reqPerSec).toBeGreaterThan(0);
    expect(r.latencyUs.p50).toBeGreaterThan(0);
    expect(r.latencyUs.p99).toBeGreaterThanOrEqual(r.latencyUs.p50);
    expect(r.errors + r.timeouts + r.non2xx).toBe(0);
    expect(r.gets).toBeGreaterThan(r.puts);
    expect(r.totalFaults.pgfault).toBeGreaterThan(0);
    expect(r.totalFaults.ioWrite).toBeGreaterThan(0); // loading at 50% local pushed pages to the memory nodes
    expect(r.localBytes).toBeLessThan(r.regionBytes);
    expect(err.join('')).toMatch(/kv bench: ratio 0.5/);
    expect(formatBenchTable(report)).toMatch(/req\/s/);
  });
});
