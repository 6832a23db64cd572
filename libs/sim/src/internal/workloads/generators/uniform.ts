// Uniformly random pages of [first, first + span).

import type { PageGenerator } from '../generated-stream.js';
import type { WorkloadRandom } from '../random.js';

/** Uniform pages. */
export class UniformGenerator implements PageGenerator {
  readonly decidesWrites = false;

  constructor(
    private readonly first: number,
    private readonly span: number,
    private readonly random: WorkloadRandom,
  ) {}

  fillPages(pages: Int32Array, _writes: Uint8Array, offset: number, count: number): void {
    const { first, span, random } = this;
    const end = offset + count;
    for (let i = offset; i < end; i++) pages[i] = first + random.intBelow(span);
  }
}
