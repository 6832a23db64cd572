import { describe, expect, it } from 'vitest';
import { SharedEngineStats } from '../src/runtime/engine-stats.js';

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
