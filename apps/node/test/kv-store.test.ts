import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { KvError } from '../src/kv/errors.js';
import { MAX_ENTRY_BYTES, SIZE_CLASS_BYTES, computeLayout, runBytesOf, sizeClassOf } from '../src/kv/layout.js';
import { KvStore } from '../src/kv/store.js';
import { PagedRegion } from '../src/region/paged-region.js';
import { describeWithUffd } from './uffd-available.js';

const MiB = 1 << 20;
const enc = new TextEncoder();
const k = (s: string): Uint8Array => enc.encode(s);

function valueFor(i: number, length: number, salt = 0): Uint8Array {
  const v = new Uint8Array(length);
  let x = (i * 2654435761 + salt * 40503 + 1) >>> 0;
  for (let j = 0; j < length; j++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    v[j] = x & 255;
  }
  return v;
}

/** Byte equality without vitest's slow element-wise diff of large arrays. */
function same(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  return Buffer.compare(a, b) === 0;
}

describe('kv layout', () => {
  it('size classes are 16-byte multiples, increasing, and the last holds the largest entry', () => {
    for (let i = 1; i < SIZE_CLASS_BYTES.length; i++) expect(SIZE_CLASS_BYTES[i]).toBeGreaterThan(SIZE_CLASS_BYTES[i - 1]);
    expect(SIZE_CLASS_BYTES.every((s) => s % 16 === 0)).toBe(true);
    expect(SIZE_CLASS_BYTES[SIZE_CLASS_BYTES.length - 1]).toBeGreaterThanOrEqual(MAX_ENTRY_BYTES);
    fc.assert(fc.property(fc.integer({ min: 9, max: MAX_ENTRY_BYTES }), (bytes) => {
      const c = sizeClassOf(bytes);
      return SIZE_CLASS_BYTES[c] >= bytes && (c === 0 || SIZE_CLASS_BYTES[c - 1] < bytes) && (bytes < 128 || SIZE_CLASS_BYTES[c] <= bytes * 1.125 + 16);
    }), { numRuns: 500 });
  });

  it('rejects regions too small for the index and one chunk', () => {
    expect(computeLayout(MiB, 1024)).toMatch(/cannot hold an index/);
    const layout = computeLayout(2 * MiB, 1024);
    expect(typeof layout).toBe('object');
    if (typeof layout === 'object') {
      expect(layout.heapStartBytes).toBe(64 * 1024); // 4 KiB header + 2048 slots of 8 bytes, rounded to 64 KiB
      expect(layout.heapBytes).toBe(2 * MiB - 64 * 1024);
      expect(2 ** layout.slotCountLog2 * 0.75).toBeGreaterThanOrEqual(1024);
    }
    expect(runBytesOf(0)).toBe(64 * 1024);
    expect(runBytesOf(SIZE_CLASS_BYTES.length - 1)).toBe(MiB);
    for (let c = 0; c < SIZE_CLASS_BYTES.length; c++) expect(Math.floor(runBytesOf(c) / SIZE_CLASS_BYTES[c])).toBeGreaterThanOrEqual(15);
  });
});

describe('kv store over plain memory', () => {
  const fresh = (sizeBytes = 4 * MiB, maxKeys?: number): KvStore => KvStore.format([new ArrayBuffer(sizeBytes)], { maxKeys });

  it('puts, gets, overwrites (same and other size class) and deletes', () => {
    const store = fresh();
    expect(store.get(k('a'))).toBeNull();
    expect(store.put(k('a'), k('one'))).toBe('created');
    expect(store.put(k('b'), new Uint8Array(0))).toBe('created');
    expect(new TextDecoder().decode(store.get(k('a'))!)).toBe('one');
    expect(store.get(k('b'))).toEqual(new Uint8Array(0));
    expect(store.put(k('a'), k('two'))).toBe('replaced');
    expect(new TextDecoder().decode(store.get(k('a'))!)).toBe('two');
    const big = valueFor(1, 65536);
    expect(store.put(k('a'), big)).toBe('replaced');
    expect(same(store.get(k('a')), big)).toBe(true);
    expect(store.size).toBe(2);
    expect(store.delete(k('a'))).toBe(true);
    expect(store.delete(k('a'))).toBe(false);
    expect(store.get(k('a'))).toBeNull();
    expect(store.size).toBe(1);
    expect(store.check()).toEqual([]);
    const stats = store.stats();
    expect(stats.keys).toBe(1);
    expect(stats.liveValueBytes).toBe(0);
    expect(stats.liveKeyBytes).toBe(1);
  });

  it('returns a copy: changing it does not change the store', () => {
    const store = fresh();
    store.put(k('x'), k('abc'));
    const got = store.get(k('x'))!;
    got[0] = 0;
    expect(new TextDecoder().decode(store.get(k('x'))!)).toBe('abc');
  });

  it('rejects bad keys and values with typed errors and changes nothing', () => {
    const store = fresh();
    store.put(k('keep'), k('v'));
    const expectCode = (fn: () => unknown, code: string, status: number) => {
      try {
        fn();
        expect.fail('expected a KvError');
      } catch (error) {
        expect(error).toBeInstanceOf(KvError);
        expect((error as KvError).code).toBe(code);
        expect((error as KvError).status).toBe(status);
      }
    };
    expectCode(() => store.put(new Uint8Array(0), k('v')), 'invalid-key', 400);
    expectCode(() => store.put(new Uint8Array(257), k('v')), 'invalid-key', 400);
    expectCode(() => store.get(new Uint8Array(0)), 'invalid-key', 400);
    expectCode(() => store.delete(new Uint8Array(300)), 'invalid-key', 400);
    expectCode(() => store.put(k('big'), new Uint8Array(65537)), 'value-too-large', 413);
    expect(store.put(new Uint8Array(256).fill(7), new Uint8Array(65536))).toBe('created');
    expect(store.size).toBe(2);
    expect(store.check()).toEqual([]);
  });

  it('index full: a typed 507 error, nothing evicted, room again after a delete', () => {
    const store = fresh(4 * MiB, 100);
    for (let i = 0; i < 100; i++) store.put(k(`key-${i}`), valueFor(i, 10));
    let error: unknown;
    try {
      store.put(k('one-more'), k('v'));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(KvError);
    expect((error as KvError).code).toBe('index-full');
    expect((error as KvError).status).toBe(507);
    expect(store.put(k('key-5'), k('replacing is fine when full'))).toBe('replaced');
    for (let i = 0; i < 100; i++) if (i !== 5) expect(store.get(k(`key-${i}`))).toEqual(valueFor(i, 10));
    store.delete(k('key-0'));
    expect(store.put(k('one-more'), k('v'))).toBe('created');
    expect(store.stats().rejectedFull).toBe(1);
    expect(store.check()).toEqual([]);
  });

  it('heap full: a typed 507 error once every run is taken, all earlier values intact', () => {
    const store = fresh(2 * MiB + 64 * 1024, 1000); // 64 KiB of header and index, a 2 MiB heap
    const value = valueFor(0, 60_000); // one 61440-byte block each: 17 per 1 MiB run
    let stored = 0;
    let error: unknown;
    for (let i = 0; i < 100 && error === undefined; i++) {
      try {
        store.put(k(`v${i}`), value);
        stored++;
      } catch (e) {
        error = e;
      }
    }
    expect((error as KvError).code).toBe('heap-full');
    expect(stored).toBe(2 * Math.floor(MiB / 61440));
    expect(store.size).toBe(stored);
    for (let i = 0; i < stored; i++) expect(same(store.get(k(`v${i}`)), value)).toBe(true);
    // a replacement into a full size class fails without losing the old value
    expect(() => store.put(k('v0'), valueFor(1, 1000))).toThrow(KvError);
    expect(same(store.get(k('v0')), value)).toBe(true);
    // a freed block is reused
    store.delete(k('v3'));
    expect(store.put(k('again'), value)).toBe('created');
    expect(store.check()).toEqual([]);
  });

  it('spans several buffers (blocks addressed across buffer boundaries)', () => {
    // PagedRegion cuts regions into 1 GiB buffers; the same code path with 2 MiB buffers
    const buffers = [new ArrayBuffer(2 * MiB), new ArrayBuffer(2 * MiB), new ArrayBuffer(MiB)];
    const store = KvStore.format(buffers, { maxKeys: 1024, bufferBytes: 2 * MiB });
    const value = valueFor(9, 65000); // 65536-byte blocks, 1 MiB runs of 16: [64 KiB, 1088 KiB), then 2, 3 and 4 MiB (skipping the rest of buffer 0)
    let i = 0;
    expect(() => {
      for (;;) store.put(k(`big-${i++}`), value);
    }).toThrow(/heap/);
    i--;
    expect(i).toBe(4 * 16);
    for (let j = 0; j < i; j++) expect(same(store.get(k(`big-${j}`)), value)).toBe(true);
    expect(new Uint8Array(buffers[2]).some((b) => b !== 0)).toBe(true);
    expect(store.check()).toEqual([]);
    expect(() => KvStore.format([new ArrayBuffer(MiB), new ArrayBuffer(MiB)], { bufferBytes: 2 * MiB })).toThrow(/every buffer but the last/);
  });

  it('behaves like a Map under random operations (model test)', () => {
    const keyArb = fc.integer({ min: 0, max: 60 }).map((i) => `k${i}`);
    const op = fc.oneof(
      fc.record({ kind: fc.constant('put' as const), key: keyArb, len: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 20_000 })), salt: fc.nat(1000) }),
      fc.record({ kind: fc.constant('del' as const), key: keyArb }),
      fc.record({ kind: fc.constant('get' as const), key: keyArb }),
    );
    fc.assert(fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
      const store = KvStore.format([new ArrayBuffer(8 * MiB)], { maxKeys: 64 });
      const model = new Map<string, Uint8Array>();
      for (const o of ops) {
        if (o.kind === 'put') {
          const v = valueFor(o.len, o.len, o.salt);
          expect(store.put(k(o.key), v)).toBe(model.has(o.key) ? 'replaced' : 'created');
          model.set(o.key, v);
        } else if (o.kind === 'del') {
          expect(store.delete(k(o.key))).toBe(model.delete(o.key));
        } else {
          expect(same(store.get(k(o.key)), model.get(o.key) ?? null)).toBe(true);
        }
      }
      expect(store.size).toBe(model.size);
      for (const [key, v] of model) expect(same(store.get(k(key)), v)).toBe(true);
      expect(store.check()).toEqual([]);
    }), { numRuns: 60 });
  });

  it('keeps probe runs intact under heavy collisions and deletes (16-slot index)', () => {
    const store = fresh(2 * MiB, 12);
    const model = new Map<string, number>();
    let seed = 1;
    for (let step = 0; step < 4000; step++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const key = `c${seed % 20}`;
      if ((seed >>> 8) % 3 === 0) {
        expect(store.delete(k(key))).toBe(model.delete(key));
      } else if (model.has(key) || model.size < 12) {
        store.put(k(key), valueFor(step, 8));
        model.set(key, step);
      }
      if (step % 500 === 0) expect(store.check()).toEqual([]);
    }
    for (const [key, step] of model) expect(store.get(k(key))).toEqual(valueFor(step, 8));
    expect(store.check()).toEqual([]);
  });
});

describeWithUffd('kv store in a paged region', () => {
  const open: PagedRegion[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((r) => r.close()));
  });

  it('every value survives eviction: 6000 keys in a 16 MiB region with 2 MiB local', async () => {
    const region = await PagedRegion.open({ name: 'kv-evict', sizeBytes: 16 * MiB, localBytes: 2 * MiB, policySet: 'improved', storage: { kind: 'local' } });
    open.push(region);
    const store = KvStore.format(region.arrayBuffers(), { maxKeys: 8000 });
    const lengthOf = (i: number): number => 200 + ((i * 37) % 900);
    for (let i = 0; i < 6000; i++) store.put(k(`key:${i}`), valueFor(i, lengthOf(i)));
    for (let i = 0; i < 6000; i += 3) store.put(k(`key:${i}`), valueFor(i, lengthOf(i) + 500, 1)); // overwrites, some change class
    for (let i = 1; i < 6000; i += 7) store.delete(k(`key:${i}`));
    let bad = 0;
    for (let i = 0; i < 6000; i++) {
      const got = store.get(k(`key:${i}`));
      const want = i % 7 === 1 ? null : i % 3 === 0 ? valueFor(i, lengthOf(i) + 500, 1) : valueFor(i, lengthOf(i));
      if (!same(got, want)) bad++;
    }
    expect(bad).toBe(0);
    expect(store.check()).toEqual([]);
    await region.sync();
    const { counters, gauges } = region.stats();
    expect(counters.io_write).toBeGreaterThan(0); // pages really left local memory
    expect(counters.io_read).toBeGreaterThan(0); // and came back
    expect(gauges.page_count).toBeLessThanOrEqual(512);
    expect(counters.poisoned).toBe(0);
  });
});
