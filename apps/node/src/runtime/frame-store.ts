import { VmError } from '@rackmem/vm';
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
  /** No bytes of its own: the page's data is in storage at `directAddress` (see DirectPageSource). */
  Direct: 5,
} as const;

/** One page of zeros (never written): what a Zero slot reads as. */
export const ZEROS = new Uint8Array(PAGE_SIZE_BYTES);

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
  /** Source address of each Direct slot. */
  private readonly directAddresses: Float64Array;
  /** What a Direct slot has underneath from earlier use: Empty, or a leftover page (Stale or DataWriteProtected). */
  private readonly directUnder: Uint8Array;

  constructor(readonly frameCount: number) {
    this.memory = RegionMemory.map(frameCount * PAGE_SIZE_BYTES);
    this.slots = new Uint8Array(frameCount);
    this.directAddresses = new Float64Array(frameCount);
    this.directUnder = new Uint8Array(frameCount);
  }

  /** Address of frame `frame`'s slot. */
  address(frame: number): number {
    return this.memory.pageAddress(frame);
  }

  /** What the slot holds (`Slot`). */
  state(frame: number): number {
    return this.slots[frame];
  }

  /** Makes the slot stand for the page bytes at `address` (in storage) without copying them. */
  setDirect(frame: number, address: number): void {
    const s = this.slots[frame];
    // A leftover page is kept (no syscall per fetch) and remembered: clear() drops it before a MOVE
    // needs the slot empty, and one moved from a write-protected mapping stays marked as such.
    const under = s === Slot.Direct ? this.directUnder[frame] : s === Slot.DataWriteProtected ? s : s === Slot.Data || s === Slot.Stale ? Slot.Stale : Slot.Empty;
    this.directUnder[frame] = under;
    this.slots[frame] = Slot.Direct;
    this.directAddresses[frame] = address;
  }

  /** Where a Direct slot's bytes are. */
  directAddress(frame: number): number {
    return this.directAddresses[frame];
  }

  /** Marks the slot's contents. */
  set(frame: number, state: number): void {
    this.slots[frame] = state;
  }

  /** After a Direct slot's page was mapped: the slot is back to what it had underneath. */
  directDone(frame: number): void {
    this.slots[frame] = this.directUnder[frame];
  }

  /**
   * Makes the slot empty, so a MOVE can land in it or JS can write a fresh page into it (a page
   * moved out of a write-protected mapping may carry the uffd-wp bit: writing to it from the
   * pager thread would fault to the pager itself).
   */
  clear(frame: number): void {
    const s = this.slots[frame];
    const hasPage = s === Slot.Data || s === Slot.Stale || s === Slot.DataWriteProtected || (s === Slot.Direct && this.directUnder[frame] !== Slot.Empty);
    if (hasPage) madvise(this.address(frame), PAGE_SIZE_BYTES, MADV_DONTNEED);
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
    // Never hand out the slot's own memory for a page whose bytes are elsewhere (it would read as garbage).
    if (this.slots[frame] === Slot.Direct) throw new VmError('invariant-broken', `frame ${frame} holds a direct page: its bytes are in storage, not in the frame (a bug: please report it)`);
    return this.memory.bytes(frame * PAGE_SIZE_BYTES, PAGE_SIZE_BYTES);
  }

  /** Releases the area. */
  close(): void {
    this.memory.unmap();
  }
}
