// Pointer chasing: follow a random cyclic permutation (next[p] is the page after p), so every
// page is visited once per cycle in an order no stride or trend predicts.

import type { PageGenerator } from '../generated-stream.js';

/** Follows `next` from a start page. */
export class PointerChaseGenerator implements PageGenerator {
  readonly decidesWrites = false;

  constructor(
    private readonly first: number,
    private readonly next: Int32Array,
    private current: number,
  ) {}

  fillPages(pages: Int32Array, _writes: Uint8Array, offset: number, count: number): void {
    const { first, next } = this;
    let current = this.current;
    const end = offset + count;
    for (let i = offset; i < end; i++) {
      pages[i] = first + current;
      current = next[current];
    }
    this.current = current;
  }
}
