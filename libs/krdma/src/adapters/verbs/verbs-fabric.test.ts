// Two VerbsFabrics in one process: TCP control plane on 127.0.0.1, data plane over RC queue pairs
// on the fake NIC (fake-nic.ts: real ops-table decoding, data path, channel, poller, side channel).
import koffi from 'koffi';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { FabricStatus, PeerEvent, PeerInfo, RemoteSlab } from '../../internal/fabric.js';
import { TcpFabric } from '../tcp/tcp-fabric.js';
import { IbvWrOpcode } from './abi.js';
import { VerbsError } from './errors.js';
import { FakeVerbsNic } from './fake-nic.js';
import { verbsLibraryAvailable } from './library.js';
import { RdmaTransport } from './transport.js';
import { VerbsFabric, type DataPlaneEvent, type VerbsFabricOptions } from './verbs-fabric.js';

const MS_NS = 1_000_000;
const PAGE = 4096;
const SECRET = new TextEncoder().encode('verbs fabric test secret, 32 by');
const TIMEOUTS = { requestTimeoutNs: 2000 * MS_NS, handshakeTimeoutNs: 2000 * MS_NS, heartbeatIntervalNs: 200 * MS_NS, peerDeadAfterNs: 2000 * MS_NS };

type Done = [FabricStatus, string | null];

let nic: FakeVerbsNic;
let closers: (() => Promise<void>)[] = [];
const callbacksBefore = koffi.stats().callbacks;

function fabric(name: string, extra: Partial<VerbsFabricOptions> = {}): VerbsFabric {
  const f = new VerbsFabric({
    nodeName: name, secret: SECRET, timeouts: TIMEOUTS, tickIntervalMs: 10, reconnect: false,
    openTransport: (o) => RdmaTransport.onDevice(nic.device(`fake-${name}`), o),
    verbs: { stagingSlots: 8, slotBytes: PAGE, maxBatch: 4, recvSlots: 4, messageBytes: 1024, setupTimeoutMs: 2000 },
    ...extra,
  });
  closers.push(() => f.close('test over'));
  return f;
}

async function pair(extraDonor: Partial<VerbsFabricOptions> = {}, extraConsumer: Partial<VerbsFabricOptions> = {}) {
  const donor = fabric('donor', { donor: { capacityBytes: 64 * PAGE }, ...extraDonor });
  const consumer = fabric('consumer', extraConsumer);
  const bound = await donor.listen(0, '127.0.0.1');
  await consumer.listen(0, '127.0.0.1');
  const [status, peer] = await new Promise<[FabricStatus, PeerInfo]>((resolve) => consumer.connect({ host: '127.0.0.1', port: bound.port }, (s, p) => resolve([s, p])));
  expect(status).toBe('ok');
  return { donor, consumer, peer: peer.id!, port: bound.port };
}

const alloc = (f: VerbsFabric | TcpFabric, peer: number, sizeBytes: number): Promise<[FabricStatus, RemoteSlab | null, string | null]> =>
  new Promise((resolve) => f.allocSlab(peer, sizeBytes, (...a) => resolve(a)));
const read = (f: VerbsFabric, slab: RemoteSlab, offset: number, into: Uint8Array): Promise<Done> => new Promise((r) => f.read(slab.peer, slab, offset, into, (...a) => r(a)));
const write = (f: VerbsFabric, slab: RemoteSlab, offset: number, data: Uint8Array): Promise<Done> => new Promise((r) => f.write(slab.peer, slab, offset, data, (...a) => r(a)));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => boolean, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

function page(seed: number): Uint8Array {
  const bytes = new Uint8Array(PAGE);
  for (let i = 0; i < PAGE; i += 1) bytes[i] = (i * 31 + seed * 7 + 1) & 0xff;
  return bytes;
}

beforeEach(() => {
  nic = new FakeVerbsNic();
  closers = [];
});

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  nic.close();
  expect(koffi.stats().callbacks).toBe(callbacksBefore);
});

describe('VerbsFabric on the fake NIC', () => {
  it('allocates a slab in registered memory and moves pages one-sided: write then read round-trips byte-exact', async () => {
    const { donor, consumer, peer } = await pair();
    const [status, slab] = await alloc(consumer, peer, 16 * PAGE);
    expect(status).toBe('ok');
    expect(slab!.rkey).not.toBe(0);
    expect(slab!.remoteAddress).not.toBe(0);
    const lent = donor.donor!.slabsOf('consumer')[0];
    expect([lent.rkey, lent.remoteAddress]).toEqual([slab!.rkey, slab!.remoteAddress]);

    const data = page(1);
    expect(await write(consumer, slab!, 3 * PAGE, data)).toEqual(['ok', null]);
    // The bytes are in the donor's slab memory, put there by an RDMA WRITE (not by the donor's TCP path).
    expect(Buffer.from(lent.memory.subarray(3 * PAGE, 4 * PAGE)).equals(Buffer.from(data))).toBe(true);
    const writes = nic.posted.filter((wr) => wr.opcode === IbvWrOpcode.RDMA_WRITE && wr.rkey === slab!.rkey);
    expect(writes).toHaveLength(1);
    expect(writes[0].remoteAddress).toBe(BigInt(slab!.remoteAddress + 3 * PAGE));

    const into = new Uint8Array(PAGE);
    expect(await read(consumer, slab!, 3 * PAGE, into)).toEqual(['ok', null]);
    expect(Buffer.from(into).equals(Buffer.from(data))).toBe(true);
    expect(nic.posted.some((wr) => wr.opcode === IbvWrOpcode.RDMA_READ && wr.rkey === slab!.rkey)).toBe(true);
    const counters = consumer.counters();
    expect(counters).toMatchObject({ verbsReads: 1, verbsWrites: 1, verbsBytesRead: PAGE, verbsBytesWritten: PAGE, qpSetups: 1, verbsPeers: 1 });
    expect(donor.counters()).toMatchObject({ qpSetups: 1, donorSlabs: 1, donorChunks: 1 });
    expect(consumer.dataPlane(peer)).toBe('verbs');
  });

  it('readv/writev across slabs, with requests larger than a staging slot and than one post', async () => {
    const { donor, consumer, peer } = await pair();
    const [, a] = await alloc(consumer, peer, 8 * PAGE);
    const [, b] = await alloc(consumer, peer, 8 * PAGE);
    const big = new Uint8Array(3 * PAGE).map((_, i) => (i * 13) & 0xff);
    const ops = [
      { slab: a!, offsetBytes: 0, data: page(2) },
      { slab: b!, offsetBytes: 5 * PAGE, data: page(3) },
      { slab: a!, offsetBytes: 4 * PAGE, data: big },
      ...[0, 1, 2, 3].map((i) => ({ slab: b!, offsetBytes: i * PAGE, data: page(10 + i) })),
    ];
    const postsBefore = nic.postSendCalls;
    const wrote = await new Promise<Done>((r) => consumer.writev(peer, ops, (...x) => r(x)));
    expect(wrote).toEqual(['ok', null]);
    // 9 pieces of at most one slot, in chains of at most maxBatch = 4: 3 posts.
    expect(nic.postSendCalls - postsBefore).toBe(3);
    const intos = ops.map((op) => new Uint8Array(op.data.length));
    const got = await new Promise<Done>((r) => consumer.readv(peer, ops.map((op, i) => ({ slab: op.slab, offsetBytes: op.offsetBytes, into: intos[i] })), (...x) => r(x)));
    expect(got).toEqual(['ok', null]);
    intos.forEach((into, i) => expect(Buffer.from(into).equals(Buffer.from(ops[i].data))).toBe(true));
    // The donor's own view agrees (through the TCP path of the same memory).
    const view = donor.donor!.read('consumer', b!.slabId, 5 * PAGE, PAGE) as Uint8Array;
    expect(Buffer.from(view).equals(Buffer.from(page(3)))).toBe(true);

    const outside = await new Promise<Done>((r) => consumer.read(peer, a!, 8 * PAGE - 10, new Uint8Array(20), (...x) => r(x)));
    expect(outside[0]).toBe('rejected');
    expect(outside[1]).toMatch(/outside slab/);
  });

  it('freeSlab gives the memory back to the donor; a request right after connect waits for the queue pair', async () => {
    const donor = fabric('donor', { donor: { capacityBytes: 8 * PAGE } });
    const consumer = fabric('consumer');
    const bound = await donor.listen(0, '127.0.0.1');
    const states: (string | null)[] = [];
    let lentSlab: RemoteSlab | null = null;
    const result = await new Promise<Done>((resolve) => {
      consumer.connect({ host: '127.0.0.1', port: bound.port }, (status, peer) => {
        expect(status).toBe('ok');
        consumer.allocSlab(peer.id!, 8 * PAGE, (s, slab) => {
          expect(s).toBe('ok');
          lentSlab = slab;
          states.push(consumer.dataPlane(peer.id!));
          consumer.write(peer.id!, slab!, 0, page(4), (...x) => resolve(x));
        });
      });
    });
    expect(result).toEqual(['ok', null]);
    expect(['connecting', 'verbs']).toContain(states[0]);
    const slab = lentSlab as unknown as RemoteSlab;
    const [full, none] = await alloc(consumer, slab.peer, PAGE);
    expect([full, none]).toEqual(['no-space', null]);
    expect(donor.counters().donorSlabs).toBe(1);
    const freed = await new Promise<Done>((r) => consumer.freeSlab(slab.peer, slab, (...x) => r(x)));
    expect(freed).toEqual(['ok', null]);
    expect(donor.donor!.stats().usedBytes).toBe(0);
    expect(donor.counters().donorSlabs).toBe(0);
    const [status, next] = await alloc(consumer, slab.peer, 8 * PAGE);
    expect(status).toBe('ok');
    expect(next!.remoteAddress).toBe(slab.remoteAddress);
  });

  it('a lost peer fails outstanding requests peer-lost, exactly once', async () => {
    const { donor, consumer, peer } = await pair();
    const [, slab] = await alloc(consumer, peer, 8 * PAGE);
    nic.holdCompletions = true;
    const results: Done[] = [];
    consumer.read(peer, slab!, 0, new Uint8Array(PAGE), (...x) => results.push(x));
    consumer.readv(peer, [0, 1, 2, 3, 4, 5].map((i) => ({ slab: slab!, offsetBytes: i * PAGE, into: new Uint8Array(PAGE) })), (...x) => results.push(x));
    await sleep(20);
    expect(results).toEqual([]);
    const events: PeerEvent[] = [];
    consumer.onPeerEvent((e) => events.push(e));
    await donor.close('donor crashed');
    await until('both requests to fail', () => results.length === 2);
    expect(results.map((r) => r[0])).toEqual(['peer-lost', 'peer-lost']);
    nic.releaseCompletions();
    await sleep(30);
    expect(results).toHaveLength(2);
    await until('the peer to be reported lost', () => events.some((e) => e.kind === 'lost'));
    expect(consumer.dataPlane(peer)).toBeNull();
    const after = await read(consumer, slab!, 0, new Uint8Array(PAGE));
    expect(after[0]).toBe('peer-lost');
  });

  it('a request that gets no completion times out exactly once; its late completion is dropped', async () => {
    const { consumer, peer } = await pair({}, { verbs: { stagingSlots: 8, slotBytes: PAGE, maxBatch: 4, recvSlots: 4, messageBytes: 1024, setupTimeoutMs: 2000, requestTimeoutMs: 150 } });
    const [, slab] = await alloc(consumer, peer, 8 * PAGE);
    await until('the queue pair', () => consumer.dataPlane(peer) === 'verbs');
    nic.holdCompletions = true;
    const results: Done[] = [];
    const into = new Uint8Array(PAGE);
    const started = Date.now();
    consumer.read(peer, slab!, 0, into, (...x) => results.push(x));
    await until('the timeout', () => results.length > 0, 3000);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(results[0][0]).toBe('timeout');
    nic.releaseCompletions();
    await sleep(50);
    expect(results).toHaveLength(1);
    // The queue pair is still fine: a software timeout is not a QP error.
    expect(await read(consumer, slab!, 0, into)).toEqual(['ok', null]);
  });

  it('a work-request error tears the peer down, and the dialler redials and sets up a new queue pair', async () => {
    const { consumer, peer } = await pair({}, { reconnect: { initialDelayNs: 20 * MS_NS, maxDelayNs: 100 * MS_NS, random: () => 0.5 } });
    const [, slab] = await alloc(consumer, peer, 8 * PAGE);
    expect(await write(consumer, slab!, 0, page(5))).toEqual(['ok', null]);
    const qpn = consumer.transport.endpoints()[0].localInfo.qpn;
    nic.breakQueuePair(qpn);
    const failed = await write(consumer, slab!, PAGE, page(6));
    expect(failed[0]).toBe('peer-lost');
    expect(failed[1]).toMatch(/WR_FLUSH_ERR/);
    await until('a new queue pair', () => consumer.counters().qpSetups === 2 && consumer.dataPlane(peer) === 'verbs');
    expect(consumer.counters().qpLost).toBe(1);
    // A new session means a new donor incarnation for this consumer: its slabs were freed on loss.
    const [status, fresh] = await alloc(consumer, peer, 8 * PAGE);
    expect(status).toBe('ok');
    expect(await write(consumer, fresh!, 0, page(7))).toEqual(['ok', null]);
    const into = new Uint8Array(PAGE);
    expect(await read(consumer, fresh!, 0, into)).toEqual(['ok', null]);
    expect(Buffer.from(into).equals(Buffer.from(page(7)))).toBe(true);
  });

  it('moves data over TCP with a peer that has no verbs (a TcpFabric donor)', async () => {
    const tcpDonor = new TcpFabric({ nodeName: 'tcp-donor', secret: SECRET, timeouts: TIMEOUTS, tickIntervalMs: 10, reconnect: false, donor: { capacityBytes: 16 * PAGE } });
    closers.push(() => tcpDonor.close());
    const bound = await tcpDonor.listen(0, '127.0.0.1');
    const consumer = fabric('consumer');
    const [status, info] = await new Promise<[FabricStatus, PeerInfo]>((resolve) => consumer.connect({ host: '127.0.0.1', port: bound.port }, (s, p) => resolve([s, p])));
    expect(status).toBe('ok');
    const [, slab] = await alloc(consumer, info.id!, 4 * PAGE);
    expect(slab!.rkey).toBe(0);
    expect(await write(consumer, slab!, PAGE, page(8))).toEqual(['ok', null]);
    const into = new Uint8Array(PAGE);
    expect(await read(consumer, slab!, PAGE, into)).toEqual(['ok', null]);
    expect(Buffer.from(into).equals(Buffer.from(page(8)))).toBe(true);
    await until('the probe', () => consumer.dataPlane(info.id!) === 'tcp');
    expect(consumer.counters()).toMatchObject({ verbsReads: 0, verbsWrites: 0, tcpFallbackPeers: 1 });
  });

  it('reserves its setup RPC methods', async () => {
    const f = fabric('solo');
    expect(() => f.registerHandler(0x5652_0001, () => undefined)).toThrow(/reserved by the verbs fabric/);
  });
});

/** Peer events and data-plane events of a fabric, from before it connects. */
function watch(f: VerbsFabric): { kinds: () => string[]; planes: DataPlaneEvent[] } {
  const events: PeerEvent[] = [];
  const planes: DataPlaneEvent[] = [];
  f.onPeerEvent((e) => events.push(e));
  f.onDataPlaneEvent((e) => planes.push(e));
  return { kinds: () => events.map((e) => e.kind), planes };
}

/** Records when the fabric dials a side channel (a queue-pair setup attempt), and can hold attempts at a gate. */
function spyDials(f: VerbsFabric): { times: number[]; hold: () => () => void } {
  const times: number[] = [];
  let gate: Promise<void> | null = null;
  const real = f.transport.connect.bind(f.transport);
  f.transport.connect = async (host, port) => {
    times.push(Date.now());
    if (gate !== null) await gate;
    return real(host, port);
  };
  return {
    times,
    hold: () => {
      let open = (): void => undefined;
      gate = new Promise((resolve) => (open = resolve));
      return () => {
        gate = null;
        open();
      };
    },
  };
}

async function connectTo(f: VerbsFabric, port: number): Promise<number> {
  const [status, info] = await new Promise<[FabricStatus, PeerInfo]>((resolve) => f.connect({ host: '127.0.0.1', port }, (s, p) => resolve([s, p])));
  expect(status).toBe('ok');
  return info.id!;
}

/** Results per request, to check each completes exactly once. */
function tracker() {
  const results: Done[][] = [];
  return {
    results,
    next: (): ((status: FabricStatus, reason: string | null) => void) => {
      const mine: Done[] = [];
      results.push(mine);
      return (status, reason) => void mine.push([status, reason]);
    },
    allDone: () => results.every((r) => r.length > 0),
  };
}

// Backoff of the setup retries in these tests: 20 ms doubling to 160 ms, jitter fixed at the middle
// (delays 15, 30, 60, 120, 120, ... ms).
const FAST_RETRY = { initialDelayNs: 20 * MS_NS, maxDelayNs: 160 * MS_NS, random: () => 0.5 };

describe('VerbsFabric when queue-pair setup fails', () => {
  it('keeps the TCP session, moves data over TCP and retries the setup with growing delays: no drop/redial loop', async () => {
    nic.refuseRtr = Infinity;
    const donor = fabric('donor', { donor: { capacityBytes: 64 * PAGE } });
    const consumer = fabric('consumer', { qpSetupRetry: FAST_RETRY, reconnect: { initialDelayNs: 10 * MS_NS, maxDelayNs: 50 * MS_NS, random: () => 0.5 } });
    const seen = watch(consumer);
    const donorSeen = watch(donor);
    const dials = spyDials(consumer);
    const bound = await donor.listen(0, '127.0.0.1');
    await consumer.listen(0, '127.0.0.1');
    const peer = await connectTo(consumer, bound.port);
    const [status, slab] = await alloc(consumer, peer, 8 * PAGE);
    expect(status).toBe('ok');
    expect(slab!.rkey).not.toBe(0);
    await until('the data plane to degrade', () => consumer.dataPlane(peer) === 'degraded');

    expect(await write(consumer, slab!, PAGE, page(11))).toEqual(['ok', null]);
    const into = new Uint8Array(PAGE);
    expect(await read(consumer, slab!, PAGE, into)).toEqual(['ok', null]);
    expect(Buffer.from(into).equals(Buffer.from(page(11)))).toBe(true);
    const lent = donor.donor!.read('consumer', slab!.slabId, PAGE, PAGE) as Uint8Array;
    expect(Buffer.from(lent).equals(Buffer.from(page(11)))).toBe(true);

    await until('four setup attempts', () => dials.times.length >= 4);
    const gaps = dials.times.slice(1).map((t, i) => t - dials.times[i]);
    // Each gap is the backoff delay (15, 30, 60 ms) plus the failed attempt: growing, never a hot loop.
    expect(gaps[0]).toBeGreaterThanOrEqual(13);
    expect(gaps[1]).toBeGreaterThanOrEqual(28);
    expect(gaps[2]).toBeGreaterThanOrEqual(58);
    expect(gaps[2]).toBeGreaterThan(gaps[0]);
    await sleep(100);
    expect(dials.times.length).toBeLessThanOrEqual(6);
    const counters = consumer.counters();
    expect(counters.qpSetupRetries).toBeGreaterThanOrEqual(3);
    expect(counters.qpSetupFailures).toBeGreaterThanOrEqual(counters.qpSetupRetries);
    expect(counters).toMatchObject({ degradedPeers: 1, verbsPeers: 0, tcpFallbackPeers: 0, qpSetups: 0, qpLost: 0, verbsReads: 0, verbsWrites: 0, tcpRequests: 2 });
    expect(nic.refusedRtr).toBeGreaterThanOrEqual(4);
    // The session never went down: one `up` on each side, nothing lost.
    expect(seen.kinds()).toEqual(['up']);
    expect(donorSeen.kinds()).toEqual(['up']);
    expect(consumer.peers().filter((p) => p.state === 'up')).toHaveLength(1);
    // One data-plane event for the change, not one per failed retry.
    expect(seen.planes.map((e) => e.plane)).toEqual(['degraded']);
    expect(seen.planes[0].reason).toMatch(/RDMA queue pair setup failed: .*retry 1 in 15 ms; data goes over TCP meanwhile/);
    // The acceptor was told, so its own data to the consumer goes over TCP too.
    const consumerAtDonor = donor.peers().find((p) => p.nodeName === 'consumer')!.id!;
    expect(donor.dataPlane(consumerAtDonor)).toBe('degraded');
    expect(donor.counters().degradedPeers).toBe(1);
    expect(donorSeen.planes.map((e) => e.plane)).toEqual(['degraded']);
  });

  it('setup fails, then succeeds on retry: queued requests go over TCP exactly once, later ones over RDMA', async () => {
    nic.refuseRtr = 1;
    const donor = fabric('donor', { donor: { capacityBytes: 64 * PAGE } });
    const consumer = fabric('consumer', { qpSetupRetry: { ...FAST_RETRY, initialDelayNs: 60 * MS_NS } });
    const seen = watch(consumer);
    const donorSeen = watch(donor);
    const dials = spyDials(consumer);
    const release = dials.hold();
    const bound = await donor.listen(0, '127.0.0.1');
    await consumer.listen(0, '127.0.0.1');
    const peer = await connectTo(consumer, bound.port);
    const [, slab] = await alloc(consumer, peer, 8 * PAGE);
    expect(consumer.dataPlane(peer)).toBe('connecting');

    // Requests issued while the first setup is under way wait in the link's queue.
    const t = tracker();
    consumer.write(peer, slab!, 0, page(21), t.next());
    consumer.writev(peer, [{ slab: slab!, offsetBytes: PAGE, data: page(22) }, { slab: slab!, offsetBytes: 2 * PAGE, data: page(23) }], t.next());
    consumer.read(peer, slab!, 5 * PAGE, new Uint8Array(PAGE), t.next());
    await sleep(10);
    expect(t.results.flat()).toEqual([]);
    expect(consumer.counters().requestsQueued).toBe(3);

    // The held attempt fails (RTR refused): the queued requests move to TCP; keep issuing writes
    // while the retry sets the queue pair up, and a few after.
    release();
    let issued = 0;
    let afterUp = 0;
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        consumer.write(peer, slab!, (3 + (issued % 5)) * PAGE, page(30 + issued), t.next());
        issued += 1;
        if (consumer.dataPlane(peer) === 'verbs' && ++afterUp === 3) {
          clearInterval(timer);
          resolve();
        }
        if (issued > 500) {
          clearInterval(timer);
          resolve();
        }
      }, 3);
    });
    expect(consumer.dataPlane(peer)).toBe('verbs');
    await until('every request to complete', () => t.allDone());
    await sleep(30);
    // Each request completed exactly once, all ok.
    expect(t.results.map((r) => r.length)).toEqual(new Array(3 + issued).fill(1));
    expect(t.results.map((r) => r[0])).toEqual(new Array(3 + issued).fill(['ok', null]));
    const counters = consumer.counters();
    // Every write went over exactly one plane: TCP requests plus RDMA WRITE pieces cover all of them.
    expect(counters.tcpRequests + counters.verbsWrites).toBe(3 + issued);
    expect(counters.tcpRequests).toBeGreaterThanOrEqual(3);
    expect(counters.verbsWrites).toBeGreaterThanOrEqual(3);
    expect(counters).toMatchObject({ qpSetups: 1, qpSetupFailures: 1, qpSetupRetries: 1, degradedPeers: 0, verbsPeers: 1, qpLost: 0, verbsReads: 0 });

    // Data written over TCP earlier reads back over RDMA now.
    const into = new Uint8Array(PAGE);
    expect(await read(consumer, slab!, 2 * PAGE, into)).toEqual(['ok', null]);
    expect(Buffer.from(into).equals(Buffer.from(page(23)))).toBe(true);
    expect(consumer.counters().verbsReads).toBe(1);
    expect(consumer.counters().tcpRequests).toBe(counters.tcpRequests);
    expect(dials.times).toHaveLength(2);
    expect(seen.kinds()).toEqual(['up']);
    expect(donorSeen.kinds()).toEqual(['up']);
    expect(seen.planes.map((e) => e.plane)).toEqual(['degraded', 'verbs']);
    expect(seen.planes[1].reason).toMatch(/up after 1 failed setups/);
    expect(donorSeen.planes.map((e) => e.plane)).toEqual(['degraded', 'verbs']);
  });

  it('without tcpDataFallback, requests complete rejected (queued ones exactly once) while the setup is retried with backoff', async () => {
    nic.refuseRtr = Infinity;
    const donor = fabric('donor', { donor: { capacityBytes: 64 * PAGE } });
    const consumer = fabric('consumer', { tcpDataFallback: false, qpSetupRetry: FAST_RETRY });
    const seen = watch(consumer);
    const dials = spyDials(consumer);
    const release = dials.hold();
    const bound = await donor.listen(0, '127.0.0.1');
    await consumer.listen(0, '127.0.0.1');
    const peer = await connectTo(consumer, bound.port);
    const [, slab] = await alloc(consumer, peer, 8 * PAGE);
    const t = tracker();
    consumer.write(peer, slab!, 0, page(41), t.next());
    await sleep(10);
    release();
    await until('the queued request to complete', () => t.allDone());
    expect(t.results[0]).toHaveLength(1);
    expect(t.results[0][0][0]).toBe('rejected');
    expect(t.results[0][0][1]).toMatch(/no RDMA queue pair to peer donor .*setup failed.*tcpDataFallback is off/);
    expect(consumer.dataPlane(peer)).toBe('unavailable');
    const later = await read(consumer, slab!, 0, new Uint8Array(PAGE));
    expect(later[0]).toBe('rejected');
    await until('three setup attempts', () => dials.times.length >= 3);
    expect(dials.times[2] - dials.times[1]).toBeGreaterThanOrEqual(28);
    await sleep(20);
    expect(t.results[0]).toHaveLength(1);
    expect(seen.kinds()).toEqual(['up']);
    expect(seen.planes.map((e) => e.plane)).toEqual(['unavailable']);
    expect(consumer.counters()).toMatchObject({ degradedPeers: 1, tcpRequests: 0, verbsWrites: 0, verbsReads: 0, qpLost: 0 });
  });

  it('close() with a retry pending finishes promptly, clears the retry timer, and nothing fires afterwards', async () => {
    nic.refuseRtr = Infinity;
    // Delay 0.75 * 4321 ms = 3241 ms with the jitter at the middle: a number no other timer uses.
    const retryDelayMs = 3241;
    const armed = new Set<unknown>();
    const realSet = globalThis.setTimeout;
    const realClear = globalThis.clearTimeout;
    const setSpy = vi.spyOn(globalThis, 'setTimeout').mockImplementation(((fn: () => void, ms?: number) => {
      const timer = realSet(fn, ms);
      if (ms === retryDelayMs) armed.add(timer);
      return timer;
    }) as typeof setTimeout);
    const clearSpy = vi.spyOn(globalThis, 'clearTimeout').mockImplementation(((timer: ReturnType<typeof setTimeout>) => {
      armed.delete(timer);
      realClear(timer);
    }) as typeof clearTimeout);
    try {
      const donor = fabric('donor', { donor: { capacityBytes: 64 * PAGE } });
      const consumer = fabric('consumer', { qpSetupRetry: { initialDelayNs: 4321 * MS_NS, maxDelayNs: 60_000 * MS_NS, random: () => 0.5 } });
      const seen = watch(consumer);
      const dials = spyDials(consumer);
      const bound = await donor.listen(0, '127.0.0.1');
      await consumer.listen(0, '127.0.0.1');
      const peer = await connectTo(consumer, bound.port);
      await until('the data plane to degrade', () => consumer.dataPlane(peer) === 'degraded');
      expect(armed.size).toBe(1);
      expect(seen.planes[0].reason).toMatch(/retry 1 in 3241 ms/);
      const planes = seen.planes.length;
      const started = Date.now();
      await consumer.close('test close');
      expect(Date.now() - started).toBeLessThan(1500);
      expect(armed.size).toBe(0);
      expect(consumer.counters().degradedPeers).toBe(0);
      expect(consumer.dataPlane(peer)).toBeNull();
      await sleep(50);
      expect(dials.times).toHaveLength(1);
      expect(seen.planes).toHaveLength(planes);
      const [status] = await new Promise<Done>((r) => consumer.read(peer, { peer, slabId: 1, sizeBytes: PAGE, rkey: 5, remoteAddress: 4096 }, 0, new Uint8Array(8), (...x) => r(x)));
      expect(status).toBe('peer-lost');
    } finally {
      setSpy.mockRestore();
      clearSpy.mockRestore();
    }
  });
});

describe('VerbsFabric on this machine', () => {
  it.runIf(verbsLibraryAvailable())('opening the real device fails with the typed no-rdma-device error when there is none', () => {
    let error: unknown = null;
    let opened: VerbsFabric | null = null;
    try {
      opened = new VerbsFabric({ nodeName: 'real', secret: SECRET });
    } catch (err) {
      error = err;
    }
    if (opened !== null) {
      // A machine with an RDMA device: nothing to check here (tools/rdma-smoke covers it).
      void opened.close();
      return;
    }
    expect(error).toBeInstanceOf(VerbsError);
    expect((error as VerbsError).code).toBe('no-rdma-device');
    expect((error as VerbsError).message).toMatch(/--transport tcp/);
  });
});
