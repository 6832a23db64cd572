import { describe, expect, it } from 'vitest';
import { Digest, fnv1a32Integer, fnv1a32String } from './digest.js';

describe('Digest', () => {
  it('starts at the FNV-1a offset basis and prints 8 hex characters', () => {
    const digest = new Digest();
    expect(digest.hex()).toBe('811c9dc5');
    digest.mixEvent(0, 0, 0, 0);
    expect(digest.hex()).toMatch(/^[0-9a-f]{8}$/);
    expect(digest.eventCount).toBe(1);
  });

  it('changes when any single mixed field changes, including high bits and negatives', () => {
    const base = (): Digest => {
      const d = new Digest();
      d.mixEvent(123456789012, 3, 7, -1);
      d.mixDraw(0xdeadbeef, 42);
      return d;
    };
    const variants = [
      (d: Digest) => d.mixEvent(123456789012 + 2 ** 32, 3, 7, -1),
      (d: Digest) => d.mixEvent(123456789012, 4, 7, -1),
      (d: Digest) => d.mixEvent(123456789012, 3, 7 + 2 ** 40, -1),
      (d: Digest) => d.mixEvent(123456789012, 3, 7, 2 ** 32 - 1),
      (d: Digest) => d.mixDraw(0xdeadbeee, 42),
      (d: Digest) => d.mixDraw(0xdeadbeef, 43),
    ];
    const reference = base();
    reference.mixEvent(1, 1, 1, 1);
    const values = new Set<number>([reference.value()]);
    for (const variant of variants) {
      const d = new Digest();
      variant(d);
      d.mixEvent(1, 1, 1, 1);
      values.add(d.value());
    }
    expect(values.size).toBe(variants.length + 1);
  });

  it('hashes strings and integers with FNV-1a (known vectors)', () => {
    // Strings: FNV-1a 32 over UTF-16 code units, low byte first ("a" = bytes 0x61 0x00).
    expect(fnv1a32String('')).toBe(0x811c9dc5);
    expect(fnv1a32String('a')).toBe(0x2b24d044);
    // Integers: FNV-1a 32 over 8 little-endian bytes.
    expect(fnv1a32Integer(0)).toBe(0x9be17165);
    expect(fnv1a32Integer(5)).toBe(0xc8fa95c0);
    expect(fnv1a32Integer(2 ** 32)).not.toBe(fnv1a32Integer(1));
  });
});
