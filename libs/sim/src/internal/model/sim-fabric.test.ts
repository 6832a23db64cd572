import fc from 'fast-check';
import { nodeHash, type FabricStatus, type PeerEvent, type PeerId, type RemoteSlab } from '@rackmem/krdma';
import { describe, expect, it } from 'vitest';
import { Simulation } from '../simulation.js';
import { STORAGE_SCALE } from './memory-node.js';
import { NicModel, OpClass } from './nic-model.js';
import { NIC_PRESETS, type NicParams } from './nic-presets.js';
import type { SimFabric } from './sim-fabric.js';
import { SimNetwork, type SimNetworkOptions } from './sim-network.js';

const FDR = NIC_PRESETS.fdr56;

function rack(params: NicParams = FDR, options: SimNetworkOptions = {}, seed = 1) {
  const sim = new Simulation({ seed });
  const nic = new NicModel(sim.engine, params, sim.streams.stream('faults/latency'));
  const net = new SimNetwork(sim.engine, nic, { storageScale: STORAGE_SCALE, ...options });
  const m0 = net.addNode({ nodeName: 'm0', donorCapacityBytes: 4096 });
  const c0 = net.addNode({ nodeName: 'c0' });
  const c1 = net.addNode({ nodeName: 'c1' });
  const events: { atNs: number; node: string; kind: string; peer: string | null }[] = [];
  for (const node of [m0, c0, c1]) {
    node.onPeerEvent((e: PeerEvent) => events.push({ atNs: sim.engine.now(), node: node.identity.nodeName, kind: e.kind, peer: e.peer.nodeName }));
  }
  const now = () => sim.engine.now();
  const run = () => sim.engine.run();
  /** Connects and returns the peer id (runs the engine). */
  const connect = (from: SimFabric, to = 'm0'): PeerId => {
    let id: PeerId | null = null;
    from.connect({ host: to, port: 7472 }, (status, peer) => {
      expect(status).toBe('ok');
      id = peer.id;
    });
    run();
    expect(id).not.toBeNull();
    return id as unknown as PeerId;
  };
  const alloc = (from: SimFabric, peer: PeerId, sizeBytes: number): { status: FabricStatus; slab: RemoteSlab | null; reason: string | null } => {
    let out: { status: FabricStatus; slab: RemoteSlab | null; reason: string | null } | null = null;
    from.allocSlab(peer, sizeBytes, (status, slab, reason) => (out = { status, slab, reason }));
    run();
    return out as unknown as { status: FabricStatus; slab: RemoteSlab | null; reason: string | null };
  };
  /** Posts a status request, runs, returns its status, reason and completion time. */
  const status = (post: (done: (s: FabricStatus, r: string | null) => void) => void): { status: FabricStatus; reason: string | null; atNs: number } => {
    let out: { status: FabricStatus; reason: string | null; atNs: number } | null = null;
    post((s, r) => (out = { status: s, reason: r, atNs: now() }));
    run();
    return out as unknown as { status: FabricStatus; reason: string | null; atNs: number };
  };
  return { sim, nic, net, m0, c0, c1, events, now, run, connect, alloc, status };
}

/** A scaled page content: u32 version, u32 page id. */
function content(version: number, page: number): Uint8Array {
  const bytes = new Uint8Array(8);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, version, true);
  view.setUint32(4, page, true);
  return bytes;
}

function checksum(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193);
  return h >>> 0;
}

describe('SimFabric: connections', () => {
  it('connects with a two-round-trip handshake; peers, ids and up events on both sides', () => {
    const { c0, m0, events, connect, now } = rack();
    const id = connect(c0);
    expect(id).toBe(nodeHash('m0'));
    // Two RPC round trips (each ~3.7 us on fdr56: NICs, links and the 1 us handler).
    expect(now()).toBeGreaterThan(6_000);
    expect(now()).toBeLessThan(9_000);
    expect(c0.peers()).toEqual([{ id, nodeName: 'm0', address: { host: 'm0', port: 7472 }, direction: 'outbound', state: 'up', reason: null }]);
    expect(m0.peers()[0]).toMatchObject({ id: nodeHash('c0'), nodeName: 'c0', direction: 'inbound', state: 'up' });
    expect(events.map((e) => [e.node, e.kind, e.peer])).toEqual([['c0', 'up', 'm0'], ['m0', 'up', 'c0']]);
  });

  it('a second connect answers with the existing entry; unknown addresses and itself fail', () => {
    const { c0, connect, run, now } = rack();
    connect(c0);
    const t0 = now();
    const answers: [string, string | null, number][] = [];
    c0.connect({ host: 'm0', port: 7472 }, (s, peer) => answers.push([s, peer.state, now() - t0]));
    c0.connect({ host: 'nowhere', port: 7472 }, (s, _peer, reason) => answers.push([s, reason, now() - t0]));
    c0.connect({ host: 'm0', port: 1 }, (s) => answers.push([s, null, now() - t0]));
    c0.connect({ host: 'c0', port: 7472 }, (s, _peer, reason) => answers.push([s, reason, now() - t0]));
    expect(answers).toEqual([]);
    run();
    expect(answers).toEqual([
      ['ok', 'up', 0],
      ['peer-lost', 'no node listens at nowhere:7472', 0],
      ['peer-lost', null, 0],
      ['rejected', 'a node cannot connect to itself', 0],
    ]);
  });
});

describe('SimFabric: slabs', () => {
  it('alloc / write / read / free round trip with checksums of scaled content, timed for the real bytes', () => {
    const { c0, nic, connect, alloc, status, now } = rack();
    const peer = connect(c0);
    const { status: s, slab } = alloc(c0, peer, 64);
    expect(s).toBe('ok');
    expect(slab).toMatchObject({ peer, sizeBytes: 64 });
    const pages = [content(3, 0), content(7, 1), content(1, 5), content(9, 7)];
    const offsets = [0, 8, 40, 56];
    const t0 = now();
    expect(status((done) => c0.write(peer, slab as RemoteSlab, offsets[0], pages[0], done)).status).toBe('ok');
    const oneWriteNs = now() - t0;
    // 8 stored bytes stand for a 4 KiB page: one 4 KiB WRITE on fdr56 (~3.2 us), not an 8-byte one.
    expect(oneWriteNs).toBeGreaterThan(2_700);
    expect(oneWriteNs).toBeLessThan(3_500);
    expect(nic.counters.writeBytes).toBe(4096);
    expect(status((done) => c0.writev(peer, pages.slice(1).map((data, i) => ({ slab: slab as RemoteSlab, offsetBytes: offsets[i + 1], data })), done)).status).toBe('ok');
    const back = pages.map(() => new Uint8Array(8));
    expect(status((done) => c0.read(peer, slab as RemoteSlab, offsets[0], back[0], done)).status).toBe('ok');
    expect(status((done) => c0.readv(peer, back.slice(1).map((into, i) => ({ slab: slab as RemoteSlab, offsetBytes: offsets[i + 1], into })), done)).status).toBe('ok');
    expect(back.map(checksum)).toEqual(pages.map(checksum));
    expect(nic.counters.readBytes).toBe(4 * 4096);
    // Untouched parts of the slab read as zeros.
    const gap = new Uint8Array(8);
    expect(status((done) => c0.read(peer, slab as RemoteSlab, 16, gap, done)).status).toBe('ok');
    expect(checksum(gap)).toBe(checksum(new Uint8Array(8)));
    // Out of range, then freed: refused.
    expect(status((done) => c0.read(peer, slab as RemoteSlab, 60, new Uint8Array(8), done))).toMatchObject({ status: 'rejected', reason: expect.stringContaining('outside slab') });
    expect(status((done) => c0.freeSlab(peer, slab as RemoteSlab, done)).status).toBe('ok');
    expect(status((done) => c0.read(peer, slab as RemoteSlab, 0, new Uint8Array(8), done))).toMatchObject({ status: 'rejected', reason: expect.stringContaining('not allocated') });
  });

  it('refuses allocations beyond the memory node capacity with no-space; stats report the usage', () => {
    const { c0, c1, connect, alloc, run } = rack();
    const p0 = connect(c0);
    const p1 = connect(c1);
    expect(alloc(c0, p0, 3000).status).toBe('ok');
    const refused = alloc(c1, p1, 2000);
    expect(refused.status).toBe('no-space');
    expect(refused.slab).toBeNull();
    expect(refused.reason).toContain('1096 of 4096 bytes free');
    expect(alloc(c1, p1, 1096).status).toBe('ok');
    let stats: unknown = null;
    c1.stats(p1, (s, st) => (stats = [s, st]));
    run();
    expect(stats).toEqual(['ok', { capacityBytes: 4096, usedBytes: 4096, slabCount: 2, peerUsedBytes: 1096 }]);
  });

  it('a peer cannot use or free another peer\'s slab (the donor checks ownership)', () => {
    const { c0, c1, connect, alloc, status } = rack();
    const p0 = connect(c0);
    const p1 = connect(c1);
    expect(p1).toBe(p0);
    const slab = alloc(c0, p0, 64).slab as RemoteSlab;
    expect(status((done) => c0.write(p0, slab, 0, content(5, 0), done)).status).toBe('ok');
    const forged: RemoteSlab = { ...slab };
    for (const attempt of [
      (done: (s: FabricStatus, r: string | null) => void) => c1.freeSlab(p1, forged, done),
      (done: (s: FabricStatus, r: string | null) => void) => c1.write(p1, forged, 0, content(666, 0), done),
      (done: (s: FabricStatus, r: string | null) => void) => c1.read(p1, forged, 0, new Uint8Array(8), done),
    ]) {
      expect(status(attempt)).toMatchObject({ status: 'rejected', reason: 'slab 1 was not allocated by "c1"; a peer may only use its own slabs' });
    }
    // A slab named on another peer is refused locally.
    expect(status((done) => c0.read(p0 + 1, slab, 0, new Uint8Array(8), done)).status).toBe('rejected');
    const back = new Uint8Array(8);
    expect(status((done) => c0.read(p0, slab, 0, back, done)).status).toBe('ok');
    expect(checksum(back)).toBe(checksum(content(5, 0)));
  });
});

describe('SimFabric: failures', () => {
  it('crash: in-flight and later requests complete peer-lost, the detector emits lost; restart: up again, empty', () => {
    const { c0, net, nic, events, connect, alloc, status, run, now } = rack();
    const peer = connect(c0);
    const slab = alloc(c0, peer, 64).slab as RemoteSlab;
    const t0 = now();
    const inFlight: [string, number][] = [];
    c0.read(peer, slab, 0, new Uint8Array(8), (s) => inFlight.push([s, now() - t0]));
    c0.write(peer, slab, 8, content(1, 1), (s) => inFlight.push([s, now() - t0]));
    net.crash('m0');
    run();
    expect(inFlight).toEqual([['peer-lost', FDR.opTimeoutNs], ['peer-lost', FDR.opTimeoutNs]]);
    const lost = events.filter((e) => e.kind === 'lost');
    expect(lost).toEqual([{ atNs: t0 + FDR.failureDetectNs, node: 'c0', kind: 'lost', peer: 'm0' }]);
    expect(c0.peers()[0]).toMatchObject({ nodeName: 'm0', state: 'lost', reason: expect.stringContaining('no heartbeat from m0') });
    // After the verdict: failed locally at once, without touching the NIC.
    const failedBefore = nic.counters.failedOps;
    const t1 = now();
    const later = status((done) => c0.read(peer, slab, 0, new Uint8Array(8), done));
    expect(later).toMatchObject({ status: 'peer-lost', atNs: t1 });
    expect(nic.counters.failedOps).toBe(failedBefore);
    // Restart: the client re-dials (a handshake later) and sees 'up'; the old slab is gone.
    const t2 = now();
    net.restart('m0');
    run();
    const up = events.filter((e) => e.kind === 'up' && e.node === 'c0');
    expect(up).toHaveLength(2);
    expect(up[1].atNs - t2).toBeGreaterThan(6_000);
    expect(up[1].atNs - t2).toBeLessThan(9_000);
    expect(status((done) => c0.read(peer, slab, 0, new Uint8Array(8), done))).toMatchObject({ status: 'rejected', reason: expect.stringContaining('lost in a restart') });
    expect(alloc(c0, peer, 4096).status).toBe('ok');
  });

  it('a restart before the verdict still reports lost before up', () => {
    const { c0, net, events, connect, run } = rack();
    connect(c0);
    net.crash('m0');
    run();
    net.restart('m0');
    run();
    expect(events.filter((e) => e.node === 'c0').map((e) => e.kind)).toEqual(['up', 'lost', 'up']);
    const { c0: d0, net: net2, events: ev2, connect: connect2, sim: sim2 } = rack();
    connect2(d0);
    net2.crash('m0');
    sim2.engine.run({ untilNs: sim2.engine.now() + 100_000 });
    net2.restart('m0');
    sim2.engine.run();
    expect(ev2.filter((e) => e.node === 'c0').map((e) => e.kind)).toEqual(['up', 'lost', 'up']);
  });

  it('lost connection: requests time out, both sides see lost, and the node rejoins empty when reachable', () => {
    const { c0, m0, net, events, connect, alloc, status, run, now } = rack();
    const peer = connect(c0);
    const slab = alloc(c0, peer, 64).slab as RemoteSlab;
    net.setReachable('m0', false);
    const t0 = now();
    expect(status((done) => c0.write(peer, slab, 0, content(1, 0), done))).toMatchObject({ status: 'timeout', atNs: t0 + FDR.opTimeoutNs, reason: expect.stringContaining('no answer from m0') });
    run();
    expect(events.filter((e) => e.kind === 'lost').map((e) => [e.node, e.peer])).toEqual([['c0', 'm0'], ['m0', 'c0']]);
    expect(m0.donor?.usedBytes).toBe(0); // the donor freed the lost peer's slabs
    net.setReachable('m0', true);
    run();
    expect(events.filter((e) => e.node === 'c0').map((e) => e.kind)).toEqual(['up', 'lost', 'up']);
    expect(alloc(c0, peer, 64).status).toBe('ok');
  });

  it('disconnect: closed on both sides, in-flight requests complete peer-lost, the donor frees the slabs', () => {
    const { c0, m0, events, connect, alloc, run } = rack();
    const peer = connect(c0);
    const slab = alloc(c0, peer, 64).slab as RemoteSlab;
    const results: FabricStatus[] = [];
    c0.read(peer, slab, 0, new Uint8Array(8), (s) => results.push(s));
    c0.disconnect(peer);
    c0.read(peer, slab, 0, new Uint8Array(8), (s) => results.push(s));
    run();
    expect(results).toEqual(['peer-lost', 'peer-lost']);
    expect(events.filter((e) => e.kind === 'closed').map((e) => e.node)).toEqual(['c0', 'm0']);
    expect(m0.donor?.usedBytes).toBe(0);
  });

  it('bounds the requests in flight per peer: beyond it, busy', () => {
    const { c0, connect, alloc, run } = rack(FDR, { maxInFlightPerPeer: 2 });
    const peer = connect(c0);
    const slab = alloc(c0, peer, 64).slab as RemoteSlab;
    const results: FabricStatus[] = [];
    for (let i = 0; i < 3; i++) c0.read(peer, slab, 0, new Uint8Array(8), (s) => results.push(s));
    run();
    expect(results).toEqual(['busy', 'ok', 'ok']);
  });
});

describe('SimFabric: RPC, ping and queue classes', () => {
  it('serves registered handlers (now or later), refuses unknown methods, reports throws and missing answers', () => {
    const { c0, m0, net, connect, run, now } = rack();
    const peer = connect(c0);
    m0.registerHandler(1, (from, payload, respond) => respond('ok', Uint8Array.from([...payload, from === nodeHash('c0') ? 1 : 0])));
    m0.registerHandler(2, (_from, _payload, respond) => net.defer(now() + 50_000, () => respond('ok', Uint8Array.of(42))));
    m0.registerHandler(3, () => {
      throw new Error('boom');
    });
    m0.registerHandler(4, () => {});
    m0.registerHandler(5, (_from, _payload, respond) => respond('no-space'));
    const replies: unknown[] = [];
    const t0 = now();
    for (const method of [1, 2, 3, 4, 5, 9]) {
      c0.rpc(peer, method, Uint8Array.of(7, 8), (s, reply, reason) => replies.push([method, s, reply === null ? null : [...reply], reason, now() - t0]));
    }
    run();
    const byMethod = new Map(replies.map((r) => [(r as unknown[])[0], r as unknown[]]));
    expect(byMethod.get(1)?.slice(1, 3)).toEqual(['ok', [7, 8, 1]]);
    expect(byMethod.get(1)?.[4]).toBeLessThan(10_000);
    expect(byMethod.get(2)?.slice(1, 3)).toEqual(['ok', [42]]);
    expect(byMethod.get(2)?.[4]).toBeGreaterThan(50_000);
    expect(byMethod.get(3)?.slice(1, 4)).toEqual(['error', null, 'the handler of RPC method 3 threw: boom']);
    expect(byMethod.get(4)?.slice(1, 3)).toEqual(['timeout', null]);
    expect(byMethod.get(4)?.[4]).toBe(FDR.opTimeoutNs);
    expect(byMethod.get(5)?.slice(1, 4)).toEqual(['no-space', null, 'the handler of RPC method 5 answered no-space']);
    expect(byMethod.get(9)?.slice(1, 4)).toEqual(['rejected', null, 'node m0 has no handler for RPC method 9']);
  });

  it('ping measures a round trip', () => {
    const { c0, connect, run } = rack();
    const peer = connect(c0);
    let rtt: number | null = null;
    c0.ping(peer, (s, ns) => {
      expect(s).toBe('ok');
      rtt = ns;
    });
    run();
    expect(rtt).toBeGreaterThan(3_000);
    expect(rtt).toBeLessThan(4_500);
  });

  it('demand reads overtake queued prefetch reads (the post context)', () => {
    const { c0, connect, alloc, run } = rack();
    const peer = connect(c0);
    const slab = alloc(c0, peer, 64).slab as RemoteSlab;
    const order: string[] = [];
    c0.setPostContext(OpClass.Prefetch, 0);
    for (let i = 0; i < 5; i++) c0.read(peer, slab, 0, new Uint8Array(8), () => order.push(`p${i}`));
    c0.clearPostContext();
    c0.read(peer, slab, 0, new Uint8Array(8), () => order.push('demand'));
    run();
    expect(order).toEqual(['p0', 'demand', 'p1', 'p2', 'p3', 'p4']);
  });
});

/** One scripted request of the property tests. */
type Step = { kind: 'read' | 'write' | 'alloc' | 'free' | 'ping' | 'stats' | 'rpc' | 'wrong' | 'unknown' | 'crash' | 'restart' | 'cut' | 'heal' | 'wait'; arg: number };

const stepArb: fc.Arbitrary<Step> = fc.record({
  kind: fc.constantFrom('read', 'write', 'alloc', 'free', 'ping', 'stats', 'rpc', 'wrong', 'unknown', 'crash', 'restart', 'cut', 'heal', 'wait'),
  arg: fc.nat({ max: 1_000_000 }),
});

/** Plays a script on a fresh rack; returns every completion (time, request index, status) and the digest. */
function play(script: Step[], seed: number): { log: string[]; digest: string; synchronous: number; duplicates: number; missing: number } {
  const { sim, net, c0, connect, run } = rack(NIC_PRESETS.fdr56, {}, seed);
  const peer = connect(c0);
  net.node('m0').registerHandler(1, (_f, payload, respond) => respond('ok', payload));
  const slabs: RemoteSlab[] = [];
  const log: string[] = [];
  const calls = new Map<number, number>();
  let synchronous = 0;
  let index = 0;
  for (const step of script) {
    const id = index++;
    calls.set(id, 0);
    let inCall = true;
    const done = (status: string, extra?: unknown) => {
      if (inCall) synchronous++;
      calls.set(id, (calls.get(id) ?? 0) + 1);
      log.push(`${sim.engine.now()} #${id} ${status}`);
      if (step.kind === 'alloc' && status === 'ok') slabs.push(extra as RemoteSlab);
    };
    const slab = slabs.length > 0 ? slabs[step.arg % slabs.length] : { peer, slabId: 999, sizeBytes: 64, rkey: 0, remoteAddress: 0 };
    switch (step.kind) {
      case 'read': c0.read(peer, slab, (step.arg % 8) * 8, new Uint8Array(8), (s) => done(s)); break;
      case 'write': c0.write(peer, slab, (step.arg % 8) * 8, content(step.arg, 0), (s) => done(s)); break;
      case 'alloc': c0.allocSlab(peer, 64, (s, sl) => done(s, sl)); break;
      case 'free': c0.freeSlab(peer, slab, (s) => done(s)); break;
      case 'ping': c0.ping(peer, (s) => done(s)); break;
      case 'stats': c0.stats(peer, (s) => done(s)); break;
      case 'rpc': c0.rpc(peer, 1, Uint8Array.of(step.arg & 255), (s) => done(s)); break;
      case 'wrong': c0.read(peer + 1, slab, 0, new Uint8Array(8), (s) => done(s)); break;
      case 'unknown': c0.connect({ host: 'x', port: 7472 }, (s) => done(s)); break;
      case 'crash': net.crash('m0'); calls.delete(id); break;
      case 'restart': net.restart('m0'); calls.delete(id); break;
      case 'cut': net.setReachable('m0', false); calls.delete(id); break;
      case 'heal': net.setReachable('m0', true); net.restart('m0'); calls.delete(id); break;
      case 'wait': sim.engine.run({ untilNs: sim.engine.now() + step.arg }); calls.delete(id); break;
    }
    inCall = false;
  }
  run();
  let duplicates = 0;
  let missing = 0;
  for (const n of calls.values()) {
    if (n > 1) duplicates++;
    if (n === 0) missing++;
  }
  return { log, digest: sim.digestHex(), synchronous, duplicates, missing };
}

describe('SimFabric: completion contract', () => {
  it('never completes inside the call, completes every request exactly once (with crashes and cuts)', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 40 }), (script) => {
        const { synchronous, duplicates, missing } = play(script, 3);
        expect(synchronous).toBe(0);
        expect(duplicates).toBe(0);
        expect(missing).toBe(0);
      }),
      { numRuns: 60, seed: 20_251 },
    );
  });

  it('is deterministic: the same script and seed give the same completions, times and digest', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 30 }), (script) => {
        const a = play(script, 5);
        const b = play(script, 5);
        expect(b.log).toEqual(a.log);
        expect(b.digest).toBe(a.digest);
      }),
      { numRuns: 25, seed: 7 },
    );
  });
});

describe('SimFabric: a cut-off compute node', () => {
  it('its own requests time out; declared lost, it re-dials when reachable again', () => {
    const { c0, net, events, connect, alloc, status, run, now } = rack();
    const peer = connect(c0);
    const slab = alloc(c0, peer, 64).slab as RemoteSlab;
    net.setReachable('c0', false);
    const t0 = now();
    expect(status((done) => c0.read(peer, slab, 0, new Uint8Array(8), done))).toMatchObject({ status: 'timeout', atNs: t0 + FDR.opTimeoutNs });
    run();
    expect(events.filter((e) => e.kind === 'lost').map((e) => [e.node, e.peer])).toEqual([['m0', 'c0'], ['c0', 'm0']]);
    net.setReachable('c0', true);
    run();
    expect(events.filter((e) => e.node === 'c0').map((e) => e.kind)).toEqual(['up', 'lost', 'up']);
    expect(alloc(c0, peer, 64).status).toBe('ok');
  });
});
