import { describe, expect, it } from 'vitest';
import { SimError } from './errors.js';
import { RandomStreams } from './random-stream.js';
import { ScrambledZipfianGenerator, ZipfianGenerator, zeta } from './zipfian.js';

function histogram(next: () => number, n: number, itemCount: number): number[] {
  const counts = new Array<number>(itemCount).fill(0);
  for (let i = 0; i < n; i++) {
    const value = next();
    expect(Number.isInteger(value) && value >= 0 && value < itemCount).toBe(true);
    counts[value]++;
  }
  return counts;
}

describe('ZipfianGenerator', () => {
  it('favours rank 0 heavily at theta 0.99 and stays in range', () => {
    const itemCount = 1000;
    const zipf = new ZipfianGenerator(new RandomStreams(1).stream('zipf'), itemCount);
    const n = 50000;
    const counts = histogram(() => zipf.next(), n, itemCount);
    const expectedTop = 1 / zeta(itemCount, 0.99); // about 0.134
    expect(Math.abs(counts[0] / n - expectedTop)).toBeLessThan(0.01);
    expect(counts[0]).toBeGreaterThan(1.7 * counts[1]);
    expect(counts[1]).toBeGreaterThan(counts[10]);
    expect(counts[10]).toBeGreaterThan(counts[500]);
    // The top 10 % of ranks take most of the draws.
    const top = counts.slice(0, 100).reduce((a, b) => a + b, 0);
    expect(top / n).toBeGreaterThan(0.6);
  });

  it('handles one and two items, and a lower theta is less skewed', () => {
    const stream = new RandomStreams(2).stream('zipf');
    const one = new ZipfianGenerator(stream, 1);
    for (let i = 0; i < 50; i++) expect(one.next()).toBe(0);
    histogram(() => new ZipfianGenerator(stream, 2).next(), 200, 2);
    const flat = new ZipfianGenerator(stream, 1000, { theta: 0.5 });
    const counts = histogram(() => flat.next(), 20000, 1000);
    expect(counts[0] / 20000).toBeLessThan(0.05);
  });

  it('accepts a precomputed zeta and rejects bad parameters', () => {
    const stream = new RandomStreams(3).stream('zipf');
    const z = zeta(5000, 0.99);
    expect(new ZipfianGenerator(stream, 5000, { zetaN: z }).zetaN).toBe(z);
    expect(() => new ZipfianGenerator(stream, 0)).toThrow(SimError);
    expect(() => new ZipfianGenerator(stream, 10, { theta: 1 })).toThrow(SimError);
    expect(() => new ScrambledZipfianGenerator(stream, 2 ** 32 + 1)).toThrow(SimError);
  });

  it('is deterministic for a seed', () => {
    const run = () => {
      const zipf = new ZipfianGenerator(new RandomStreams('det').stream('zipf'), 100);
      return Array.from({ length: 100 }, () => zipf.next());
    };
    expect(run()).toEqual(run());
  });
});

describe('ScrambledZipfianGenerator', () => {
  it('stays in range, keeps the skew, and moves the hottest item away from 0', () => {
    const itemCount = 1000;
    const zipf = new ScrambledZipfianGenerator(new RandomStreams(4).stream('scrambled'), itemCount);
    const n = 50000;
    const counts = histogram(() => zipf.next(), n, itemCount);
    const hottest = counts.indexOf(Math.max(...counts));
    expect(hottest).not.toBe(0);
    expect(counts[hottest] / n).toBeGreaterThan(0.1);
  });
});
