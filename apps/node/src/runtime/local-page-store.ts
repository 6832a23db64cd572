import type { PageStore } from '@rackmem/vm';
import { PAGE_SIZE_BYTES } from '../native/constants.js';
import { RegionMemory } from '../native/region-memory.js';

/**
 * Storage that can hand out the address of a stored page, so the pager fills a fault with one
 * UFFDIO_COPY straight from it: no copy into a frame first, no frame page to fault in.
 */
export interface DirectPageSource {
  /** Address of `page`'s stored bytes, or -1 when the page is not stored. Valid until the page is written again. */
  storedPageAddress(page: number): number;
  /** `page`'s stored bytes (a view, valid as long as the address), or null when it is not stored. */
  storedPageBytes(page: number): Uint8Array | null;
}

/** Thrown for a capacity that cannot hold one page. */
export class LocalPageStoreError extends Error {
  readonly code = 'bad-capacity';
  constructor(message: string) {
    super(message);
    this.name = 'LocalPageStoreError';
  }
}

/**
 * Local storage of a paged region (storage kind `local`: no donors): an anonymous mapping with
 * one slot per region page (MAP_NORESERVE, so only stored pages take memory), completions
 * synchronous. At most `capacityPages` pages are stored at once; a write beyond that completes
 * `no-space` and the engine keeps the page. A discarded page's bytes stay in place until the page
 * is written again (never released early), which is what makes {@link storedPageAddress} safe to
 * use between a fetch and the map that follows it.
 */
export class LocalPageStore implements PageStore, DirectPageSource {
  private readonly memory: RegionMemory;
  private readonly live: Uint8Array;
  private livePages = 0;

  constructor(readonly pageCount: number, readonly capacityPages: number = pageCount) {
    if (!Number.isSafeInteger(capacityPages) || capacityPages < 1) {
      throw new LocalPageStoreError(`local storage must hold at least one page, got a capacity of ${capacityPages} pages`);
    }
    this.memory = RegionMemory.map(pageCount * PAGE_SIZE_BYTES);
    this.live = new Uint8Array(pageCount);
  }

  /** Pages stored now. */
  get storedPages(): number {
    return this.livePages;
  }

  readPage(page: number, into: Uint8Array, done: (status: string) => void): void {
    if (this.live[page] !== 1) {
      done('not-found');
      return;
    }
    into.set(this.memory.bytes(page * PAGE_SIZE_BYTES, PAGE_SIZE_BYTES));
    done('ok');
  }

  writePage(page: number, data: Uint8Array, done: (status: string) => void): void {
    if (this.live[page] !== 1) {
      if (this.livePages >= this.capacityPages) {
        done('no-space');
        return;
      }
      this.live[page] = 1;
      this.livePages++;
    }
    this.memory.bytes(page * PAGE_SIZE_BYTES, PAGE_SIZE_BYTES).set(data);
    done('ok');
  }

  discardPage(page: number): void {
    if (this.live[page] !== 1) return;
    this.live[page] = 0;
    this.livePages--;
  }

  storedPageAddress(page: number): number {
    return this.live[page] === 1 ? this.memory.pageAddress(page) : -1;
  }

  storedPageBytes(page: number): Uint8Array | null {
    return this.live[page] === 1 ? this.memory.bytes(page * PAGE_SIZE_BYTES, PAGE_SIZE_BYTES) : null;
  }

  /** Releases the memory. No address handed out may be used afterwards. */
  close(): void {
    this.memory.unmap();
  }
}
