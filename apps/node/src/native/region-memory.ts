import koffi from 'koffi';
import { madvise, mmap, munmap } from './libc.js';
import {
  MADV_DONTNEED, MADV_NOHUGEPAGE, MAP_ANONYMOUS, MAP_NORESERVE, MAP_PRIVATE, MAP_SHARED, PAGE_SIZE_BYTES, PROT_READ, PROT_WRITE,
} from './constants.js';

/** Largest ArrayBuffer view handed to JS: 1 GiB (views over 4 GiB abort Node 20, pitfall P4). */
export const MAX_VIEW_BYTES = 1 << 30;

/** Thrown for a region size or offset that cannot be mapped; the message says what is allowed. */
export class RegionMemoryError extends Error {
  constructor(readonly code: 'bad-size' | 'out-of-range' | 'unmapped', message: string) {
    super(message);
    this.name = 'RegionMemoryError';
  }
}

/** Options of {@link RegionMemory.map}. */
export interface RegionMemoryOptions {
  /** MAP_SHARED instead of MAP_PRIVATE (anonymous shared memory; UFFDIO_MOVE needs private). */
  shared?: boolean;
}

/**
 * An anonymous mapping (MAP_NORESERVE, THP disabled so faults stay 4 KiB) exposed to JS as
 * ArrayBuffers of at most 1 GiB over the same memory (koffi.view: no copy, no page touched).
 * Used for paged regions (registered with a userfaultfd by the pager) and for staging buffers
 * (never registered). `unmap()` makes every view invalid: any later access is a SIGSEGV, so the
 * owner must drop its views first (there is no GC safety, native.md §3.3).
 */
export class RegionMemory {
  private views: ArrayBuffer[] | undefined;
  private mapped = true;

  private constructor(
    /** Start address (page-aligned). */
    readonly address: number,
    /** Size in bytes (a multiple of the page size). */
    readonly sizeBytes: number,
  ) {}

  /** Maps `sizeBytes` (a positive multiple of 4096) of anonymous memory. */
  static map(sizeBytes: number, options: RegionMemoryOptions = {}): RegionMemory {
    if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0 || sizeBytes % PAGE_SIZE_BYTES !== 0) {
      throw new RegionMemoryError('bad-size', `region size ${sizeBytes} must be a positive multiple of ${PAGE_SIZE_BYTES} bytes`);
    }
    const flags = (options.shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS | MAP_NORESERVE;
    const address = mmap(0, sizeBytes, PROT_READ | PROT_WRITE, flags);
    if (!options.shared) madvise(address, sizeBytes, MADV_NOHUGEPAGE);
    return new RegionMemory(address, sizeBytes);
  }

  /** Wraps memory mapped elsewhere (e.g. by another thread: rebuild views from the address, P17). */
  static attach(address: number, sizeBytes: number): RegionMemory {
    const region = new RegionMemory(address, sizeBytes);
    region.mapped = false; // not ours to unmap
    return region;
  }

  /** Number of pages. */
  get pages(): number {
    return this.sizeBytes / PAGE_SIZE_BYTES;
  }

  /** Address of page `page`. */
  pageAddress(page: number): number {
    return this.address + page * PAGE_SIZE_BYTES;
  }

  /**
   * The region as consecutive ArrayBuffers of at most 1 GiB each (created once, on first call).
   * Views are not SharedArrayBuffers (no Atomics.wait) and must never be postMessage'd (P17).
   */
  arrayBuffers(): readonly ArrayBuffer[] {
    if (!this.views) {
      const views: ArrayBuffer[] = [];
      for (let offset = 0; offset < this.sizeBytes; offset += MAX_VIEW_BYTES) {
        views.push(koffi.view(this.address + offset, Math.min(MAX_VIEW_BYTES, this.sizeBytes - offset)) as ArrayBuffer);
      }
      this.views = views;
    }
    return this.views;
  }

  /** A Uint8Array over `[offsetBytes, offsetBytes + lengthBytes)`, which must lie inside one 1 GiB view. */
  bytes(offsetBytes: number, lengthBytes: number): Uint8Array {
    if (offsetBytes < 0 || lengthBytes < 0 || offsetBytes + lengthBytes > this.sizeBytes) {
      throw new RegionMemoryError('out-of-range', `bytes ${offsetBytes}+${lengthBytes} outside the region of ${this.sizeBytes} bytes`);
    }
    const index = Math.floor(offsetBytes / MAX_VIEW_BYTES);
    const within = offsetBytes - index * MAX_VIEW_BYTES;
    if (within + lengthBytes > MAX_VIEW_BYTES) {
      throw new RegionMemoryError('out-of-range', `bytes ${offsetBytes}+${lengthBytes} cross a 1 GiB view boundary: split the access`);
    }
    return new Uint8Array(this.arrayBuffers()[index], within, lengthBytes);
  }

  /** Drops the contents of a page range (MADV_DONTNEED): private anonymous pages read as zero (or fault, when registered). */
  discard(offsetBytes: number, lengthBytes: number): void {
    madvise(this.address + offsetBytes, lengthBytes, MADV_DONTNEED);
  }

  /** Unmaps the memory (when this object mapped it). Views must not be used afterwards. Idempotent. */
  unmap(): void {
    this.views = undefined;
    if (!this.mapped) return;
    this.mapped = false;
    munmap(this.address, this.sizeBytes);
  }
}
