import { describe, expect, it } from 'vitest';
import koffi from 'koffi';
import { LocalPageStore, LocalPageStoreError } from '../src/runtime/local-page-store.js';

const PAGE = 4096;
const page = (fill: number): Uint8Array => new Uint8Array(PAGE).fill(fill);
const status = (run: (done: (s: string) => void) => void): string => {
  let got = 'not called';
  run((s) => (got = s));
  return got;
};

describe('local page store', () => {
  it('reads back what was written, and nothing it never stored', () => {
    const store = new LocalPageStore(16);
    try {
      const into = page(0xee);
      expect(status((d) => store.readPage(3, into, d))).toBe('not-found');
      expect(into[0]).toBe(0xee); // untouched: never silently zeros
      expect(status((d) => store.writePage(3, page(7), d))).toBe('ok');
      expect(status((d) => store.readPage(3, into, d))).toBe('ok');
      expect(into).toEqual(page(7));
      expect(store.storedPages).toBe(1);
    } finally {
      store.close();
    }
  });

  it('hands out the stored bytes\' address for a direct fill, and -1 once discarded', () => {
    const store = new LocalPageStore(4);
    try {
      expect(store.storedPageAddress(1)).toBe(-1);
      store.writePage(1, page(42), () => {});
      const address = store.storedPageAddress(1);
      expect(address).toBeGreaterThan(0);
      expect(new Uint8Array(koffi.view(address, PAGE) as ArrayBuffer)[PAGE - 1]).toBe(42);
      store.discardPage(1);
      expect(store.storedPageAddress(1)).toBe(-1);
      expect(store.storedPages).toBe(0);
      // The bytes stay until the page is written again (a fetched-but-unmapped page may still copy from them).
      expect(new Uint8Array(koffi.view(address, PAGE) as ArrayBuffer)[0]).toBe(42);
    } finally {
      store.close();
    }
  });

  it('refuses a new page beyond its capacity with no-space, and still rewrites stored ones', () => {
    const store = new LocalPageStore(8, 2);
    try {
      expect(status((d) => store.writePage(0, page(1), d))).toBe('ok');
      expect(status((d) => store.writePage(1, page(2), d))).toBe('ok');
      expect(status((d) => store.writePage(2, page(3), d))).toBe('no-space');
      expect(status((d) => store.writePage(1, page(4), d))).toBe('ok');
      store.discardPage(0);
      expect(status((d) => store.writePage(2, page(3), d))).toBe('ok');
    } finally {
      store.close();
    }
  });

  it('rejects a capacity of no pages with a clear error', () => {
    expect(() => new LocalPageStore(8, 0)).toThrow(LocalPageStoreError);
  });
});
