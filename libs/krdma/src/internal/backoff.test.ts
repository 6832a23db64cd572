import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffDelayNs, checkBackoff, DEFAULT_BACKOFF } from './backoff.js';

describe('reconnect backoff', () => {
  it('doubles from the initial delay up to the cap, with jitter in [cap/2, cap]', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 80 }), fc.double({ min: 0, max: 0.999999, noNaN: true }), (attempt, r) => {
        const policy = { ...DEFAULT_BACKOFF, random: () => r };
        const cap = Math.min(policy.maxDelayNs, policy.initialDelayNs * 2 ** attempt);
        const delay = backoffDelayNs(attempt, policy);
        expect(Number.isInteger(delay)).toBe(true);
        expect(delay).toBeGreaterThanOrEqual(Math.floor(cap / 2));
        expect(delay).toBeLessThanOrEqual(cap);
      }),
      { numRuns: 300 },
    );
    const fixed = { ...DEFAULT_BACKOFF, random: () => 0.5 };
    expect([0, 1, 2, 3].map((a) => backoffDelayNs(a, fixed) / 1e6)).toEqual([75, 150, 300, 600]);
    expect(backoffDelayNs(60, fixed)).toBe(7_500_000_000);
  });

  it('refuses inconsistent policies', () => {
    expect(() => checkBackoff({ ...DEFAULT_BACKOFF, initialDelayNs: 0, random: Math.random })).toThrow(/initialDelayNs/);
    expect(() => checkBackoff({ ...DEFAULT_BACKOFF, maxDelayNs: 1, random: Math.random })).toThrow(/initialDelayNs/);
    expect(() => checkBackoff({ ...DEFAULT_BACKOFF, maxAttempts: -1, random: Math.random })).toThrow(/maxAttempts/);
  });
});
