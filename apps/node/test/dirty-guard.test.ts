import type { PageStore } from '@rackmem/vm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DirtyGuard } from '../src/runtime/dirty-guard.js';
import { RescueWrites } from '../src/runtime/rescue-writes.js';

const PAGE = 4096;

function pageOf(seed: number): Uint8Array {
  const bytes = new Uint8Array(PAGE);
  for (let i = 0; i < PAGE; i++) bytes[i] = (seed * 31 + i * 7) & 255;
  return bytes;
}

describe('the dirty guard', () => {
  it('checks a page against the bytes it was copied from: its slot (saved before the unmap), its stored copy, or zeros', () => {
    const stored = new Map<number, Uint8Array>([[3, pageOf(3)]]);
    const guard = new DirtyGuard(8, { storedPageAddress: () => -1, storedPageBytes: (page) => stored.get(page) ?? null });
    guard.mappedFromSlot(1);
    guard.beforeUnmap(1, () => pageOf(1)); // the slot still holds what the page was copied from
    expect(guard.unchanged(1, pageOf(1))).toBe(true);
    expect(guard.unchanged(1, pageOf(9))).toBe(false);
    guard.mappedFromSlot(2); // no beforeUnmap for page 2: the saved bytes are page 1's
    expect(guard.unchanged(2, pageOf(1))).toBe(false);
    guard.mappedFromStore(3);
    let slotRead = false;
    guard.beforeUnmap(3, () => {
      slotRead = true;
      return pageOf(0);
    });
    expect(slotRead).toBe(false); // a page copied from storage does not need its slot
    expect(guard.unchanged(3, pageOf(3))).toBe(true);
    expect(guard.unchanged(3, pageOf(4))).toBe(false);
    stored.delete(3);
    expect(guard.unchanged(3, pageOf(3))).toBe(false); // no stored copy to compare with: written
    guard.mappedZero(4);
    expect(guard.unchanged(4, new Uint8Array(PAGE))).toBe(true);
    expect(guard.unchanged(4, pageOf(4))).toBe(false);
    expect(guard.unchanged(5, pageOf(5))).toBe(false); // never recorded: written
  });

  it('notices a change of any single byte', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: PAGE - 1 }), fc.integer({ min: 1, max: 255 }), (offset, delta) => {
      const guard = new DirtyGuard(4, null);
      guard.mappedFromSlot(2);
      guard.beforeUnmap(2, () => pageOf(offset));
      const moved = pageOf(offset);
      expect(guard.unchanged(2, moved)).toBe(true);
      moved[offset] = (moved[offset] + delta) & 255;
      expect(guard.unchanged(2, moved)).toBe(false);
    }), { numRuns: 200 });
  });
});

/** A store whose writes complete when the test says so. */
class ManualStore implements PageStore {
  readonly writes: { page: number; data: Uint8Array; done: (status: string) => void }[] = [];
  readPage(): void {
    throw new Error('not used');
  }
  writePage(page: number, data: Uint8Array, done: (status: string) => void): void {
    this.writes.push({ page, data, done });
  }
  discardPage(): void {}
}

describe('rescue writes', () => {
  it('copy the bytes at once, hold fetches of the page until the write landed, and stay bounded', () => {
    const store = new ManualStore();
    const failed: number[] = [];
    const rescues = new RescueWrites(store, 2, (page) => failed.push(page));
    const bytes = pageOf(7);
    expect(rescues.start(7, bytes)).toBe(true);
    bytes.fill(0); // the frame is reused at once: the rescue kept its own copy
    expect(store.writes[0].data).toEqual(pageOf(7));
    expect(rescues.start(7, pageOf(8))).toBe(false); // one rescue per page at a time
    expect(rescues.start(8, pageOf(8))).toBe(true);
    expect(rescues.start(9, pageOf(9))).toBe(false); // the bound
    const fetched: boolean[] = [];
    rescues.afterRescue(7, (landed) => fetched.push(landed));
    expect(fetched).toEqual([]);
    store.writes[0].done('ok');
    expect(fetched).toEqual([true]);
    expect(rescues.has(7)).toBe(false);
    rescues.afterRescue(8, (landed) => fetched.push(landed));
    store.writes[1].done('timeout');
    expect(failed).toEqual([8]); // storage keeps a stale copy: the caller poisons the page
    expect(fetched).toEqual([true, false]);
    expect(rescues.size).toBe(0);
    rescues.afterRescue(9, (landed) => fetched.push(landed)); // none in flight: at once
    expect(fetched).toEqual([true, false, true]);
  });
});
