// Hotspot (YCSB's HotspotIntegerGenerator): a fraction of the accesses goes to the hot set (the
// first hotPages pages of [first, first + span)), the rest to the cold pages, uniformly in each.
// The hot/cold choice is an integer chance in parts per million.

import type { PageGenerator } from '../generated-stream.js';
import type { WorkloadRandom } from '../random.js';

const PPM = 1_000_000;

/** Hot/cold uniform pages. */
export class HotspotGenerator implements PageGenerator {
  readonly decidesWrites = false;

  constructor(
    private readonly first: number,
    private readonly span: number,
    private readonly hotPages: number,
    private readonly hotAccessPpm: number,
    private readonly random: WorkloadRandom,
  ) {}

  fillPages(pages: Int32Array, _writes: Uint8Array, offset: number, count: number): void {
    const { first, span, hotPages, hotAccessPpm, random } = this;
    const end = offset + count;
    const coldPages = span - hotPages;
    for (let i = offset; i < end; i++) {
      if (coldPages === 0 || random.intBelow(PPM) < hotAccessPpm) pages[i] = first + random.intBelow(hotPages);
      else pages[i] = first + hotPages + random.intBelow(coldPages);
    }
  }
}

/** Hot pages of a span: round(span x percent / 100), at least 1 and at most span. */
export function hotPageCount(span: number, hotPagePercent: number): number {
  return Math.min(span, Math.max(1, Math.round((span * hotPagePercent) / 100)));
}

/** A percentage in parts per million (4 decimal places of the percent are kept). */
export function percentToPpm(percent: number): number {
  return Math.round(percent * 10_000);
}
