// The original's rack_vm_test: write a marker into the first word of every page in order, then
// read every page back in order (2 x span accesses; it starts over if asked for more).

import type { PageGenerator } from '../generated-stream.js';

/** Write pass, then read pass. */
export class TouchGenerator implements PageGenerator {
  readonly decidesWrites = true;
  private index = 0;

  constructor(
    private readonly first: number,
    private readonly span: number,
  ) {}

  fillPages(pages: Int32Array, writes: Uint8Array, offset: number, count: number): void {
    const { first, span } = this;
    const period = 2 * span;
    let index = this.index;
    const end = offset + count;
    for (let i = offset; i < end; i++) {
      if (index < span) {
        pages[i] = first + index;
        writes[i] = 1;
      } else {
        pages[i] = first + index - span;
        writes[i] = 0;
      }
      if (++index === period) index = 0;
    }
    this.index = index;
  }
}
