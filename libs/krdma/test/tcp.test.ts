// The TCP transport across processes: a consumer (this process) and donors in their own
// processes on 127.0.0.1. Every test has a bounded time; every process is killed in afterAll.
import { createServer, type Socket } from 'node:net';
import seedrandom from 'seedrandom';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReceiveBudget, TcpFabric, type FabricStatus, type PeerEvent, type PeerInfo, type RemoteSlab, type TcpFabricOptions } from '../src/index.js';
import { checksum, OTHER_SECRET, SECRET } from './harness.js';
import { exited, killAll, startNode, type NodeProcess } from './processes.js';

const MS_NS = 1_000_000;
const PAGE = 4096;
const MB = 1 << 20;
const TIMEOUTS = { requestTimeoutNs: 400 * MS_NS, handshakeTimeoutNs: 1000 * MS_NS, heartbeatIntervalNs: 100 * MS_NS, peerDeadAfterNs: 800 * MS_NS };
const secretText = new TextDecoder().decode(SECRET);
const rng = seedrandom('tcp');

function consumer(name: string, extra: Partial<TcpFabricOptions> = {}): TcpFabric {
  const fabric = new TcpFabric({
    nodeName: name,
    secret: SECRET,
    timeouts: TIMEOUTS,
    tickIntervalMs: 20,
    reconnect: { initialDelayNs: 50 * MS_NS, maxDelayNs: 300 * MS_NS, random: rng },
    ...extra,
  });
  fabrics.push(fabric);
  return fabric;
}

function donor(name: string, capacityBytes: number, port = 0): Promise<NodeProcess> {
  return startNode(['--name', name, '--port', String(port), '--secret', secretText, '--capacity', String(capacityBytes), '--timeouts-ms', '2000,200,2000']);
}

const fabrics: TcpFabric[] = [];

function connect(fabric: TcpFabric, port: number): Promise<[FabricStatus, PeerInfo, string | null]> {
  return new Promise((resolve) => fabric.connect({ host: '127.0.0.1', port }, (...args) => resolve(args)));
}

async function connectUp(fabric: TcpFabric, port: number): Promise<number> {
  const [status, peer, reason] = await connect(fabric, port);
  expect([status, reason]).toEqual(['ok', null]);
  return peer.id!;
}

function alloc(fabric: TcpFabric, peer: number, sizeBytes: number): Promise<[FabricStatus, RemoteSlab | null, string | null]> {
  return new Promise((resolve) => fabric.allocSlab(peer, sizeBytes, (...args) => resolve(args)));
}

async function allocOk(fabric: TcpFabric, peer: number, sizeBytes: number): Promise<RemoteSlab> {
  const [status, slab, reason] = await alloc(fabric, peer, sizeBytes);
  expect([status, reason]).toEqual(['ok', null]);
  return slab!;
}

type Done = [FabricStatus, string | null];
const read = (f: TcpFabric, slab: RemoteSlab, offset: number, into: Uint8Array): Promise<Done> => new Promise((r) => f.read(slab.peer, slab, offset, into, (...a) => r(a)));
const write = (f: TcpFabric, slab: RemoteSlab, offset: number, data: Uint8Array): Promise<Done> => new Promise((r) => f.write(slab.peer, slab, offset, data, (...a) => r(a)));

function randomPage(): Uint8Array {
  const page = new Uint8Array(PAGE);
  for (let i = 0; i < PAGE; i += 4) page[i] = Math.floor(rng() * 256);
  page[0] = Math.floor(rng() * 256);
  return page;
}

function waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const poll = setInterval(() => {
      if (predicate()) {
        clearInterval(poll);
        resolve();
      } else if (Date.now() - started > timeoutMs) {
        clearInterval(poll);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }
    }, 10);
  });
}

describe('TCP transport across processes', { timeout: 20_000 }, () => {
  let donorA: NodeProcess;
  let donorB: NodeProcess;

  beforeAll(async () => {
    [donorA, donorB] = await Promise.all([donor('donor-a', 8 * MB), donor('donor-b', 4 * MB)]);
  }, 30_000);

  afterAll(async () => {
    await Promise.all(fabrics.map((f) => f.close()));
    await killAll();
  }, 10_000);

  it('allocates on two donors, writes and reads back pages (single and vectored) with checksums', async () => {
    const c = consumer('consumer-1');
    const a = await connectUp(c, donorA.port);
    const b = await connectUp(c, donorB.port);
    expect(c.peers().filter((p) => p.state === 'up').map((p) => p.nodeName).sort()).toEqual(['donor-a', 'donor-b']);
    const slabs = [await allocOk(c, a, MB), await allocOk(c, a, MB), await allocOk(c, b, MB)];

    // 96 pipelined single-page writes, then reads, all in flight at once.
    const pages = Array.from({ length: 96 }, (_, i) => ({ slab: slabs[i % 3], offset: (i >> 1) * PAGE, data: randomPage() }));
    const unique = new Map(pages.map((p) => [`${p.slab.peer}/${p.slab.slabId}/${p.offset}`, p]));
    const writes = await Promise.all([...unique.values()].map((p) => write(c, p.slab, p.offset, p.data)));
    expect(writes.every(([s]) => s === 'ok')).toBe(true);
    const intos = [...unique.values()].map(() => new Uint8Array(PAGE));
    const reads = await Promise.all([...unique.values()].map((p, i) => read(c, p.slab, p.offset, intos[i])));
    expect(reads.every(([s]) => s === 'ok')).toBe(true);
    [...unique.values()].forEach((p, i) => expect(checksum(intos[i])).toBe(checksum(p.data)));

    // A vectored batch of 64 pages over two slabs of donor-a, then read back in one readv.
    const batch = Array.from({ length: 64 }, (_, i) => ({ slab: slabs[i % 2], offsetBytes: MB / 2 + (i >> 1) * PAGE, data: randomPage() }));
    const [wv] = await new Promise<Done>((r) => c.writev(a, batch, (...x) => r(x)));
    expect(wv).toBe('ok');
    const back = batch.map((p) => ({ slab: p.slab, offsetBytes: p.offsetBytes, into: new Uint8Array(PAGE) }));
    const [rv] = await new Promise<Done>((r) => c.readv(a, back, (...x) => r(x)));
    expect(rv).toBe('ok');
    back.forEach((p, i) => expect(checksum(p.into)).toBe(checksum(batch[i].data)));

    // Page data of writes went to the socket from the callers' buffers, without a copy.
    const counters = c.counters();
    expect(counters.bytesGathered).toBeGreaterThanOrEqual((unique.size + batch.length) * PAGE);
    expect(counters.bytesCopied).toBeLessThan(counters.bytesGathered / 4);

    // A large read (256 KiB, beyond the output arena) and a large RPC payload, both ways.
    const wide = new Uint8Array(256 * 1024);
    expect((await read(c, slabs[0], MB / 2, wide))[0]).toBe('ok');
    batch.forEach((p, i) => {
      if (p.slab === slabs[0]) expect(checksum(wide.subarray(p.offsetBytes - MB / 2, p.offsetBytes - MB / 2 + PAGE))).toBe(checksum(batch[i].data));
    });
    const bigPayload = randomPage().subarray(0, 4000);
    const bigRpc = new Uint8Array(200 * 1024);
    for (let at = 0; at < bigRpc.length; at += bigPayload.length) bigRpc.set(bigPayload.subarray(0, Math.min(bigPayload.length, bigRpc.length - at)), at);
    const [bs, bigReply] = await new Promise<[FabricStatus, Uint8Array | null, string | null]>((r) => c.rpc(a, 1, bigRpc, (...x) => r(x)));
    expect(bs).toBe('ok');
    expect(checksum(bigReply ?? new Uint8Array(0))).toBe(checksum(bigRpc));

    // RPC and stats across the process boundary.
    const payload = new Uint8Array([1, 2, 3, 4, 5]);
    const [rs, reply] = await new Promise<[FabricStatus, Uint8Array | null, string | null]>((r) => c.rpc(b, 1, payload, (...x) => r(x)));
    expect([rs, [...(reply ?? [])]]).toEqual(['ok', [1, 2, 3, 4, 5]]);
    const [ss, stats] = await new Promise<[FabricStatus, unknown, string | null]>((r) => c.stats(a, (...x) => r(x)));
    expect(ss).toBe('ok');
    expect(stats).toMatchObject({ capacityBytes: 8 * MB, peerUsedBytes: 2 * MB });
    for (const slab of slabs) expect((await new Promise<Done>((r) => c.freeSlab(slab.peer, slab, (...x) => r(x))))[0]).toBe('ok');
    await c.close();
  });

  it('refuses a node with the wrong secret, with a reason', async () => {
    const intruder = consumer('intruder', { secret: OTHER_SECRET, reconnect: false });
    const [status, peer, reason] = await connect(intruder, donorA.port);
    expect(status).toBe('rejected');
    expect(reason).toMatch(/secret/);
    expect(peer.state).toBe('refused');
    expect(intruder.peers()[0]).toMatchObject({ state: 'refused' });
    await intruder.close();
  });

  it('enforces donor capacity across processes', async () => {
    const c = consumer('consumer-cap');
    const b = await connectUp(c, donorB.port);
    const big = await allocOk(c, b, 3 * MB);
    const small = await allocOk(c, b, MB);
    const [status, slab, reason] = await alloc(c, b, MB);
    expect([status, slab]).toEqual(['no-space', null]);
    expect(reason).toMatch(/place the slab on another node/);
    // Another consumer cannot touch these slabs.
    const other = consumer('consumer-other');
    await connectUp(other, donorB.port);
    const [s2, r2] = await read(other, { ...big, peer: big.peer }, 0, new Uint8Array(PAGE));
    expect(s2).toBe('rejected');
    expect(r2).toMatch(/not allocated by/);
    for (const s of [big, small]) expect((await new Promise<Done>((r) => c.freeSlab(s.peer, s, (...x) => r(x))))[0]).toBe('ok');
    await Promise.all([c.close(), other.close()]);
  });

  it('reads replies with receiveNow while the event loop is blocked, the turn\'s queued requests going out on endTurn', async () => {
    const c = consumer('consumer-direct');
    const peer = await connectUp(c, donorA.port);
    const slab = await allocOk(c, peer, MB);
    const pages = [randomPage(), randomPage(), randomPage()];
    for (let i = 0; i < pages.length; i++) expect((await write(c, slab, i * PAGE, pages[i]))[0]).toBe('ok');
    expect(c.receiveFds.length).toBe(1);
    const fd = c.receiveFds[0];
    expect(c.receiveNow(-5)).toBe(-1); // not a connection of this fabric
    const readsBefore = c.counters().reads;

    // Everything below runs in one synchronous stretch: the event loop cannot read the socket.
    const intos = pages.map(() => new Uint8Array(PAGE));
    const statuses: (FabricStatus | null)[] = pages.map(() => null);
    const post = (i: number): void => c.read(peer, slab, i * PAGE, intos[i], (status) => void (statuses[i] = status));
    const spin = (ms: number, until: () => boolean): void => {
      const end = Date.now() + ms;
      while (!until() && Date.now() < end) expect(c.receiveNow(fd)).toBeGreaterThanOrEqual(0);
    };
    // The turn's first request goes out at once and its reply completes inside receiveNow.
    post(0);
    spin(2000, () => statuses[0] !== null);
    expect(statuses).toEqual(['ok', null, null]);
    // Later requests of the same turn wait for its end (no reply is due that would flush them).
    post(1);
    post(2);
    spin(50, () => false);
    expect(statuses).toEqual(['ok', null, null]);
    c.endTurn();
    spin(2000, () => statuses.every((s) => s !== null));
    expect(statuses).toEqual(['ok', 'ok', 'ok']);
    intos.forEach((into, i) => expect(checksum(into)).toBe(checksum(pages[i])));
    expect(c.counters().reads).toBeGreaterThan(readsBefore);

    // Back on the loop, its own reads carry on on the same connection.
    const again = new Uint8Array(PAGE);
    expect((await read(c, slab, PAGE, again))[0]).toBe('ok');
    expect(checksum(again)).toBe(checksum(pages[1]));
    await c.close();
    expect(c.receiveFds).toEqual([]);
  });

  it('receiveNow leaves the end of a connection to the event loop, which reports the peer lost', async () => {
    const victim = await donor('donor-eof', 4 * MB);
    const c = consumer('consumer-eof', { reconnect: false });
    const events: PeerEvent[] = [];
    c.onPeerEvent((event) => events.push(event));
    await connectUp(c, victim.port);
    const fd = c.receiveFds[0];
    victim.child.kill('SIGKILL');
    await exited(victim.child);
    const end = Date.now() + 2000;
    let last = 0;
    while (Date.now() < end && (last = c.receiveNow(fd)) === 0) {
      // spin until the kernel reports the end of the stream
    }
    expect(last).toBe(-1);
    await waitFor(() => events.some((e) => e.kind === 'lost'), 2000, 'the peer to be reported lost');
    expect(c.receiveFds).toEqual([]);
    await c.close();
  });

  it('receiveNow never reads the fd of a destroyed socket (its number may be reused before the close event)', async () => {
    const c = consumer('consumer-destroyed', { reconnect: false });
    await connectUp(c, donorA.port);
    const fd = c.receiveFds[0];
    // Destroy the socket the way a protocol error or close() does: the fd closes now, 'close' comes later.
    const socket = (c as unknown as { connections: Set<{ socket: { destroy(): void } }> }).connections.values().next().value!.socket;
    socket.destroy();
    expect(c.receiveNow(fd)).toBe(-1);
    expect(c.receiveFds).toEqual([]); // unwatched at once
    await c.close();
  });

  it('completes every request peer-lost soon after a donor is SIGKILLed mid-run, and nothing hangs', async () => {
    const victim = await donor('donor-k', 8 * MB);
    const c = consumer('consumer-kill');
    const peer = await connectUp(c, victim.port);
    const slab = await allocOk(c, peer, MB);
    const statuses: FabricStatus[] = [];
    let posted = 0;
    let completed = 0;
    let lastCompletionMs = 0;
    const post = (): void => {
      posted++;
      c.read(peer, slab, (posted % 256) * PAGE, new Uint8Array(PAGE), (status) => {
        completed++;
        statuses.push(status);
        lastCompletionMs = Date.now();
        if (status === 'ok' && posted < 1_000_000) post();
      });
    };
    for (let i = 0; i < 32; i++) post();
    await waitFor(() => completed > 500, 5000, '500 reads');
    const killedAt = Date.now();
    victim.child.kill('SIGKILL');
    await waitFor(() => completed === posted, 2000, 'every outstanding read to complete');
    expect(lastCompletionMs - killedAt).toBeLessThan(TIMEOUTS.peerDeadAfterNs / MS_NS + 200);
    expect(statuses.filter((s) => s !== 'ok').every((s) => s === 'peer-lost')).toBe(true);
    expect(statuses.filter((s) => s === 'peer-lost').length).toBeGreaterThan(0);
    const [after] = await read(c, slab, 0, new Uint8Array(PAGE));
    expect(after).toBe('peer-lost');
    await c.close();
  });

  it('a donor that stops answering (SIGSTOP) gives timeout, then peer-lost', async () => {
    const frozen = await donor('donor-s', 8 * MB);
    const c = consumer('consumer-stop', { reconnect: false });
    const events: PeerEvent[] = [];
    c.onPeerEvent((e) => events.push(e));
    const peer = await connectUp(c, frozen.port);
    const slab = await allocOk(c, peer, MB);
    expect((await write(c, slab, 0, randomPage()))[0]).toBe('ok');
    frozen.child.kill('SIGSTOP');
    const started = Date.now();
    const [first, firstReason] = await read(c, slab, 0, new Uint8Array(PAGE));
    expect(first).toBe('timeout');
    expect(firstReason).toMatch(/no answer/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(TIMEOUTS.requestTimeoutNs / MS_NS - 20);
    const [second] = await read(c, slab, 0, new Uint8Array(PAGE));
    expect(second).toBe('peer-lost');
    expect(Date.now() - started).toBeLessThan(TIMEOUTS.peerDeadAfterNs / MS_NS + TIMEOUTS.requestTimeoutNs / MS_NS + 300);
    expect(events.map((e) => e.kind)).toContain('lost');
    expect(events.find((e) => e.kind === 'lost')?.reason).toMatch(/no frame from the peer/);
    frozen.child.kill('SIGKILL');
    await exited(frozen.child);
    await c.close();
  });

  it('closes the connection when requests time out with caller data still queued (no stale write goes out later)', async () => {
    const frozen = await donor('donor-q', 32 * MB);
    const c = consumer('consumer-queue', { reconnect: false });
    const events: PeerEvent[] = [];
    c.onPeerEvent((e) => events.push(e));
    const peer = await connectUp(c, frozen.port);
    const slab = await allocOk(c, peer, 16 * MB);
    frozen.child.kill('SIGSTOP');
    const started = Date.now();
    // 24 MiB of writes: more than the kernel's socket buffers hold, so some stay queued here.
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => write(c, slab, (i % 4) * 4 * MB, new Uint8Array(4 * MB).fill(i + 1))));
    // Those past their deadline at the tick complete `timeout`; the connection is then dropped,
    // so any not yet expired complete `peer-lost`.
    expect(results[0][0]).toBe('timeout');
    expect(results.every(([s]) => s === 'timeout' || s === 'peer-lost')).toBe(true);
    await waitFor(() => events.some((e) => e.kind === 'lost'), 1000, 'the connection to be dropped');
    const lost = events.find((e) => e.kind === 'lost');
    expect(lost?.reason).toMatch(/wait to be sent \(the peer is not reading\)/);
    // Dropped at the request deadline (the reason says so), not by the silence timeout; allow slack for a loaded machine.
    expect(Date.now() - started).toBeLessThan(TIMEOUTS.peerDeadAfterNs / MS_NS + 400);
    frozen.child.kill('SIGKILL');
    await exited(frozen.child);
    await c.close();
  });

  it('close() leaves nothing that keeps a process alive', async () => {
    const started = Date.now();
    const checker = await startNode(['--mode', 'close-check', '--peer', String(donorA.port), '--secret', secretText]);
    await Promise.race([exited(checker.child), new Promise((resolve) => setTimeout(resolve, 5000))]);
    expect(checker.child.exitCode).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('redials a lost donor with backoff and is up again after it restarts', async () => {
    const first = await donor('donor-r', 8 * MB);
    const c = consumer('consumer-redial');
    const events: PeerEvent[] = [];
    c.onPeerEvent((e) => events.push(e));
    const peer = await connectUp(c, first.port);
    const oldSlab = await allocOk(c, peer, MB);
    first.child.kill('SIGKILL');
    await exited(first.child);
    await waitFor(() => events.some((e) => e.kind === 'lost'), 2000, 'the peer to be lost');
    await waitFor(() => c.peers().some((p) => p.id === peer && p.state === 'connecting'), 1000, 'a pending redial in the peer list');
    const again = await donor('donor-r', 8 * MB, first.port);
    await waitFor(() => c.peers().some((p) => p.id === peer && p.state === 'up'), 5000, 'the redialled peer to be up');
    expect(events.filter((e) => e.kind === 'up').length).toBe(2);
    // The restarted donor lost its memory: the old slab is unknown; a new one works.
    const [oldStatus, oldReason] = await read(c, oldSlab, 0, new Uint8Array(PAGE));
    expect(oldStatus).toBe('rejected');
    expect(oldReason).toMatch(/not allocated/);
    const slab = await allocOk(c, peer, MB);
    const page = randomPage();
    expect((await write(c, slab, PAGE, page))[0]).toBe('ok');
    const into = new Uint8Array(PAGE);
    expect((await read(c, slab, PAGE, into))[0]).toBe('ok');
    expect(checksum(into)).toBe(checksum(page));
    again.child.kill('SIGKILL');
    await c.close();
  });
});

describe('TCP transport in one process', { timeout: 10_000 }, () => {
  afterAll(async () => {
    await Promise.all(fabrics.map((f) => f.close()));
  });

  it('redials a peer that drops every session right after it comes up ever more slowly (no reconnect loop)', async () => {
    const flapper = new TcpFabric({ nodeName: 'flapper', secret: SECRET, timeouts: TIMEOUTS, tickIntervalMs: 20, donor: { capacityBytes: MB }, reconnect: false });
    fabrics.push(flapper);
    flapper.onPeerEvent((e) => {
      if (e.kind === 'up' && e.peer.id !== null) setTimeout(() => flapper.dropPeer(e.peer.id!, 'the test drops every session'), 5);
    });
    const { port } = await flapper.listen(0, '127.0.0.1');
    const c = consumer('flap-consumer', { reconnect: { initialDelayNs: 20 * MS_NS, maxDelayNs: 5000 * MS_NS, random: () => 0.5, stableAfterMs: 2000 } });
    const ups: number[] = [];
    c.onPeerEvent((e) => {
      if (e.kind === 'up') ups.push(performance.now());
    });
    await connectUp(c, port);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    // Redials wait about 20, 40, 80, 160, 320, 640 ms: at most ~7 sessions in 1.5 s, where a
    // backoff that restarts at every successful redial would make one every ~20-30 ms (50+).
    expect(ups.length).toBeGreaterThanOrEqual(3);
    expect(ups.length).toBeLessThanOrEqual(9);
    const gaps = ups.slice(1).map((t, i) => t - ups[i]);
    expect(gaps[gaps.length - 1]).toBeGreaterThan(gaps[0] * 2);
    expect(c.counters().flaps).toBeGreaterThanOrEqual(2);
    await c.close();
  });

  it('keeps one connection when two nodes dial each other at once', async () => {
    const x = consumer('node-x');
    const y = consumer('node-y');
    const [px, py] = await Promise.all([x.listen(0, '127.0.0.1'), y.listen(0, '127.0.0.1')]);
    const [[sx], [sy]] = await Promise.all([connect(x, py.port), connect(y, px.port)]);
    expect([sx, sy]).toEqual(['ok', 'ok']);
    await waitFor(() => x.peers().filter((p) => p.state === 'up').length === 1 && y.peers().filter((p) => p.state === 'up').length === 1, 2000, 'one connection each');
    const ping = (f: TcpFabric, id: number): Promise<FabricStatus> => new Promise((r) => f.ping(id, (s) => r(s)));
    expect(await ping(x, y.identity.nodeHash)).toBe('ok');
    expect(await ping(y, x.identity.nodeHash)).toBe('ok');
  });

  it('refuses a frame that would exceed the shared receive budget, and gives the bytes back', async () => {
    const budget = new ReceiveBudget(96 * 1024);
    const donorNode = consumer('budget-donor', { donor: { capacityBytes: 4 * MB }, receiveBudget: budget });
    const { port } = await donorNode.listen(0, '127.0.0.1');
    const c = consumer('budget-consumer', { reconnect: false });
    const peer = await connectUp(c, port);
    const slab = await allocOk(c, peer, MB);
    const small = new Uint8Array(16 * 1024).fill(3);
    expect((await write(c, slab, 0, small))[0]).toBe('ok');
    const [status] = await write(c, slab, 0, new Uint8Array(512 * 1024).fill(9));
    expect(status).not.toBe('ok');
    expect(budget.refusals).toBeGreaterThan(0);
    expect(budget.heldBytes).toBe(0);
    expect(budget.peakBytes).toBeLessThanOrEqual(96 * 1024);
  });

  it('bounds requests in flight per peer (beyond it: busy)', async () => {
    const d = consumer('bound-donor', { donor: { capacityBytes: 4 * MB } });
    const { port } = await d.listen(0, '127.0.0.1');
    const c = consumer('bound-consumer', { maxInFlight: 4, reconnect: false });
    const peer = await connectUp(c, port);
    const slab = await allocOk(c, peer, MB);
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => read(c, slab, i * PAGE, new Uint8Array(PAGE))));
    expect(results.filter(([s]) => s === 'ok').length).toBe(4);
    expect(results.filter(([s]) => s === 'busy').length).toBe(6);
    expect(results.find(([s]) => s === 'busy')?.[1]).toMatch(/in flight/);
  });

  it('a listener that accepts but never authenticates makes connect time out', async () => {
    const accepted: Socket[] = [];
    const silent = createServer((socket) => void accepted.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const c = consumer('patient', { reconnect: false });
    const started = Date.now();
    const [status, peer, reason] = await connect(c, (silent.address() as { port: number }).port);
    expect(status).toBe('timeout');
    expect(reason).toMatch(/authentication did not finish/);
    expect(peer.state).toBe('lost');
    expect(Date.now() - started).toBeLessThan(TIMEOUTS.handshakeTimeoutNs / MS_NS + 500);
    await c.close();
    accepted.forEach((socket) => socket.destroy());
    await new Promise((resolve) => silent.close(resolve));
  });

  it('fails connect with a clear reason when nothing listens, and close() leaves no handles', async () => {
    const c = consumer('lonely', { reconnect: false });
    const probe = consumer('probe');
    const { port } = await probe.listen(0, '127.0.0.1');
    await probe.close();
    const [status, , reason] = await connect(c, port);
    expect(status).toBe('peer-lost');
    expect(reason).toMatch(/ECONNREFUSED/);
    await c.close();
    const [after] = await connect(c, port);
    expect(after).toBe('peer-lost');
  });
});
