// Interleaved sequential streams: a thread owns several slices of the region and scans each one
// sequentially, switching stream every burstLength accesses, round-robin or at random.

import type { PageGenerator } from '../generated-stream.js';
import type { WorkloadRandom } from '../random.js';

/** Sequential streams over slices, mixed in bursts. */
export class InterleavedGenerator implements PageGenerator {
  readonly decidesWrites = false;
  private readonly positions: Int32Array;
  private current = 0;
  private inBurst = 0;

  /** `firsts[s]` and `sizes[s]` describe stream s's slice. */
  constructor(
    private readonly firsts: Int32Array,
    private readonly sizes: Int32Array,
    private readonly backward: boolean,
    private readonly burstLength: number,
    private readonly random: WorkloadRandom | undefined,
  ) {
    this.positions = new Int32Array(firsts.length);
    if (random !== undefined) this.current = random.intBelow(firsts.length);
  }

  fillPages(pages: Int32Array, _writes: Uint8Array, offset: number, count: number): void {
    const { firsts, sizes, positions, burstLength, random, backward } = this;
    const streams = firsts.length;
    let current = this.current;
    let inBurst = this.inBurst;
    const end = offset + count;
    for (let i = offset; i < end; i++) {
      const position = positions[current];
      pages[i] = backward ? firsts[current] + sizes[current] - 1 - position : firsts[current] + position;
      positions[current] = position + 1 === sizes[current] ? 0 : position + 1;
      if (++inBurst === burstLength) {
        inBurst = 0;
        if (random !== undefined) current = random.intBelow(streams);
        else if (++current === streams) current = 0;
      }
    }
    this.current = current;
    this.inBurst = inBurst;
  }
}
