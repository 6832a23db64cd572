import { LoopbackNetwork, type FabricStatus, type LoopbackFabric, type PeerInfo } from '@rackmem/krdma';
import { describe, expect, it } from 'vitest';
import { DvsRegion } from './region.js';
import { NodeRegistry } from './node-registry.js';
import { createRemoteBackend } from './remote-backend.js';
import type { Backend, IoStatus } from './types.js';

const SECRET = new TextEncoder().encode('dvs remote backend test secret!!');
const PAGE = 4096;
const SLAB = 16 * PAGE;

/** A loopback rack with a hand-run FIFO scheduler: one consumer, three donors. */
function rack() {
  const queue: (() => void)[] = [];
  let seed = 1;
  const network = new LoopbackNetwork({
    scheduler: { defer: (fn) => void queue.push(fn) },
    nonceSource: (into) => {
      for (let i = 0; i < into.length; i++) into[i] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
    },
  });
  const run = (): void => {
    for (let steps = 0; queue.length > 0; steps++) {
      if (steps > 5_000_000) throw new Error('queue does not drain');
      (queue.shift() as () => void)();
    }
  };
  const consumer = network.addNode({ nodeName: 'compute', secret: SECRET });
  const donors = ['m0', 'm1', 'm2'].map((nodeName) => network.addNode({ nodeName, secret: SECRET, donor: { capacityBytes: 64 * SLAB } }));
  const backends: Backend[] = donors.map((donor: LoopbackFabric) => {
    let peer: PeerInfo | null = null;
    consumer.connect({ host: donor.identity.nodeName, port: donor.port }, (status: FabricStatus, info: PeerInfo) => {
      expect(status).toBe('ok');
      peer = info;
    });
    run();
    return createRemoteBackend({ fabric: consumer, peer: (peer as unknown as PeerInfo).id as number, nodeId: donor.identity.nodeName, capacityBytes: 64 * SLAB });
  });
  return { network, run, donors, backends };
}

function page(value: number): Uint8Array {
  const bytes = new Uint8Array(PAGE);
  new DataView(bytes.buffer).setUint32(0, value, true);
  bytes[PAGE - 1] = value & 255;
  return bytes;
}

describe('the remote backend over the krdma Fabric (loopback)', () => {
  it('allocates slabs on donors by RPC and moves pages with one-sided reads and writes', () => {
    const r = rack();
    const region = new DvsRegion({ sizeBytes: 64 * PAGE, slabSizeBytes: SLAB, nodes: r.backends, replication: 2 });
    const statuses: IoStatus[] = [];
    for (let p = 0; p < 64; p++) region.writePage(p, page(p + 1000), (s) => statuses.push(s));
    r.run();
    expect(statuses.every((s) => s === 'ok')).toBe(true);
    expect(r.donors.map((d) => d.donor!.usedBytes).reduce((a, b) => a + b)).toBeGreaterThanOrEqual(2 * 4 * SLAB);
    for (let p = 0; p < 64; p++) {
      const into = new Uint8Array(PAGE);
      let status: IoStatus = 'error';
      region.readPage(p, into, (s) => (status = s));
      r.run();
      expect(status).toBe('ok');
      expect(new DataView(into.buffer).getUint32(0, true)).toBe(p + 1000);
      expect(into[PAGE - 1]).toBe((p + 1000) & 255);
    }
  });

  it('a killed donor yields peer-lost; with two replicas nothing is lost', () => {
    const r = rack();
    const registry = new NodeRegistry(r.backends);
    const lost: number[] = [];
    const region = new DvsRegion({ sizeBytes: 64 * PAGE, slabSizeBytes: SLAB, nodes: registry, replication: 2, listener: { pagesLost: (pages) => lost.push(...pages) } });
    for (let p = 0; p < 64; p++) region.writePage(p, page(p), () => {});
    r.run();
    r.network.kill(r.donors[0]);
    r.run();
    for (let p = 0; p < 64; p++) {
      const into = new Uint8Array(PAGE);
      let status: IoStatus = 'error';
      region.readPage(p, into, (s) => (status = s));
      r.run();
      expect(status).toBe('ok');
      expect(new DataView(into.buffer).getUint32(0, true)).toBe(p);
    }
    expect(lost).toEqual([]);
    expect(region.counters().replica_lost).toBeGreaterThan(0);
    // The killed donor freed what it lent: its backend no longer counts those slabs as used.
    expect(r.backends[0].freeBytes()).toBe(r.backends[0].capacityBytes());
  });

  it('with one replica, pages on a killed donor are reported lost and read as lost, never as zeros', () => {
    const r = rack();
    const lost = new Set<number>();
    const region = new DvsRegion({ sizeBytes: 64 * PAGE, slabSizeBytes: SLAB, nodes: new NodeRegistry(r.backends), replication: 1, listener: { pagesLost: (pages) => pages.forEach((p) => lost.add(p)) } });
    for (let p = 0; p < 64; p++) region.writePage(p, page(p), () => {});
    r.run();
    r.network.kill(r.donors[1]);
    const statuses = new Map<number, IoStatus>();
    for (let p = 0; p < 64; p++) region.readPage(p, new Uint8Array(PAGE), (s) => statuses.set(p, s));
    r.run();
    expect(lost.size).toBeGreaterThan(0);
    for (const [p, status] of statuses) expect(status).toBe(lost.has(p) ? 'lost' : 'ok');
  });
});
