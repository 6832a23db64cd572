import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VerbsError } from './errors.js';
import { FirstFitAllocator } from './slab-allocator.js';

describe('FirstFitAllocator', () => {
  it('allocates first fit, aligned, and merges holes on free', () => {
    const a = new FirstFitAllocator(16 * 4096);
    expect(a.allocate(1)).toBe(0);
    expect(a.allocate(4097)).toBe(4096);
    expect(a.allocate(4096)).toBe(3 * 4096);
    expect(a.freeBytes).toBe(12 * 4096);
    expect(a.free(4096)).toBe(true);
    expect(a.freeHoles()).toEqual([[4096, 8192], [4 * 4096, 12 * 4096]]);
    // First fit: the hole at 4096 takes a one-page range, not the larger one after it.
    expect(a.allocate(100)).toBe(4096);
    expect(a.free(0)).toBe(true);
    expect(a.free(4096)).toBe(true);
    expect(a.free(3 * 4096)).toBe(true);
    expect(a.freeHoles()).toEqual([[0, 16 * 4096]]);
    expect(a.allocatedCount).toBe(0);
  });

  it('refuses what does not fit, and unknown or double frees', () => {
    const a = new FirstFitAllocator(4 * 4096);
    expect(a.allocate(5 * 4096)).toBe(-1);
    expect(a.allocate(0)).toBe(-1);
    const x = a.allocate(2 * 4096);
    const y = a.allocate(2 * 4096);
    expect([x, y]).toEqual([0, 8192]);
    expect(a.allocate(1)).toBe(-1);
    expect(a.free(4096)).toBe(false);
    expect(a.free(x)).toBe(true);
    expect(a.free(x)).toBe(false);
    expect(a.largestFreeBytes).toBe(8192);
  });

  it('checks its options', () => {
    expect(() => new FirstFitAllocator(4096, 3)).toThrow(VerbsError);
    expect(() => new FirstFitAllocator(100)).toThrow(/multiple of 4096/);
    expect(new FirstFitAllocator(0).allocate(1)).toBe(-1);
  });

  it('never overlaps, stays in bounds and accounts every byte (property)', () => {
    const pages = 64;
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.record({ alloc: fc.integer({ min: 1, max: 9 * 4096 }) }), fc.record({ free: fc.nat() })), { maxLength: 80 }),
        (steps) => {
          const a = new FirstFitAllocator(pages * 4096);
          const live = new Map<number, number>();
          for (const step of steps) {
            if ('alloc' in step) {
              const offset = a.allocate(step.alloc);
              const size = Math.ceil(step.alloc / 4096) * 4096;
              if (offset < 0) {
                expect(a.largestFreeBytes).toBeLessThan(size);
                continue;
              }
              expect(offset % 4096).toBe(0);
              expect(offset + size).toBeLessThanOrEqual(pages * 4096);
              for (const [o, s] of live) expect(offset + size <= o || o + s <= offset).toBe(true);
              live.set(offset, size);
            } else if (live.size > 0) {
              const offsets = [...live.keys()];
              const offset = offsets[step.free % offsets.length];
              expect(a.free(offset)).toBe(true);
              live.delete(offset);
            }
            const used = [...live.values()].reduce((s, x) => s + x, 0);
            expect(a.freeBytes).toBe(pages * 4096 - used);
            const holes = a.freeHoles();
            expect(holes.reduce((s, [, size]) => s + size, 0)).toBe(a.freeBytes);
            for (let i = 1; i < holes.length; i += 1) expect(holes[i][0]).toBeGreaterThan(holes[i - 1][0] + holes[i - 1][1]);
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});
