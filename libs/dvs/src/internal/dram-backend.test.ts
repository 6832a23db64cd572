import { describe, expect, it } from 'vitest';
import { createDramBackend } from './dram-backend.js';
import { DvsError } from './errors.js';
import type { IoStatus } from './types.js';

function alloc(b: ReturnType<typeof createDramBackend>, size: number): [IoStatus, number] {
  let out: [IoStatus, number] = ['error', -2];
  b.alloc(size, (s, slab) => (out = [s, slab]));
  return out;
}

describe('dram backend', () => {
  it('allocates zeroed slabs synchronously and round-trips data', () => {
    const b = createDramBackend({ nodeId: 'local', capacityBytes: 128 });
    expect(b.nodeId).toBe('local');
    const [st, slab] = alloc(b, 64);
    expect(st).toBe('ok');
    expect(b.freeBytes()).toBe(64);
    const zero = new Uint8Array(8).fill(9);
    let rs: IoStatus | undefined;
    b.read(slab, 56, zero, (s) => (rs = s));
    expect(rs).toBe('ok');
    expect([...zero]).toEqual(new Array(8).fill(0));
    let ws: IoStatus | undefined;
    b.write(slab, 8, Uint8Array.of(1, 2, 3), (s) => (ws = s));
    expect(ws).toBe('ok');
    const back = new Uint8Array(3);
    b.read(slab, 8, back, () => undefined);
    expect([...back]).toEqual([1, 2, 3]);
  });

  it('refuses beyond capacity and gives capacity back on free', () => {
    const b = createDramBackend({ capacityBytes: 100 });
    expect(b.nodeId).toBe('dram');
    const [, s1] = alloc(b, 64);
    expect(alloc(b, 64)[0]).toBe('no-space');
    b.free(s1);
    expect(b.freeBytes()).toBe(100);
    expect(alloc(b, 64)[0]).toBe('ok');
    expect(alloc(b, 0)[0]).toBe('error');
  });

  it('completes out-of-bounds and unknown-slab I/O with error, changing nothing', () => {
    const b = createDramBackend({ capacityBytes: 64 });
    const [, slab] = alloc(b, 16);
    const statuses: IoStatus[] = [];
    b.write(slab, 10, new Uint8Array(8).fill(5), (s) => statuses.push(s));
    b.read(slab, -1, new Uint8Array(2), (s) => statuses.push(s));
    b.read(slab + 99, 0, new Uint8Array(2), (s) => statuses.push(s));
    expect(statuses).toEqual(['error', 'error', 'error']);
    const all = new Uint8Array(16);
    b.read(slab, 0, all, () => undefined);
    expect(all.every((x) => x === 0)).toBe(true);
  });

  it('validates capacity with a typed error', () => {
    expect(() => createDramBackend({ capacityBytes: -1 })).toThrow(DvsError);
  });
});
