// Strided sweeps over [first, first + span) with a stride of k pages: for each offset o in
// 0 .. |k| - 1, pages o, o + k, o + 2k, ... below span (a column walk), so one sweep of span
// accesses visits every page exactly once. A negative stride mirrors it: span - 1 - o, ... downwards.

import type { PageGenerator } from '../generated-stream.js';

/** Column walks with a positive or negative stride. */
export class StridedGenerator implements PageGenerator {
  readonly decidesWrites = false;
  private readonly step: number;
  private readonly offsets: number;
  private column = 0;
  private position = 0;

  constructor(
    private readonly first: number,
    private readonly span: number,
    private readonly stride: number,
  ) {
    this.step = Math.abs(stride);
    this.offsets = Math.min(this.step, span);
  }

  fillPages(pages: Int32Array, _writes: Uint8Array, offset: number, count: number): void {
    const { first, span, step, offsets } = this;
    const last = first + span - 1;
    const down = this.stride < 0;
    let column = this.column;
    let position = this.position;
    const end = offset + count;
    for (let i = offset; i < end; i++) {
      pages[i] = down ? last - position : first + position;
      position += step;
      if (position >= span) {
        if (++column === offsets) column = 0;
        position = column;
      }
    }
    this.column = column;
    this.position = position;
  }
}
