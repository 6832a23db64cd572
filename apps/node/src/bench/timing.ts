// The module's `performance`: the global one is a lazy accessor whose getter would run twice per
// timed page, inside the measured interval.
import { performance } from 'node:perf_hooks';

/** Rounds to two decimals (for JSON figures). */
export const round2 = (x: number): number => Math.round(x * 100) / 100;

/** The median of a list of numbers. */
export const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The `q` quantile of an already sorted array. */
export const percentile = (sorted: Float64Array, q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))];

/**
 * Times the first read of every page of `u8` (each expected to hold `page & 255` in its first
 * byte, and each a fault): median and p99 in microseconds, and how many pages read back wrong.
 */
export function timeFirstReads(u8: Uint8Array, pages: number, pageBytes: number): { medianUs: number; p99Us: number; wrong: number } {
  const lat = new Float64Array(pages);
  let wrong = 0;
  for (let p = 0; p < pages; p++) {
    const t0 = performance.now();
    const v = u8[p * pageBytes];
    lat[p] = performance.now() - t0;
    if (v !== (p & 255)) wrong++;
  }
  lat.sort();
  return { medianUs: round2(percentile(lat, 0.5) * 1000), p99Us: round2(percentile(lat, 0.99) * 1000), wrong };
}

/** Medians over rounds of a pager and its C reference, and their ratio (the figures `bench fault` reports). */
export function compareRuns(pager: readonly { medianUs: number; p99Us: number }[], reference: readonly { medianUs: number; p99Us: number }[]): {
  pagerMedianUs: number; pagerP99Us: number; referenceMedianUs: number; referenceP99Us: number; medianRatio: number;
} {
  const pagerMedianUs = median(pager.map((x) => x.medianUs));
  const referenceMedianUs = median(reference.map((x) => x.medianUs));
  return {
    pagerMedianUs, pagerP99Us: median(pager.map((x) => x.p99Us)),
    referenceMedianUs, referenceP99Us: median(reference.map((x) => x.p99Us)),
    medianRatio: round2(pagerMedianUs / referenceMedianUs),
  };
}
