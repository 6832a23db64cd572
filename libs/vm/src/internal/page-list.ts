/**
 * Intrusive doubly linked FIFOs over shared `prev`/`next` arrays: a page is on at most one list at
 * a time (active, inactive, waiting for a frame, queued for write-back), so all lists share 8 bytes
 * per page and insert, remove and pop are O(1) with no allocation.
 */
export class PageLinks {
  readonly prev: Int32Array;
  readonly next: Int32Array;
  constructor(pageCount: number) {
    this.prev = new Int32Array(pageCount).fill(-1);
    this.next = new Int32Array(pageCount).fill(-1);
  }
}

/** One FIFO of pages: append at the tail, take the oldest from the head, remove from anywhere. */
export class PageList {
  head = -1;
  tail = -1;
  size = 0;
  private readonly prev: Int32Array;
  private readonly next: Int32Array;

  constructor(links: PageLinks) {
    this.prev = links.prev;
    this.next = links.next;
  }

  /** Appends `page` (which must be on no list) at the tail. */
  pushTail(page: number): void {
    this.prev[page] = this.tail;
    this.next[page] = -1;
    if (this.tail >= 0) this.next[this.tail] = page;
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
    const p = this.prev[page];
    const n = this.next[page];
    if (p >= 0) this.next[p] = n;
    else this.head = n;
    if (n >= 0) this.prev[n] = p;
    else this.tail = p;
    this.prev[page] = -1;
    this.next[page] = -1;
    this.size--;
  }
}
