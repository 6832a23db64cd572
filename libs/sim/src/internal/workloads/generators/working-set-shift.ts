// Working-set shift: uniform accesses within a window of windowPages pages; every shiftEvery
// accesses the window slides up by shiftPages, wrapping around the end of [first, first + span).

import type { PageGenerator } from '../generated-stream.js';
import type { WorkloadRandom } from '../random.js';

/** Uniform pages in a sliding window. */
export class WorkingSetShiftGenerator implements PageGenerator {
  readonly decidesWrites = false;
  private start = 0;
  private inWindow = 0;

  constructor(
    private readonly first: number,
    private readonly span: number,
    private readonly windowPages: number,
    private readonly shiftPages: number,
    private readonly shiftEvery: number,
    private readonly random: WorkloadRandom,
  ) {}

  fillPages(pages: Int32Array, _writes: Uint8Array, offset: number, count: number): void {
    const { first, span, windowPages, shiftEvery, random } = this;
    const shift = this.shiftPages % span;
    let start = this.start;
    let inWindow = this.inWindow;
    const end = offset + count;
    for (let i = offset; i < end; i++) {
      let page = start + random.intBelow(windowPages);
      if (page >= span) page -= span;
      pages[i] = first + page;
      if (++inWindow === shiftEvery) {
        inWindow = 0;
        start += shift;
        if (start >= span) start -= span;
      }
    }
    this.start = start;
    this.inWindow = inWindow;
  }
}
