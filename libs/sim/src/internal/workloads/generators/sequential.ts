// Sequential scans over [first, first + span): forward or backward, wrapping to start a new pass.

import type { PageGenerator } from '../generated-stream.js';

/** Forward or backward scans, wrapping. */
export class SequentialGenerator implements PageGenerator {
  readonly decidesWrites = false;
  private index = 0;

  constructor(
    private readonly first: number,
    private readonly span: number,
    private readonly backward: boolean,
  ) {}

  fillPages(pages: Int32Array, _writes: Uint8Array, offset: number, count: number): void {
    const { first, span } = this;
    let index = this.index;
    const end = offset + count;
    if (this.backward) {
      const last = first + span - 1;
      for (let i = offset; i < end; i++) {
        pages[i] = last - index;
        if (++index === span) index = 0;
      }
    } else {
      for (let i = offset; i < end; i++) {
        pages[i] = first + index;
        if (++index === span) index = 0;
      }
    }
    this.index = index;
  }
}
