import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LogLinearHistogram } from './histogram.js';

describe('LogLinearHistogram', () => {
  it('is exact below 64 and within 3.2% above', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 2 ** 32 - 1 }), { minLength: 1, maxLength: 200 }), (values) => {
        const h = new LogLinearHistogram();
        for (const v of values) h.record(v);
        const sorted = [...values].sort((a, b) => a - b);
        const s = h.summary();
        expect(s.count).toBe(values.length);
        expect(s.min).toBe(sorted[0]);
        expect(s.max).toBe(sorted[sorted.length - 1]);
        const exact = sorted[Math.max(0, Math.ceil(0.5 * values.length) - 1)];
        if (exact < 64) expect(s.p50).toBe(exact);
        else expect(Math.abs(s.p50 - exact) / exact).toBeLessThan(0.032);
      }),
      { numRuns: 200 },
    );
  });

  it('summarises an empty histogram as zeros and reports ordered quantiles', () => {
    expect(new LogLinearHistogram().summary()).toEqual({ count: 0, mean: 0, min: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 });
    const h = new LogLinearHistogram();
    for (let v = 1; v <= 100_000; v++) h.record(v * 10);
    const s = h.summary();
    expect(s.p50).toBeLessThanOrEqual(s.p90);
    expect(s.p90).toBeLessThanOrEqual(s.p99);
    expect(s.p99).toBeLessThanOrEqual(s.p999);
    expect(s.p999).toBeLessThanOrEqual(s.max);
    expect(s.mean).toBe(500_005);
    expect(h.buckets().reduce((n, [, c]) => n + c, 0)).toBe(100_000);
  });
});
