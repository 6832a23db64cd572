import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DonorError, DonorService } from './donor.js';

function slabOf(result: ReturnType<DonorService['alloc']>) {
  if (result instanceof DonorError) throw result;
  return result;
}

describe('donor service', () => {
  it('refuses allocations beyond its capacity with no-space', () => {
    const donor = new DonorService({ capacityBytes: 3 * 4096 });
    slabOf(donor.alloc('a', 4096));
    slabOf(donor.alloc('b', 8192));
    const refused = donor.alloc('a', 1);
    expect(refused).toBeInstanceOf(DonorError);
    expect((refused as DonorError).code).toBe('no-space');
    expect((refused as DonorError).message).toMatch(/0 of 12288 bytes free/);
    expect(donor.stats('a')).toEqual({ capacityBytes: 12288, usedBytes: 12288, slabCount: 2, peerUsedBytes: 4096 });
  });

  it('refuses bad sizes and slabs above maxSlabBytes or maxSlabs', () => {
    const donor = new DonorService({ capacityBytes: 1 << 20, maxSlabBytes: 4096, maxSlabs: 2 });
    for (const size of [0, -1, 1.5, 8192]) expect((donor.alloc('a', size) as DonorError).code).toBe('bad-request');
    slabOf(donor.alloc('a', 10));
    slabOf(donor.alloc('a', 10));
    expect((donor.alloc('a', 10) as DonorError).code).toBe('no-space');
  });

  it('serves a peer only its own slabs', () => {
    const donor = new DonorService({ capacityBytes: 1 << 16 });
    const slab = slabOf(donor.alloc('a', 4096));
    expect(donor.write('a', slab.slabId, 0, Uint8Array.of(1, 2, 3))).toBeNull();
    expect(donor.write('b', slab.slabId, 0, Uint8Array.of(9))?.code).toBe('not-owner');
    expect((donor.read('b', slab.slabId, 0, 3) as DonorError).code).toBe('not-owner');
    expect(donor.free('b', slab.slabId)?.code).toBe('not-owner');
    expect([...(donor.read('a', slab.slabId, 0, 3) as Uint8Array)]).toEqual([1, 2, 3]);
    expect((donor.read('a', 999, 0, 1) as DonorError).code).toBe('unknown-slab');
    expect(donor.free('a', slab.slabId)).toBeNull();
    expect(donor.free('a', slab.slabId)?.code).toBe('unknown-slab');
  });

  it('bounds-checks every offset and length', () => {
    const donor = new DonorService({ capacityBytes: 1 << 16 });
    const { slabId } = slabOf(donor.alloc('a', 100));
    expect(donor.read('a', slabId, 0, 100)).toBeInstanceOf(Uint8Array);
    for (const [offset, length] of [[1, 100], [100, 1], [-1, 1], [0.5, 1], [2 ** 53, 1], [0, 101]]) {
      expect((donor.read('a', slabId, offset, length) as DonorError).code).toBe('bad-request');
    }
    expect(donor.write('a', slabId, 99, Uint8Array.of(1, 2))?.code).toBe('bad-request');
  });

  it('checks every entry of a vectored write before writing any', () => {
    const donor = new DonorService({ capacityBytes: 1 << 16 });
    const a = slabOf(donor.alloc('a', 64));
    const b = slabOf(donor.alloc('b', 64));
    const refused = donor.writev('a', [
      { slabId: a.slabId, offsetBytes: 0, data: Uint8Array.of(7) },
      { slabId: b.slabId, offsetBytes: 0, data: Uint8Array.of(7) },
    ]);
    expect(refused?.code).toBe('not-owner');
    expect(a.memory[0]).toBe(0);
    expect(donor.writev('a', [{ slabId: a.slabId, offsetBytes: 60, data: Uint8Array.of(1, 2, 3, 4) }])).toBeNull();
    const views = donor.readv('a', [{ slabId: a.slabId, offsetBytes: 60, lengthBytes: 4 }]) as Uint8Array[];
    expect([...views[0]]).toEqual([1, 2, 3, 4]);
    expect((donor.readv('a', [{ slabId: a.slabId, offsetBytes: 61, lengthBytes: 4 }]) as DonorError).code).toBe('bad-request');
  });

  it('frees all of a peer slabs when the peer is gone, unless configured not to', () => {
    const donor = new DonorService({ capacityBytes: 1 << 16 });
    slabOf(donor.alloc('a', 100));
    slabOf(donor.alloc('a', 200));
    slabOf(donor.alloc('b', 50));
    expect(donor.peerGone('a')).toBe(300);
    expect(donor.stats()).toMatchObject({ usedBytes: 50, slabCount: 1 });
    const keeping = new DonorService({ capacityBytes: 1 << 16, freeOnPeerLoss: false });
    slabOf(keeping.alloc('a', 100));
    expect(keeping.peerGone('a')).toBe(0);
    expect(keeping.slabsOf('a')).toHaveLength(1);
  });

  it('hands out zeroed memory, also after a slab was freed and its space reused', () => {
    const donor = new DonorService({ capacityBytes: 64 });
    const first = slabOf(donor.alloc('a', 64));
    donor.write('a', first.slabId, 0, new Uint8Array(64).fill(0xaa));
    donor.free('a', first.slabId);
    const second = slabOf(donor.alloc('b', 64));
    expect(second.slabId).not.toBe(first.slabId);
    expect([...(donor.read('b', second.slabId, 0, 64) as Uint8Array)].every((byte) => byte === 0)).toBe(true);
  });

  it('keeps its accounting exact under random operations', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('alloc' as const), owner: fc.constantFrom('a', 'b', 'c'), size: fc.integer({ min: -1, max: 3000 }) }),
      fc.record({ kind: fc.constant('free' as const), owner: fc.constantFrom('a', 'b', 'c'), pick: fc.nat() }),
      fc.record({ kind: fc.constant('gone' as const), owner: fc.constantFrom('a', 'b', 'c') }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const donor = new DonorService({ capacityBytes: 10_000 });
        const live = new Map<number, { owner: string; size: number }>();
        for (const o of ops) {
          if (o.kind === 'alloc') {
            const r = donor.alloc(o.owner, o.size);
            const used = [...live.values()].reduce((s, x) => s + x.size, 0);
            if (o.size > 0 && used + o.size <= 10_000) {
              expect(r).not.toBeInstanceOf(DonorError);
              live.set((r as { slabId: number }).slabId, { owner: o.owner, size: o.size });
            } else expect(r).toBeInstanceOf(DonorError);
          } else if (o.kind === 'free') {
            const ids = [...live.keys()];
            if (ids.length === 0) continue;
            const id = ids[o.pick % ids.length];
            const result = donor.free(o.owner, id);
            if (live.get(id)?.owner === o.owner) {
              expect(result).toBeNull();
              live.delete(id);
            } else expect(result?.code).toBe('not-owner');
          } else {
            donor.peerGone(o.owner);
            for (const [id, x] of live) if (x.owner === o.owner) live.delete(id);
          }
          const used = [...live.values()].reduce((s, x) => s + x.size, 0);
          expect(donor.usedBytes).toBe(used);
          expect(donor.stats().slabCount).toBe(live.size);
          expect(used).toBeLessThanOrEqual(10_000);
        }
      }),
      { numRuns: 100 },
    );
  });

  it('carves slabs from slab memory: rkey and address per slab, memory given back on free and peer loss, no-space when it has none', () => {
    const arena = new Uint8Array(4 * 4096);
    const lent = new Map<Uint8Array, number>();
    const released: number[] = [];
    const donor = new DonorService({
      capacityBytes: 1 << 20,
      slabMemory: {
        allocate: (sizeBytes) => {
          const offset = lent.size * 4096;
          if (offset + sizeBytes > arena.length) return 'the registered region is full';
          const memory = arena.subarray(offset, offset + sizeBytes);
          lent.set(memory, offset);
          return { memory, rkey: 0x77, remoteAddress: 0x1000 + offset };
        },
        release: (memory) => void released.push(lent.get(memory) ?? -1),
      },
    });
    const a = slabOf(donor.alloc('a', 4096));
    const b = slabOf(donor.alloc('b', 4096));
    expect([a.rkey, a.remoteAddress, b.remoteAddress]).toEqual([0x77, 0x1000, 0x2000]);
    expect(donor.write('a', a.slabId, 5, Uint8Array.of(9))).toBeNull();
    expect(arena[5]).toBe(9);
    expect(donor.free('a', a.slabId)).toBeNull();
    expect(released).toEqual([0]);
    slabOf(donor.alloc('b', 4096));
    donor.peerGone('b');
    expect(released.sort()).toEqual([0, 4096, 8192]);
    const refused = donor.alloc('c', 4 * 4096) as DonorError;
    expect(refused.code).toBe('no-space');
    expect(refused.message).toMatch(/registered region is full; place the slab on another node/);
    expect(donor.usedBytes).toBe(0);
  });

  it('reports rkey and address 0 without slab memory', () => {
    const slab = slabOf(new DonorService({ capacityBytes: 8192 }).alloc('a', 4096));
    expect([slab.rkey, slab.remoteAddress]).toEqual([0, 0]);
  });
});
