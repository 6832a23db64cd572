// The per-peer queue of a VerbsFabric while its queue pair is being set up (no endpoint needed).
import { describe, expect, it } from 'vitest';
import type { FabricStatus, RemoteSlab } from '../../internal/fabric.js';
import { FakeVerbsNic } from './fake-nic.js';
import { RegisteredSlabMemory } from './slab-memory.js';
import { VerbsLink, newLinkCounters, type VerbsLinkOptions } from './verbs-link.js';

type Done = [FabricStatus, string | null];
const slab: RemoteSlab = { peer: 7, slabId: 1, sizeBytes: 8 * 4096, rkey: 0x42, remoteAddress: 0x10000 };
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

function link(extra: Partial<VerbsLinkOptions> = {}) {
  let nowNs = 0;
  const viaTcp: string[] = [];
  const l = new VerbsLink({
    slotBytes: 4096, maxBatch: 4, maxPending: 3, maxVectorEntries: 8, maxIoBytes: 16 * 4096, queueTimeoutNs: 1000, nowNs: () => nowNs,
    defer: (fn) => void setImmediate(fn), counters: newLinkCounters(),
    viaTcp: (kind, ops, done) => {
      viaTcp.push(`${kind}:${ops.length}`);
      setImmediate(() => done('ok', null));
    },
    ...extra,
  });
  return { l, viaTcp, at: (ns: number) => void (nowNs = ns) };
}

describe('VerbsLink (queue)', () => {
  it('queues while connecting, times out exactly once at the deadline, and never completes synchronously', async () => {
    const { l, at } = link();
    const got: Done[] = [];
    l.read([{ slab, offsetBytes: 0, into: new Uint8Array(4096) }], (...x) => got.push(x));
    at(500);
    l.write([{ slab, offsetBytes: 0, data: new Uint8Array(3 * 4096) }], (...x) => got.push(x));
    expect([l.pending, l.queued]).toEqual([2, 2]);
    at(999);
    l.expire(999);
    expect(got).toEqual([]);
    at(1000);
    l.expire(1000);
    expect(got).toEqual([['timeout', expect.stringMatching(/queue pair to be set up/) as unknown as string]]);
    at(2000);
    l.expire(2000);
    l.expire(3000);
    expect(got.map((d) => d[0])).toEqual(['timeout', 'timeout']);
    expect([l.pending, l.queued]).toEqual([0, 0]);
  });

  it('bounds pending requests (busy), checks ranges and limits (rejected), closes with peer-lost', async () => {
    const { l } = link();
    const got: Done[] = [];
    const one = () => ({ slab, offsetBytes: 0, into: new Uint8Array(4096) });
    for (let i = 0; i < 4; i += 1) l.read([one()], (...x) => got.push(x));
    l.read([{ slab, offsetBytes: 8 * 4096 - 1, into: new Uint8Array(2) }], (...x) => got.push(x));
    l.read(new Array(9).fill(0).map(one), (...x) => got.push(x));
    l.read([{ slab: { ...slab, rkey: 0 }, offsetBytes: 0, into: new Uint8Array(1) }], (...x) => got.push(x));
    expect(got).toEqual([]);
    await tick();
    expect(got.map((d) => d[0])).toEqual(['busy', 'rejected', 'rejected', 'rejected']);
    l.close('the peer went away');
    expect(got).toHaveLength(4);
    await tick();
    expect(got.slice(4)).toEqual([['peer-lost', 'the peer went away'], ['peer-lost', 'the peer went away'], ['peer-lost', 'the peer went away']]);
    l.read([one()], (...x) => got.push(x));
    await tick();
    expect(got[7][0]).toBe('peer-lost');
  });

  it('sends what waits, and what comes later, over TCP once the peer turns out to have no verbs', async () => {
    const { l, viaTcp } = link();
    const got: Done[] = [];
    l.write([{ slab, offsetBytes: 0, data: new Uint8Array(4096) }, { slab, offsetBytes: 4096, data: new Uint8Array(4096) }], (...x) => got.push(x));
    l.useTcp();
    l.read([{ slab, offsetBytes: 0, into: new Uint8Array(4096) }], (...x) => got.push(x));
    await tick();
    expect(viaTcp).toEqual(['write:2', 'read:1']);
    expect(got).toEqual([['ok', null], ['ok', null]]);
    expect(l.state).toBe('tcp');
  });

  it('refuses what waits and what comes later (once each, never synchronously) until it moves to TCP', async () => {
    const { l, viaTcp } = link();
    const got: Done[] = [];
    l.write([{ slab, offsetBytes: 0, data: new Uint8Array(3 * 4096) }], (...x) => got.push(x));
    l.refuse('rejected', 'no queue pair');
    expect(got).toEqual([]);
    l.read([{ slab, offsetBytes: 0, into: new Uint8Array(4096) }], (...x) => got.push(x));
    l.refuse('rejected', 'still no queue pair');
    await tick();
    expect(got).toEqual([['rejected', 'no queue pair'], ['rejected', 'no queue pair']]);
    expect([l.state, l.pending, l.queued]).toEqual(['refusing', 0, 0]);
    l.useTcp();
    l.read([{ slab, offsetBytes: 0, into: new Uint8Array(4096) }], (...x) => got.push(x));
    await tick();
    expect(viaTcp).toEqual(['read:1']);
    expect(got.slice(2)).toEqual([['ok', null]]);
    l.refuse('rejected', 'not from tcp');
    expect(l.state).toBe('tcp');
  });
});

describe('RegisteredSlabMemory', () => {
  it('carves zeroed slabs out of registered chunks up to the capacity, reuses freed ranges, and refuses beyond', () => {
    const nic = new FakeVerbsNic();
    try {
      const memory = new RegisteredSlabMemory({ registrar: nic.registrar(), capacityBytes: 5 * 4096, chunkBytes: 2 * 4096 });
      const a = memory.allocate(2 * 4096);
      const b = memory.allocate(4096);
      if (typeof a === 'string' || typeof b === 'string') throw new Error('refused');
      expect(a.rkey).not.toBe(b.rkey); // two chunks
      expect(memory.counters()).toMatchObject({ chunks: 2, registeredBytes: 4 * 4096, slabs: 2 });
      a.memory.fill(9);
      memory.release(a.memory);
      const again = memory.allocate(4096);
      if (typeof again === 'string') throw new Error('refused');
      expect([again.rkey, again.remoteAddress]).toEqual([a.rkey, a.remoteAddress]);
      expect(again.memory.every((x) => x === 0)).toBe(true);
      expect(memory.allocate(3 * 4096)).toMatch(/exceeds the registered chunk/);
      expect(memory.allocate(2 * 4096)).toMatch(/no free range/);
      // The holes left in both chunks, then the last (partial) chunk, then nothing.
      for (let i = 0; i < 3; i += 1) expect(memory.allocate(4096)).not.toBeTypeOf('string');
      expect(memory.allocate(4096)).toMatch(/no free range/);
      expect(memory.counters()).toMatchObject({ chunks: 3, registeredBytes: 5 * 4096, refused: 3 });
      memory.close();
      expect(memory.counters().chunks).toBe(0);
    } finally {
      nic.close();
    }
  });
});
