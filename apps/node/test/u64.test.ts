import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { getS64, getU32, getU64, putU64 } from '../src/native/u64.js';

describe('64-bit ioctl fields as Numbers', () => {
  it('putU64 writes exactly what Buffer.writeBigUInt64LE writes, and getU64 reads it back', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: 0, max: 8 }), (value, offset) => {
      const ours = Buffer.alloc(16, 0xee);
      const node = Buffer.alloc(16, 0xee);
      putU64(ours, offset, value);
      node.writeBigUInt64LE(BigInt(value), offset);
      expect(ours.equals(node)).toBe(true);
      expect(getU64(ours, offset)).toBe(value);
    }), { numRuns: 2000 });
  });

  it('getS64 reads negative results (-errno) and getU32 reads unsigned words', () => {
    fc.assert(fc.property(fc.integer({ min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }), (value) => {
      const b = Buffer.alloc(8);
      b.writeBigInt64LE(BigInt(value), 0);
      expect(getS64(b, 0)).toBe(value);
    }), { numRuns: 2000 });
    const b = Buffer.alloc(4);
    b.writeUInt32LE(0xfedc_ba98, 0);
    expect(getU32(b, 0)).toBe(0xfedc_ba98);
  });
});
