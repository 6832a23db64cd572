import { MADV_DONTNEED, PAGE_SIZE_BYTES } from '../native/constants.js';
import { madvise } from '../native/libc.js';
import { RegionMemory } from '../native/region-memory.js';

/** What a frame slot holds. */
export const Slot = {
  /** No physical page (never used, or its page was moved into the region). */
  Empty: 0,
  /** The page's data (fetched from storage, or moved out of the region). */
  Data: 1,
  /** Logically zeros (a first touch): no physical page needed. */
  Zero: 2,
  /** A physical page that no longer matters (copied into the region, or written back). */
  Stale: 3,
  /** The page's data, moved out of a write-protected mapping: it may carry the uffd-wp bit. */
  DataWriteProtected: 4,
} as const;

const ZEROS = new Uint8Array(PAGE_SIZE_BYTES);

/**
 * The engine's frames in the userfaultfd runtime: an anonymous area of one page per frame,
 * registered with the region's uffd in WP mode only (UFFDIO_MOVE needs its destination registered
 * with the same uffd; WP-only means a missing page here is an ordinary zero-fill, never a message
 * to the pager). A frame holds a page's data while the page is unmapped (inactive, evicting,
 * fetched but not yet mapped); a mapped page's data lives in the region itself. Virtual size is
 * the region plus staging; physical use stays near the budget.
 */
export class FrameStore {
  readonly memory: RegionMemory;
  private readonly slots: Uint8Array;

  constructor(readonly frameCount: number) {
    this.memory = RegionMemory.map(frameCount * PAGE_SIZE_BYTES);
    this.slots = new Uint8Array(frameCount);
  }

  /** Address of frame `frame`'s slot. */
  address(frame: number): number {
    return this.memory.pageAddress(frame);
  }

  /** What the slot holds (`Slot`). */
  state(frame: number): number {
    return this.slots[frame];
  }

  /** Marks the slot's contents. */
  set(frame: number, state: number): void {
    this.slots[frame] = state;
  }

  /**
   * Makes the slot empty, so a MOVE can land in it or JS can write a fresh page into it (a page
   * moved out of a write-protected mapping may carry the uffd-wp bit: writing to it from the
   * pager thread would fault to the pager itself).
   */
  clear(frame: number): void {
    const s = this.slots[frame];
    if (s === Slot.Data || s === Slot.Stale || s === Slot.DataWriteProtected) madvise(this.address(frame), PAGE_SIZE_BYTES, MADV_DONTNEED);
    this.slots[frame] = Slot.Empty;
  }

  /**
   * Makes the slot safe for the pager thread to overwrite: only a page moved out of a
   * write-protected mapping needs dropping (writing it would fault to the pager itself); any other
   * page is simply overwritten, saving a syscall per fetch.
   */
  prepareForWrite(frame: number): void {
    if (this.slots[frame] === Slot.DataWriteProtected) this.clear(frame);
  }

  /** The slot's bytes, to fill from storage or write back to it. Zero slots read as zeros. */
  bytes(frame: number): Uint8Array {
    if (this.slots[frame] === Slot.Zero) return ZEROS;
    return this.memory.bytes(frame * PAGE_SIZE_BYTES, PAGE_SIZE_BYTES);
  }

  /** Releases the area. */
  close(): void {
    this.memory.unmap();
  }
}
