import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Digest } from './digest.js';
import { SimError } from './errors.js';
import { RandomStreams } from './random-stream.js';
import type { RandomSource } from './random-stream.js';

function draws(streams: RandomStreams, name: string, count: number): number[] {
  const stream = streams.stream(name);
  return Array.from({ length: count }, () => stream.nextUint32());
}

function codeOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    return error instanceof SimError ? error.code : 'not-a-sim-error';
  }
  return undefined;
}

describe('RandomStreams', () => {
  it('pins the generator output for a fixed seed and name (snapshot)', () => {
    const streams = new RandomStreams(42);
    const stream = streams.stream('golden');
    expect([stream.nextUint32(), stream.nextUint32(), stream.nextUint32()]).toEqual([177573092, 1646991657, 1679742623]);
    expect(stream.intBelow(1000)).toBe(636);
    expect(stream.exponentialNs(1000)).toBe(77);
    expect(streams.digest.hex()).toBe('d8ddbf65');
  });

  it('gives the same sequence for the same seed and name; "42" and 42 are the same seed', () => {
    expect(draws(new RandomStreams('42'), 'a', 20)).toEqual(draws(new RandomStreams(42), 'a', 20));
    expect(draws(new RandomStreams(1), 'a', 20)).not.toEqual(draws(new RandomStreams(2), 'a', 20));
    expect(draws(new RandomStreams(1), 'a', 20)).not.toEqual(draws(new RandomStreams(1), 'b', 20));
  });

  it('keeps streams independent: draws from A do not change the sequence of B', () => {
    const alone = draws(new RandomStreams('s'), 'B', 50);
    const streams = new RandomStreams('s');
    const a = streams.stream('A');
    const b = streams.stream('B');
    const interleaved: number[] = [];
    for (let i = 0; i < 50; i++) {
      for (let j = 0; j < i % 4; j++) a.nextUint32();
      interleaved.push(b.nextUint32());
    }
    expect(interleaved).toEqual(alone);
  });

  it('returns the same stream object for the same name and rejects an empty name', () => {
    const streams = new RandomStreams('x');
    expect(streams.stream('n')).toBe(streams.stream('n'));
    expect(streams.names()).toEqual(['n']);
    expect(codeOf(() => streams.stream(''))).toBe('invalid-argument');
    expect(codeOf(() => new RandomStreams(-1))).toBe('invalid-argument');
  });

  it('mixes every draw into the shared digest, identically for identical runs', () => {
    const run = (extraDraw: boolean): [string, number] => {
      const streams = new RandomStreams('d', new Digest());
      const s = streams.stream('one');
      for (let i = 0; i < 10; i++) s.intBelow(100);
      if (extraDraw) streams.stream('two').nextUint32();
      return [streams.digest.hex(), streams.unseed()];
    };
    expect(run(false)).toEqual(run(false));
    expect(run(true)[0]).not.toBe(run(false)[0]);
    expect(run(true)[1]).not.toBe(run(false)[1]);
  });

  it('computes the unseed without changing the digest', () => {
    const streams = new RandomStreams('u');
    streams.stream('x').nextUint32();
    const before = streams.digest.hex();
    const unseed = streams.unseed();
    expect(streams.unseed()).toBe(unseed);
    expect(streams.digest.hex()).toBe(before);
    expect(Number.isInteger(unseed) && unseed >= 0 && unseed < 2 ** 32).toBe(true);
  });
});

describe('RandomStream helpers', () => {
  it('intBelow stays in [0, bound) for any bound up to 2^53', () => {
    const stream = new RandomStreams('bounds').stream('s');
    fc.assert(
      fc.property(fc.oneof(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1, max: 2 ** 32 + 5 }), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER })), (bound) => {
        for (let i = 0; i < 20; i++) {
          const value = stream.intBelow(bound);
          expect(Number.isInteger(value)).toBe(true);
          expect(value).toBeGreaterThanOrEqual(0);
          expect(value).toBeLessThan(bound);
        }
      }),
      { numRuns: 300 },
    );
    expect(stream.intBelow(1)).toBe(0);
    expect(stream.intBelow(2 ** 53)).toBeLessThan(2 ** 53);
  });

  it('rejects invalid bounds with typed errors', () => {
    const stream = new RandomStreams('bad').stream('s');
    for (const bound of [0, -3, 1.5, Number.NaN, 2 ** 53 + 2, Infinity]) {
      expect(codeOf(() => stream.intBelow(bound))).toBe('invalid-argument');
    }
    expect(codeOf(() => stream.intInclusive(5, 4))).toBe('invalid-argument');
    expect(codeOf(() => stream.chance(3, 2))).toBe('invalid-argument');
    expect(codeOf(() => stream.chance(1, 0))).toBe('invalid-argument');
    expect(codeOf(() => stream.exponentialNs(-1))).toBe('invalid-argument');
    expect(codeOf(() => stream.pick([]))).toBe('invalid-argument');
  });

  it('intBelow(6) passes a chi-square test (fixed seed, 60 000 draws)', () => {
    const stream = new RandomStreams(7).stream('dice');
    const counts = new Array<number>(6).fill(0);
    const n = 60000;
    for (let i = 0; i < n; i++) counts[stream.intBelow(6)]++;
    const expected = n / 6;
    const chiSquare = counts.reduce((sum, c) => sum + ((c - expected) * (c - expected)) / expected, 0);
    expect(chiSquare).toBeLessThan(20.52); // df = 5, p = 0.001
  });

  it('intBelow has no modulo bias for a bound that does not divide 2^32', () => {
    // With plain modulo, values below 2^30 would appear half of the time instead of a third.
    const stream = new RandomStreams(8).stream('bias');
    const bound = 3 * 2 ** 30;
    let low = 0;
    const n = 30000;
    for (let i = 0; i < n; i++) if (stream.intBelow(bound) < 2 ** 30) low++;
    expect(Math.abs(low / n - 1 / 3)).toBeLessThan(0.02);
  });

  it('intInclusive reaches both ends and nothing outside', () => {
    const stream = new RandomStreams(9).stream('incl');
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const value = stream.intInclusive(-3, 3);
      expect(value).toBeGreaterThanOrEqual(-3);
      expect(value).toBeLessThanOrEqual(3);
      seen.add(value);
    }
    expect([...seen].sort((a, b) => a - b)).toEqual([-3, -2, -1, 0, 1, 2, 3]);
  });

  it('chance(numerator, denominator) has the right frequency and exact edges', () => {
    const stream = new RandomStreams(10).stream('chance');
    let hits = 0;
    const n = 40000;
    for (let i = 0; i < n; i++) if (stream.chance(1, 4)) hits++;
    expect(Math.abs(hits / n - 0.25)).toBeLessThan(0.01);
    for (let i = 0; i < 100; i++) {
      expect(stream.chance(0, 7)).toBe(false);
      expect(stream.chance(7, 7)).toBe(true);
    }
  });

  it('exponentialNs returns non-negative integers with roughly the right mean', () => {
    const stream = new RandomStreams(11).stream('exp');
    const n = 50000;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const value = stream.exponentialNs(2000);
      expect(Number.isInteger(value) && value >= 0).toBe(true);
      sum += value;
    }
    expect(Math.abs(sum / n / 2000 - 1)).toBeLessThan(0.03);
    expect(stream.exponentialNs(0)).toBe(0);
  });

  it('nextDouble is in [0, 1)', () => {
    const stream = new RandomStreams(12).stream('double');
    for (let i = 0; i < 1000; i++) {
      const value = stream.nextDouble();
      expect(value >= 0 && value < 1).toBe(true);
    }
  });

  it('pick and shuffle are deterministic; shuffle is a permutation', () => {
    const make = () => new RandomStreams(13).stream('perm');
    const items = Array.from({ length: 30 }, (_, i) => i);
    const a = make().shuffle([...items]);
    expect(make().shuffle([...items])).toEqual(a);
    expect([...a].sort((x, y) => x - y)).toEqual(items);
    expect(a).not.toEqual(items);
    const picker = make();
    const picked = new Set(Array.from({ length: 200 }, () => picker.pick(['a', 'b', 'c'])));
    expect(picked).toEqual(new Set(['a', 'b', 'c']));
  });

  it('satisfies the structural RandomSource interface', () => {
    const source: RandomSource = new RandomStreams(14).stream('source');
    expect(source.intBelow(10)).toBeLessThan(10);
  });
});
