import { describe, expect, it } from 'vitest';
import { DvsError } from './errors.js';
import { MemoryNodeSet } from './memory-node-set.js';
import type { IoStatus } from './types.js';

function twoNodes(delivery: 'immediate' | 'manual', maxPendingOps?: number): MemoryNodeSet {
  return new MemoryNodeSet({ nodes: [{ nodeId: 'a', capacityBytes: 256 }, { nodeId: 'b', capacityBytes: 256 }], delivery, maxPendingOps });
}

describe('MemoryNodeSet', () => {
  it('immediate mode completes inside the call; read after write returns the bytes', () => {
    const set = twoNodes('immediate');
    const a = set.backend('a');
    let slab = -1;
    a.alloc(64, (s, id) => {
      expect(s).toBe('ok');
      slab = id;
    });
    expect(slab).toBeGreaterThan(0);
    let ws: IoStatus | undefined;
    a.write(slab, 4, Uint8Array.of(7, 8), (s) => (ws = s));
    expect(ws).toBe('ok');
    const out = new Uint8Array(2);
    a.read(slab, 4, out, () => undefined);
    expect([...out]).toEqual([7, 8]);
    expect(set.usedBytes('a')).toBe(64);
    expect(a.freeBytes()).toBe(192);
  });

  it('manual mode queues ops and delivers them in any order', () => {
    const set = twoNodes('manual');
    const a = set.backend('a');
    let slab = -1;
    a.alloc(64, (_s, id) => (slab = id));
    expect(set.pendingCount()).toBe(1);
    expect(set.pendingOp(0)).toEqual({ nodeId: 'a', kind: 'alloc' });
    set.deliver(0);
    const order: string[] = [];
    a.write(slab, 0, Uint8Array.of(1), () => order.push('w1'));
    const r = new Uint8Array(1);
    a.read(slab, 0, r, () => order.push(`r=${r[0]}`));
    a.write(slab, 0, Uint8Array.of(2), () => order.push('w2'));
    set.deliver(1); // the read first: sees zero
    set.deliver(1); // w2
    set.deliver(0); // w1 last: its bytes win
    expect(order).toEqual(['r=0', 'w2', 'w1']);
    const after = new Uint8Array(1);
    a.read(slab, 0, after, () => undefined);
    set.deliverAll();
    expect(after[0]).toBe(1);
    expect(() => set.deliver(0)).toThrow(DvsError);
  });

  it('fail completes pending and future ops with peer-lost; restart comes back empty', () => {
    const set = twoNodes('manual');
    const a = set.backend('a');
    let slab = -1;
    a.alloc(64, (_s, id) => (slab = id));
    set.deliverAll();
    const got: IoStatus[] = [];
    a.write(slab, 0, Uint8Array.of(1), (s) => got.push(s));
    set.fail('a');
    expect(set.isFailed('a')).toBe(true);
    expect(a.freeBytes()).toBe(0);
    a.read(slab, 0, new Uint8Array(1), (s) => got.push(s));
    a.alloc(8, (s) => got.push(s));
    set.deliverAll();
    expect(got).toEqual(['peer-lost', 'peer-lost', 'peer-lost']);
    a.read(slab, 0, new Uint8Array(1), (s) => got.push(s)); // issued while failed, delivered after restart
    set.restart('a');
    set.deliverAll();
    expect(got[3]).toBe('peer-lost');
    expect(set.usedBytes('a')).toBe(0);
    a.read(slab, 0, new Uint8Array(1), (s) => got.push(s)); // stale slab of the old incarnation
    set.deliverAll();
    expect(got[4]).toBe('lost');
    expect(set.backend('b').freeBytes()).toBe(256);
  });

  it('bounds the pending queue with a typed error', () => {
    const set = twoNodes('manual', 2);
    const a = set.backend('a');
    a.alloc(8, () => undefined);
    a.alloc(8, () => undefined);
    try {
      a.alloc(8, () => undefined);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(DvsError);
      expect((e as DvsError).code).toBe('pending-queue-full');
    }
  });

  it('reports no-space and out-of-bounds errors', () => {
    const set = twoNodes('immediate');
    const b = set.backend('b');
    const got: IoStatus[] = [];
    b.alloc(512, (s) => got.push(s));
    let slab = -1;
    b.alloc(16, (_s, id) => (slab = id));
    b.write(slab, 15, Uint8Array.of(1, 2), (s) => got.push(s));
    b.free(slab);
    b.read(slab, 0, new Uint8Array(1), (s) => got.push(s));
    expect(got).toEqual(['no-space', 'error', 'error']);
    expect(() => set.fail('zz')).toThrow(DvsError);
  });
});
