import { DVS_COUNTER_NAMES, type DvsCounters } from '@rackmem/dvs';
import { VM_COUNTER_NAMES, type VmGauges } from '@rackmem/vm';
import { describe, expect, it } from 'vitest';
import { bucketOf, SharedEngineStats } from '../src/runtime/engine-stats.js';

describe('shared engine stats: fault-latency histogram', () => {
  it('reports percentiles within one bucket (12.5%) of the truth', () => {
    const stats = new SharedEngineStats();
    for (let us = 1; us <= 10_000; us++) stats.recordLatencyUs(us);
    const { faultLatencyUs: l } = stats.snapshot();
    expect(l.count).toBe(10_000);
    expect(l.mean).toBeCloseTo(5000.5, 6);
    expect(l.max).toBe(10_000);
    for (const [got, want] of [[l.p50, 5000], [l.p99, 9900], [l.p999, 9990]] as const) {
      expect(got).toBeGreaterThanOrEqual(want);
      expect(got).toBeLessThanOrEqual(want * 1.125 + 1);
    }
  });

  it('reads zeros before anything is recorded, and sub-microsecond faults land in the first bucket', () => {
    const stats = new SharedEngineStats();
    expect(stats.snapshot().faultLatencyUs).toEqual({ count: 0, mean: 0, p50: 0, p99: 0, p999: 0, max: 0 });
    stats.recordLatencyUs(0.3);
    expect(stats.snapshot().faultLatencyUs.p50).toBeLessThanOrEqual(1);
  });
});

describe('shared engine stats: dvs counters', () => {
  it('are null over local storage, and reach a second view of the same memory once remote storage publishes them', () => {
    const writer = new SharedEngineStats();
    const reader = new SharedEngineStats(writer.sab); // main's view of the pager's memory
    const counts = new Float64Array(VM_COUNTER_NAMES.length);
    const gauges = {} as VmGauges;
    writer.publish(counts, gauges);
    expect(reader.snapshot().dvs).toBeNull();
    const dvs = Object.fromEntries(DVS_COUNTER_NAMES.map((name, i) => [name, i * 10])) as DvsCounters;
    writer.publishDvsFrom(() => dvs);
    writer.publish(counts, gauges);
    expect(reader.snapshot().dvs).toEqual(dvs);
  });
});

describe('fault-latency buckets', () => {
  it('match the log-linear definition (8 sub-buckets per power of two) at every boundary', () => {
    const reference = (us: number): number => {
      if (us < 1) return 0;
      const octave = Math.min(24, Math.floor(Math.log2(us)));
      return 1 + octave * 8 + Math.min(7, Math.floor((us / 2 ** octave - 1) * 8));
    };
    const samples = [0, 0.5, 0.999, 1, 1.124, 1.125, 1.99, 2, 3, 7.5, 12.6, 1000, 65_535.9, 2 ** 24, 2 ** 25, 1e9, Number.NaN];
    for (let octave = 0; octave < 25; octave++) for (let sub = 0; sub <= 8; sub++) samples.push(2 ** octave * (1 + sub / 8), 2 ** octave * (1 + sub / 8) - 1e-9);
    for (const us of samples) expect(bucketOf(us), `bucket of ${us} us`).toBe(Number.isNaN(us) ? 0 : reference(us));
  });
});
