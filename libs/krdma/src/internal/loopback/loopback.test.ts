import { describe, expect, it } from 'vitest';
import { checksum, makeRack, OTHER_SECRET, SECRET, type Rack } from '../../../test/harness.js';
import type { FabricStatus, PeerEvent, PeerInfo, RemoteSlab, RemoteStats } from '../fabric.js';
import { nodeHash } from '../identity.js';
import type { LoopbackFabric } from './network.js';

const PAGE = 4096;
const MB = 1 << 20;

function connect(rack: Rack, from: LoopbackFabric, to: LoopbackFabric): PeerInfo {
  const [status, peer, reason] = rack.call<[FabricStatus, PeerInfo, string | null]>((done) => from.connect({ host: to.identity.nodeName, port: to.port }, done));
  expect(reason).toBeNull();
  expect(status).toBe('ok');
  return peer;
}

function alloc(rack: Rack, node: LoopbackFabric, peer: number, sizeBytes: number): RemoteSlab {
  const [status, slab, reason] = rack.call<[FabricStatus, RemoteSlab | null, string | null]>((done) => node.allocSlab(peer, sizeBytes, done));
  expect([status, reason]).toEqual(['ok', null]);
  return slab as RemoteSlab;
}

function threeNodes(rack: Rack) {
  const a = rack.network.addNode({ nodeName: 'node-a', secret: SECRET, donor: { capacityBytes: 4 * MB } });
  const b = rack.network.addNode({ nodeName: 'node-b', secret: SECRET, donor: { capacityBytes: 4 * MB } });
  const c = rack.network.addNode({ nodeName: 'node-c', secret: SECRET, donor: { capacityBytes: 1 * MB } });
  return { a, b, c };
}

describe('loopback transport', () => {
  it('allocates, writes, reads back with checksums, and frees across a 3-node rack', () => {
    const rack = makeRack();
    const { a, b, c } = threeNodes(rack);
    const toB = connect(rack, a, b);
    const toC = connect(rack, a, c);
    expect(toB).toMatchObject({ id: nodeHash('node-b'), nodeName: 'node-b', state: 'up', direction: 'outbound' });
    expect(b.peers()).toEqual([expect.objectContaining({ id: nodeHash('node-a'), nodeName: 'node-a', state: 'up', direction: 'inbound' })]);

    const slabs = [alloc(rack, a, toB.id!, MB), alloc(rack, a, toB.id!, MB), alloc(rack, a, toC.id!, MB)];
    expect(b.donor?.usedBytes).toBe(2 * MB);
    const written = new Map<string, number>();
    for (let i = 0; i < 48; i++) {
      const slab = slabs[rack.random(slabs.length)];
      const offset = rack.random(MB / PAGE) * PAGE;
      const page = new Uint8Array(PAGE).map(() => rack.random(256));
      const [status] = rack.call<[FabricStatus]>((done) => a.write(slab.peer, slab, offset, page, done));
      expect(status).toBe('ok');
      written.set(`${slab.peer}/${slab.slabId}/${offset}`, checksum(page));
    }
    for (const [key, sum] of written) {
      const [peer, slabId, offset] = key.split('/').map(Number);
      const slab = slabs.find((s) => s.peer === peer && s.slabId === slabId)!;
      const into = new Uint8Array(PAGE);
      const [status] = rack.call<[FabricStatus]>((done) => a.read(peer, slab, offset, into, done));
      expect(status).toBe('ok');
      expect(checksum(into)).toBe(sum);
    }
    for (const slab of slabs) expect(rack.call<[FabricStatus]>((done) => a.freeSlab(slab.peer, slab, done))[0]).toBe('ok');
    expect(b.donor?.usedBytes).toBe(0);
    expect(c.donor?.usedBytes).toBe(0);
  });

  it('moves batches of pages with vectored reads and writes', () => {
    const rack = makeRack();
    const { a, b } = threeNodes(rack);
    const peer = connect(rack, a, b).id!;
    const s1 = alloc(rack, a, peer, 64 * PAGE);
    const s2 = alloc(rack, a, peer, 64 * PAGE);
    const pages = Array.from({ length: 32 }, (_, i) => ({ slab: i % 2 ? s1 : s2, offsetBytes: (i >> 1) * PAGE, data: new Uint8Array(PAGE).fill(i + 1) }));
    expect(rack.call<[FabricStatus]>((done) => a.writev(peer, pages, done))[0]).toBe('ok');
    const reads = pages.map((p) => ({ slab: p.slab, offsetBytes: p.offsetBytes, into: new Uint8Array(PAGE) }));
    expect(rack.call<[FabricStatus]>((done) => a.readv(peer, reads, done))[0]).toBe('ok');
    reads.forEach((r, i) => expect(checksum(r.into)).toBe(checksum(pages[i].data)));
    // All or nothing: one bad entry refuses the whole batch and writes nothing.
    const bad = [{ ...pages[0], data: new Uint8Array(PAGE).fill(0xee) }, { slab: s1, offsetBytes: 64 * PAGE, data: new Uint8Array(PAGE) }];
    const [status, reason] = rack.call<[FabricStatus, string | null]>((done) => a.writev(peer, bad, done));
    expect(status).toBe('rejected');
    expect(reason).toMatch(/outside slab/);
    const check = new Uint8Array(PAGE);
    expect(rack.call<[FabricStatus]>((done) => a.read(peer, pages[0].slab, 0, check, done))[0]).toBe('ok');
    expect(check[0]).toBe(1);
    expect(rack.call<[FabricStatus, string | null]>((done) => a.readv(peer, [], done))[0]).toBe('rejected');
  });

  it('enforces donor capacity, ownership and bounds, and keeps the connection up after refusals', () => {
    const rack = makeRack();
    const { a, b, c } = threeNodes(rack);
    const bFromA = connect(rack, a, b).id!;
    const bFromC = connect(rack, c, b).id!;
    const slab = alloc(rack, a, bFromA, 3 * MB);
    const [noSpace, none, why] = rack.call<[FabricStatus, RemoteSlab | null, string | null]>((done) => c.allocSlab(bFromC, 2 * MB, done));
    expect([noSpace, none]).toEqual(['no-space', null]);
    expect(why).toMatch(/free, cannot lend/);
    // c may not touch a's slab on b, whatever handle it forges.
    const [stolen, stolenWhy] = rack.call<[FabricStatus, string | null]>((done) => c.read(bFromC, slab, 0, new Uint8Array(16), done));
    expect(stolen).toBe('rejected');
    expect(stolenWhy).toMatch(/not allocated by "node-c"/);
    expect(rack.call<[FabricStatus]>((done) => c.write(bFromC, slab, 0, new Uint8Array(16), done))[0]).toBe('rejected');
    expect(rack.call<[FabricStatus]>((done) => c.freeSlab(bFromC, slab, done))[0]).toBe('rejected');
    // A slab handle of another peer is refused locally.
    expect(rack.call<[FabricStatus]>((done) => a.read(nodeHash('node-c'), slab, 0, new Uint8Array(1), done))[0]).toBe('rejected');
    // Out of bounds.
    expect(rack.call<[FabricStatus]>((done) => a.read(bFromA, slab, 3 * MB - 8, new Uint8Array(16), done))[0]).toBe('rejected');
    expect(rack.call<[FabricStatus]>((done) => a.write(bFromA, slab, 2 ** 40, new Uint8Array(16), done))[0]).toBe('rejected');
    // Still up and serving.
    const [ok, stats] = rack.call<[FabricStatus, RemoteStats | null]>((done) => a.stats(bFromA, done));
    expect(ok).toBe('ok');
    expect(stats).toEqual({ capacityBytes: 4 * MB, usedBytes: 3 * MB, slabCount: 1, peerUsedBytes: 3 * MB });
    expect(a.peers().filter((p) => p.state === 'up')).toHaveLength(1);
  });

  it('runs registered RPC handlers, synchronous or later, and reports failures', () => {
    const rack = makeRack();
    const { a, b } = threeNodes(rack);
    const peer = connect(rack, a, b).id!;
    b.registerHandler(7, (from, payload, respond) => respond('ok', Uint8Array.from([...payload].reverse(), (x) => x + (from === nodeHash('node-a') ? 0 : 100))));
    b.registerHandler(8, (_from, payload, respond) => rack.network.scheduler.defer(() => respond('ok', payload)));
    b.registerHandler(9, () => {
      throw new Error('handler bug');
    });
    b.registerHandler(10, (_from, _payload, respond) => respond('no-space'));
    const [s7, r7] = rack.call<[FabricStatus, Uint8Array | null]>((done) => a.rpc(peer, 7, Uint8Array.of(1, 2, 3), done));
    expect([s7, [...(r7 ?? [])]]).toEqual(['ok', [3, 2, 1]]);
    expect([...(rack.call<[FabricStatus, Uint8Array | null]>((done) => a.rpc(peer, 8, Uint8Array.of(5), done))[1] ?? [])]).toEqual([5]);
    expect(rack.call<[FabricStatus]>((done) => a.rpc(peer, 9, new Uint8Array(0), done))[0]).toBe('error');
    expect(rack.call<[FabricStatus]>((done) => a.rpc(peer, 10, new Uint8Array(0), done))[0]).toBe('no-space');
    const [unknown, , reason] = rack.call<[FabricStatus, Uint8Array | null, string | null]>((done) => a.rpc(peer, 11, new Uint8Array(0), done));
    expect(unknown).toBe('rejected');
    expect(reason).toMatch(/no handler for RPC method 11/);
    const [pong, rttNs] = rack.call<[FabricStatus, number | null]>((done) => a.ping(peer, done));
    expect([pong, rttNs]).toEqual(['ok', 0]);
  });

  it('refuses a peer with the wrong secret, with a reason for the log', () => {
    const rack = makeRack();
    const { b } = threeNodes(rack);
    const intruder = rack.network.addNode({ nodeName: 'intruder', secret: OTHER_SECRET });
    const events: PeerEvent[] = [];
    b.onPeerEvent((event) => events.push(event));
    const [status, peer, reason] = rack.call<[FabricStatus, PeerInfo, string | null]>((done) => intruder.connect({ host: 'node-b', port: 7472 }, done));
    rack.run();
    expect(status).toBe('rejected');
    expect(reason).toMatch(/"node-b" does not know the cluster secret/);
    expect(peer.state).toBe('refused');
    expect(intruder.peers()[0]).toMatchObject({ state: 'refused', reason: expect.stringMatching(/cluster secret/) });
    expect(events).toEqual([expect.objectContaining({ kind: 'refused', reason: expect.stringMatching(/"intruder" \(unauthenticated\) refused the handshake/) })]);
    expect(b.peers().every((p) => p.state !== 'up')).toBe(true);
    expect(rack.call<[FabricStatus]>((done) => intruder.allocSlab(nodeHash('node-b'), 10, done))[0]).toBe('peer-lost');
  });

  it('refuses handshakes when told to (fault hook), and unknown addresses are lost', () => {
    const rack = makeRack();
    const { a, b } = threeNodes(rack);
    rack.network.refuseAuth(b, 'node-b is draining');
    const [status, , reason] = rack.call<[FabricStatus, PeerInfo, string | null]>((done) => a.connect({ host: 'node-b', port: 7472 }, done));
    expect(status).toBe('rejected');
    expect(reason).toMatch(/node-b is draining/);
    rack.network.refuseAuth(b, null);
    connect(rack, a, b);
    const [missing, , why] = rack.call<[FabricStatus, PeerInfo, string | null]>((done) => a.connect({ host: 'nowhere', port: 7472 }, done));
    expect([missing, why]).toEqual(['peer-lost', 'no node listens at nowhere:7472']);
  });

  it('completes outstanding and later requests peer-lost when a donor is killed, and frees a killed consumer slabs', () => {
    const rack = makeRack();
    const { a, b, c } = threeNodes(rack);
    const peer = connect(rack, a, b).id!;
    connect(rack, c, b);
    const slab = alloc(rack, a, peer, MB);
    const events: PeerEvent[] = [];
    a.onPeerEvent((event) => events.push(event));
    const statuses: FabricStatus[] = [];
    for (let i = 0; i < 5; i++) a.read(peer, slab, i * PAGE, new Uint8Array(PAGE), (status) => statuses.push(status));
    rack.network.kill(b);
    rack.run();
    expect(statuses).toEqual(Array(5).fill('peer-lost'));
    expect(events).toEqual([expect.objectContaining({ kind: 'lost', reason: 'node node-b was killed' })]);
    expect(rack.call<[FabricStatus]>((done) => a.read(peer, slab, 0, new Uint8Array(1), done))[0]).toBe('peer-lost');
    expect(c.peers()[0]).toMatchObject({ state: 'lost', nodeName: 'node-b' });
    // The other way round: a consumer dies, its donor reclaims the slabs.
    const d = rack.network.addNode({ nodeName: 'node-d', secret: SECRET, donor: { capacityBytes: MB } });
    const dPeer = connect(rack, c, d).id!;
    alloc(rack, c, dPeer, MB / 2);
    expect(d.donor?.usedBytes).toBe(MB / 2);
    rack.network.kill(c);
    rack.run();
    expect(d.donor?.usedBytes).toBe(0);
  });

  it('times out requests to a hung node, and heartbeats declare it lost', () => {
    const ms = 1_000_000;
    const rack = makeRack({ timeouts: { requestTimeoutNs: 10 * ms, heartbeatIntervalNs: 20 * ms, peerDeadAfterNs: 50 * ms } });
    const { a, b } = threeNodes(rack);
    const peer = connect(rack, a, b).id!;
    const slab = alloc(rack, a, peer, PAGE);
    rack.network.hang(b);
    const statuses: [FabricStatus, string | null][] = [];
    a.read(peer, slab, 0, new Uint8Array(8), (status, reason) => statuses.push([status, reason]));
    rack.run();
    rack.network.tick(9 * ms);
    rack.run();
    expect(statuses).toEqual([]);
    rack.network.tick(10 * ms);
    rack.run();
    expect(statuses).toEqual([['timeout', expect.stringMatching(/within 10 ms/)]]);
    rack.network.tick(30 * ms); // heartbeat ping goes out, unanswered
    rack.run();
    expect(a.peers()[0].state).toBe('up');
    rack.network.tick(60 * ms);
    rack.run();
    expect(a.peers()[0]).toMatchObject({ state: 'lost', reason: expect.stringMatching(/no frame from the peer/) });
  });

  it('keeps a live peer up through heartbeats, and drops a late reply after a timeout', () => {
    const ms = 1_000_000;
    const rack = makeRack({ timeouts: { requestTimeoutNs: 10 * ms, heartbeatIntervalNs: 20 * ms, peerDeadAfterNs: 50 * ms } });
    const { a, b } = threeNodes(rack);
    const peer = connect(rack, a, b).id!;
    for (let t = 1; t <= 20; t++) {
      rack.network.tick(t * 15 * ms);
      rack.run();
    }
    expect(a.peers()[0].state).toBe('up');
    const statuses: FabricStatus[] = [];
    a.stats(peer, (status) => statuses.push(status));
    rack.network.tick(312 * ms); // before the queue runs: the request expires first
    rack.run();
    expect(statuses).toEqual(['timeout']);
  });

  it('completes requests beyond the in-flight bound busy', () => {
    const rack = makeRack({ maxInFlight: 4 });
    const { a, b } = threeNodes(rack);
    const peer = connect(rack, a, b).id!;
    const statuses: FabricStatus[] = [];
    for (let i = 0; i < 6; i++) a.ping(peer, (status) => statuses.push(status));
    rack.run();
    expect(statuses.sort()).toEqual(['busy', 'busy', 'ok', 'ok', 'ok', 'ok']);
  });

  it('works with an asynchronous microtask scheduler and the default one-chunk delivery', async () => {
    const { microtaskScheduler } = await import('../../adapters/runtime.js');
    const { LoopbackNetwork } = await import('./network.js');
    let n = 0;
    const network = new LoopbackNetwork({ scheduler: microtaskScheduler, nonceSource: (into) => into.fill(++n) });
    const a = network.addNode({ nodeName: 'a', secret: SECRET });
    const b = network.addNode({ nodeName: 'b', secret: SECRET, donor: { capacityBytes: MB } });
    const peer = await new Promise<PeerInfo>((resolve, reject) => a.connect({ host: 'b', port: 7472 }, (s, p, r) => (s === 'ok' ? resolve(p) : reject(new Error(r ?? s)))));
    const slab = await new Promise<RemoteSlab>((resolve) => a.allocSlab(peer.id!, PAGE, (_s, sl) => resolve(sl!)));
    const data = new Uint8Array(PAGE).fill(42);
    await new Promise((resolve) => a.write(peer.id!, slab, 0, data, resolve));
    const into = new Uint8Array(PAGE);
    const status = await new Promise((resolve) => a.read(peer.id!, slab, 0, into, resolve));
    expect(status).toBe('ok');
    expect(checksum(into)).toBe(checksum(data));
    expect(b.donor?.usedBytes).toBe(PAGE);
  });

  it('keeps one connection when two nodes dial each other, and refuses self-connections', () => {
    const rack = makeRack();
    const { a, b } = threeNodes(rack);
    const results: FabricStatus[] = [];
    a.connect({ host: 'node-b', port: 7472 }, (s) => results.push(s));
    b.connect({ host: 'node-a', port: 7472 }, (s) => results.push(s));
    rack.run();
    expect(results).toEqual(['ok', 'ok']);
    expect(a.peers().filter((p) => p.state === 'up')).toHaveLength(1);
    expect(b.peers().filter((p) => p.state === 'up')).toHaveLength(1);
    const peer = nodeHash('node-b');
    expect(rack.call<[FabricStatus]>((done) => a.ping(peer, done))[0]).toBe('ok');
    const [self] = rack.call<[FabricStatus]>((done) => a.connect({ host: 'node-a', port: 7472 }, done));
    expect(self).toBe('rejected');
  });
});

describe('loopback configuration', () => {
  it('refuses a short secret and a second node at the same address', () => {
    const rack = makeRack();
    expect(() => rack.network.addNode({ nodeName: 'x', secret: new Uint8Array(8) })).toThrow(/at least 16/);
    rack.network.addNode({ nodeName: 'y', secret: SECRET });
    expect(() => rack.network.addNode({ nodeName: 'y', secret: SECRET })).toThrow(/already listens/);
  });
});
