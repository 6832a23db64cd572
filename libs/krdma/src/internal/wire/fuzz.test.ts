import { describe, expect, it } from 'vitest';
import { SMALL_LIMITS } from '../../../test/arbitraries.js';
import { runDecoderFuzz } from '../../../test/fuzz-run.js';
import { resolveWireLimits } from './limits.js';

describe('decoder fuzz (bounded run; `npm run fuzz` runs a million)', () => {
  it('never throws, never allocates beyond the limit, and reports typed errors on 20,000 hostile frames', () => {
    const limits = resolveWireLimits(SMALL_LIMITS);
    const result = runDecoderFuzz({ frames: 20_000, seed: 4242, limits, baseFrames: 500 });
    expect(result.crashSamples).toEqual([]);
    expect(result.crashes).toBe(0);
    expect(result.frames).toBe(20_000);
    expect(result.maxAllocationBytes).toBeLessThanOrEqual(limits.maxPayloadBytes);
    // The run must reach the interesting paths, not just one error.
    for (const code of ['bad-magic', 'bad-version', 'unknown-type', 'bad-flags', 'frame-too-large', 'bad-length']) {
      expect(result.errorsByCode[code] ?? 0, code).toBeGreaterThan(0);
    }
    expect(result.decoded).toBeGreaterThan(0);
    expect(result.incomplete).toBeGreaterThan(0);
    const total = result.decoded + result.incomplete + Object.values(result.errorsByCode).reduce((a, b) => a + b, 0);
    expect(total).toBe(result.frames);
  });
});
