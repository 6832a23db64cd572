// YCSB zipfian pages of [first, first + span): rank r is page first + r (plain) or page
// first + FNV-1a(r) mod span (scrambled, so the hot pages are spread over the region).

import { ScrambledZipfianGenerator, ZipfianGenerator } from '../../zipfian.js';
import type { PageGenerator } from '../generated-stream.js';
import type { WorkloadRandom } from '../random.js';

/** Zipfian pages (plain or scrambled). */
export class ZipfianPageGenerator implements PageGenerator {
  readonly decidesWrites = false;
  private readonly ranks: ZipfianGenerator | ScrambledZipfianGenerator;

  constructor(
    private readonly first: number,
    span: number,
    theta: number,
    scrambled: boolean,
    zetaN: number,
    random: WorkloadRandom,
  ) {
    this.ranks = scrambled
      ? new ScrambledZipfianGenerator(random, span, { theta, zetaN })
      : new ZipfianGenerator(random, span, { theta, zetaN });
  }

  fillPages(pages: Int32Array, _writes: Uint8Array, offset: number, count: number): void {
    const { first, ranks } = this;
    const end = offset + count;
    for (let i = offset; i < end; i++) pages[i] = first + ranks.next();
  }
}
