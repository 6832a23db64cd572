/**
 * The page table, packed: four int32 words per page (16 bytes), so that everything the engine
 * touches for one page — state and flags, frame, list links — sits in one cache line. A region
 * of 1 M pages faults at random; with one array per field each fault missed the cache once per
 * field, with the packed table once per page.
 *
 * word 0: state (bits 0-7) | flags (bits 8-15); word 1: frame; word 2: prev; word 3: next.
 */
export class PageTable {
  /** The packed words (4 per page). */
  readonly words: Int32Array;

  constructor(pageCount: number) {
    this.words = new Int32Array(pageCount * 4);
    for (let i = 0; i < this.words.length; i += 4) {
      this.words[i + 1] = -1;
      this.words[i + 2] = -1;
      this.words[i + 3] = -1;
    }
  }

  /** The page after `page` on its list, or -1. */
  next(page: number): number {
    return this.words[page * 4 + 3];
  }
}

/**
 * Intrusive doubly linked FIFOs over the page table's link words: a page is on at most one list at
 * a time (active, inactive, waiting for a frame, queued for or in write-back), so all lists share
 * the same 8 bytes per page and insert, remove and pop are O(1) with no allocation.
 */
export class PageList {
  head = -1;
  tail = -1;
  size = 0;
  private readonly w: Int32Array;

  constructor(table: PageTable) {
    this.w = table.words;
  }

  /** Appends `page` (which must be on no list) at the tail. */
  pushTail(page: number): void {
    const w = this.w;
    const i = page * 4;
    w[i + 2] = this.tail;
    w[i + 3] = -1;
    if (this.tail >= 0) w[this.tail * 4 + 3] = page;
    else this.head = page;
    this.tail = page;
    this.size++;
  }

  /** Removes and returns the oldest page, or -1 when empty. */
  popHead(): number {
    const page = this.head;
    if (page >= 0) this.remove(page);
    return page;
  }

  /** Removes `page`, which must be on this list. */
  remove(page: number): void {
    const w = this.w;
    const i = page * 4;
    const p = w[i + 2];
    const n = w[i + 3];
    if (p >= 0) w[p * 4 + 3] = n;
    else this.head = n;
    if (n >= 0) w[n * 4 + 2] = p;
    else this.tail = p;
    w[i + 2] = -1;
    w[i + 3] = -1;
    this.size--;
  }
}
