// Drives the real binding code (ops-table decoding, VerbsDataPath, VerbsChannel, CqPoller) through
// a fake ibv_context whose ops table holds koffi-registered JS verbs (fake-nic.ts).
import koffi from 'koffi';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FabricStatus } from '../../internal/fabric.js';
import { IBV_WC_STATUS_NAMES, IbvWcStatus, IbvWrOpcode, IbvSendFlags } from './abi.js';
import { VerbsChannel, type RemoteRegion } from './channel.js';
import { VerbsDataPath, type VerbsDataPathOptions } from './data-path.js';
import { FakeVerbsNic, type FakeQueuePair } from './fake-nic.js';
import type { RegisteredBuffer } from './memory.js';
import { contextOf, contextOps } from './ops.js';
import { CqPoller } from './poller.js';
import { statusOfWc } from './wc-status.js';

type Done = { status: FabricStatus; reason: string | null };

const immediate = (fn: () => void): void => void setImmediate(fn);
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

let nic: FakeVerbsNic;
let pair: FakeQueuePair;
let local: RegisteredBuffer;
let remoteBytes: Buffer;
let remote: RemoteRegion;
let clockNs: number;
const paths: VerbsDataPath[] = [];
const pollers: CqPoller[] = [];
const callbacksBefore = koffi.stats().callbacks;

function dataPath(options: Partial<VerbsDataPathOptions> = {}, queuePair = pair): VerbsDataPath {
  const dp = new VerbsDataPath({
    qp: queuePair.qp, cq: queuePair.cq, ops: contextOps(contextOf(queuePair.qp)), maxOutstanding: 8, maxBatch: 4, pollBatch: 4,
    timeoutNs: 1_000_000_000, nowNs: () => clockNs, defer: immediate, ...options,
  });
  paths.push(dp);
  return dp;
}

beforeEach(() => {
  nic = new FakeVerbsNic();
  pair = nic.createQueuePair();
  local = nic.registrar().register(8192, 7);
  remoteBytes = Buffer.alloc(65536);
  const exposed = nic.exposeRemote(remoteBytes);
  remote = { address: exposed.address, rkey: exposed.rkey, lengthBytes: remoteBytes.length };
  clockNs = 0;
});

afterEach(() => {
  for (const poller of pollers.splice(0)) poller.stop();
  for (const dp of paths.splice(0)) dp.close();
  nic.close();
  expect(koffi.stats().callbacks).toBe(callbacksBefore);
});

describe('ops table', () => {
  it('reads post_send/post_recv/poll_cq from ctx+208/216/96 of the QP\'s and CQ\'s context, once', () => {
    expect(contextOf(pair.qp)).toBe(nic.context);
    expect(contextOf(pair.cq)).toBe(nic.context);
    const ops = contextOps(nic.context);
    expect(ops.context).toBe(nic.context);
    expect(ops.reqNotifyCq).toBeNull();
    expect(contextOps(nic.context)).toBe(ops);
    expect(ops.pollCq(pair.cq, 4, koffi.alloc('uint8_t', 1) as bigint)).toBe(0);
    expect(nic.pollCalls).toBe(1);
  });
});

describe('VerbsDataPath through the fake ops table', () => {
  it('WRITE then READ move the data, with wr_id, opcode, sge, remote_addr and rkey decoded from raw memory', async () => {
    const dp = dataPath();
    local.bytes.fill(0xab, 0, 4096);
    const results: Done[] = [];
    dp.write({ localAddress: local.address, lkey: local.lkey, lengthBytes: 4096, remoteAddress: BigInt(remote.address) + 8192n, rkey: remote.rkey }, (status, reason) => results.push({ status, reason }));
    expect(results).toEqual([]);
    expect(nic.posted).toHaveLength(1);
    const [wr] = nic.posted;
    expect(wr.opcode).toBe(IbvWrOpcode.RDMA_WRITE);
    expect(wr.sendFlags).toBe(IbvSendFlags.SIGNALED);
    expect(wr.remoteAddress).toBe(BigInt(remote.address) + 8192n);
    expect(wr.rkey).toBe(remote.rkey);
    expect(wr.sges).toEqual([{ address: local.address, length: 4096, lkey: local.lkey }]);
    expect(dp.poll()).toBe(1);
    expect(results).toEqual([{ status: 'ok', reason: null }]);
    expect(remoteBytes.subarray(8192, 8192 + 4096).every((b) => b === 0xab)).toBe(true);
    expect(remoteBytes[8191]).toBe(0);

    remoteBytes.fill(0x5c, 100, 100 + 300);
    dp.read({ localAddress: local.address + 4096n, lkey: local.lkey, lengthBytes: 300, remoteAddress: BigInt(remote.address) + 100n, rkey: remote.rkey }, (status, reason) => results.push({ status, reason }));
    expect(nic.posted[1].opcode).toBe(IbvWrOpcode.RDMA_READ);
    expect(dp.poll()).toBe(1);
    expect(results[1]).toEqual({ status: 'ok', reason: null });
    expect(local.bytes.subarray(4096, 4396).every((b) => b === 0x5c)).toBe(true);
    expect(dp.counters).toMatchObject({ posted: 2, completedOk: 2, completedFailed: 0 });
    await tick();
  });

  it('round-trips wr_id: each completion reaches the callback of its own request', () => {
    const dp = dataPath();
    const seen: number[] = [];
    for (let i = 0; i < 6; i += 1) {
      dp.read({ localAddress: local.address + BigInt(i * 8), lkey: local.lkey, lengthBytes: 8, remoteAddress: BigInt(remote.address + i * 8), rkey: remote.rkey }, () => seen.push(i));
    }
    const ids = nic.posted.map((wr) => `${wr.wrIdLow}/${wr.wrIdHigh}`);
    expect(new Set(ids).size).toBe(6);
    while (dp.poll() > 0);
    expect(seen).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('maps error completions to Fabric statuses', () => {
    const dp = dataPath();
    const cases: [number, FabricStatus][] = [
      [IbvWcStatus.REM_ACCESS_ERR, 'rejected'], [IbvWcStatus.RETRY_EXC_ERR, 'peer-lost'], [IbvWcStatus.WR_FLUSH_ERR, 'peer-lost'],
      [IbvWcStatus.RESP_TIMEOUT_ERR, 'timeout'], [IbvWcStatus.LOC_PROT_ERR, 'error'], [IbvWcStatus.GENERAL_ERR, 'error'],
    ];
    const got: Done[] = [];
    for (const [wcStatus] of cases) {
      nic.forcedStatuses.push(wcStatus);
      dp.write({ localAddress: local.address, lkey: local.lkey, lengthBytes: 16, remoteAddress: BigInt(remote.address), rkey: remote.rkey }, (status, reason) => got.push({ status, reason }));
      dp.poll();
    }
    expect(got.map((d) => d.status)).toEqual(cases.map(([, s]) => s));
    expect(got[1].reason).toMatch(/RETRY_EXC_ERR \(12\)/);
    // A real access error from the fake: an rkey nobody registered, and a range past the region.
    dp.read({ localAddress: local.address, lkey: local.lkey, lengthBytes: 16, remoteAddress: BigInt(remote.address), rkey: 0xdead }, (status) => got.push({ status, reason: null }));
    dp.read({ localAddress: local.address, lkey: local.lkey, lengthBytes: 16, remoteAddress: BigInt(remote.address + remote.lengthBytes - 8), rkey: remote.rkey }, (status) => got.push({ status, reason: null }));
    dp.read({ localAddress: local.address, lkey: 0xbeef, lengthBytes: 16, remoteAddress: BigInt(remote.address), rkey: remote.rkey }, (status) => got.push({ status, reason: null }));
    while (dp.poll() > 0);
    expect(got.slice(cases.length).map((d) => d.status)).toEqual(['rejected', 'rejected', 'error']);
  });

  it('maps every ibv_wc status code', () => {
    const mapped = IBV_WC_STATUS_NAMES.map((_, code) => statusOfWc(code));
    expect(mapped[0]).toBe('ok');
    expect(mapped.slice(1).every((s) => s !== 'ok')).toBe(true);
    expect(statusOfWc(999)).toBe('error');
  });

  it('holds the outstanding-WR bound: excess requests complete busy, the CQ never holds more than the bound', async () => {
    const dp = dataPath({ maxOutstanding: 4, maxBatch: 4 });
    nic.holdCompletions = true;
    const got: FabricStatus[] = [];
    for (let i = 0; i < 7; i += 1) {
      dp.read({ localAddress: local.address, lkey: local.lkey, lengthBytes: 8, remoteAddress: BigInt(remote.address), rkey: remote.rkey }, (status) => got.push(status));
    }
    expect(nic.posted).toHaveLength(4);
    expect(dp.outstanding).toBe(4);
    expect(got).toEqual([]);
    await tick();
    expect(got).toEqual(['busy', 'busy', 'busy']);
    expect(dp.poll()).toBe(0);
    nic.releaseCompletions();
    while (dp.poll() > 0);
    expect(got.filter((s) => s === 'ok')).toHaveLength(4);
    expect(nic.maxQueuedCompletions(pair.cq)).toBeLessThanOrEqual(4);
    expect(dp.outstanding).toBe(0);
    expect(dp.counters.busy).toBe(3);
  });

  it('a failed post_send completes the request with error and the errno, asynchronously, and frees its slot', async () => {
    const dp = dataPath();
    nic.nextPostSendErrno = 12;
    const got: Done[] = [];
    dp.write({ localAddress: local.address, lkey: local.lkey, lengthBytes: 8, remoteAddress: BigInt(remote.address), rkey: remote.rkey }, (status, reason) => got.push({ status, reason }));
    expect(got).toEqual([]);
    await tick();
    expect(got).toEqual([{ status: 'error', reason: expect.stringMatching(/ENOMEM \(12\)/) as unknown as string }]);
    expect(dp.outstanding).toBe(0);
  });

  it('a software timeout completes timeout once; the late completion is dropped and frees the slot', () => {
    const dp = dataPath({ timeoutNs: 5_000_000 });
    nic.holdCompletions = true;
    const got: FabricStatus[] = [];
    dp.read({ localAddress: local.address, lkey: local.lkey, lengthBytes: 8, remoteAddress: BigInt(remote.address), rkey: remote.rkey }, (status) => got.push(status));
    clockNs = 4_000_000;
    expect(dp.expire(clockNs)).toBe(0);
    clockNs = 5_000_000;
    expect(dp.expire(clockNs)).toBe(1);
    expect(got).toEqual(['timeout']);
    expect(dp.outstanding).toBe(1);
    nic.releaseCompletions();
    expect(dp.poll()).toBe(1);
    expect(got).toEqual(['timeout']);
    expect(dp.outstanding).toBe(0);
    expect(dp.counters.staleCompletions).toBe(1);
  });

  it('close completes pending requests peer-lost and refuses new ones', async () => {
    const dp = dataPath();
    nic.holdCompletions = true;
    const got: FabricStatus[] = [];
    dp.read({ localAddress: local.address, lkey: local.lkey, lengthBytes: 8, remoteAddress: BigInt(remote.address), rkey: remote.rkey }, (status) => got.push(status));
    dp.close();
    dp.read({ localAddress: local.address, lkey: local.lkey, lengthBytes: 8, remoteAddress: BigInt(remote.address), rkey: remote.rkey }, (status) => got.push(status));
    await tick();
    expect(got).toEqual(['peer-lost', 'peer-lost']);
  });
});

describe('VerbsChannel through the fake ops table', () => {
  function channelPair() {
    const a = nic.createQueuePair();
    const b = nic.createQueuePair();
    nic.connect(a, b);
    const make = (qp: FakeQueuePair) => {
      const stagingBuffer = nic.registrar().register(8 * 4096, 7);
      const recvBuffer = nic.registrar().register(4 * 1024, 7);
      const staging = { address: stagingBuffer.address, lkey: stagingBuffer.lkey, bytes: stagingBuffer.bytes, slotBytes: 4096 };
      const dp = dataPath({ staging, maxOutstanding: 8, maxBatch: 4 }, qp);
      const channel = new VerbsChannel({
        dataPath: dp, staging, recv: recvBuffer, recvSlots: 4, messageBytes: 1024, peerRecvSlots: 4, peerMessageBytes: 1024,
        rpcTimeoutNs: 1_000_000_000, nowNs: () => clockNs, defer: immediate,
      });
      channel.postReceives();
      const poller = new CqPoller({ pollOnce: () => dp.poll(), busy: () => dp.pending > 0 || channel.callsInFlight > 0, onRound: () => { dp.expire(clockNs); channel.expire(clockNs); }, onError: (err) => { throw err; } });
      pollers.push(poller);
      return { dp, channel, poller };
    };
    return { a: make(a), b: make(b) };
  }

  it('reads and writes pages through staging slots, vectored in one post_send', async () => {
    const { a } = channelPair();
    a.poller.start();
    const pages = [0, 1, 2].map((i) => Buffer.alloc(4096, 0x10 + i));
    const calls = nic.postSendCalls;
    const wrote = await new Promise<Done>((resolve) => a.channel.writev(pages.map((data, i) => ({ region: remote, offsetBytes: i * 8192, data })), (status, reason) => resolve({ status, reason })));
    expect(wrote.status).toBe('ok');
    expect(nic.postSendCalls).toBe(calls + 1);
    expect(remoteBytes[8192]).toBe(0x11);
    expect(remoteBytes[16384 + 4095]).toBe(0x12);
    const into = pages.map(() => Buffer.alloc(4096));
    const read = await new Promise<Done>((resolve) => a.channel.readv(into.map((buf, i) => ({ region: remote, offsetBytes: i * 8192, into: buf })), (status, reason) => resolve({ status, reason })));
    expect(read.status).toBe('ok');
    expect(into.map((buf) => buf.equals(pages[into.indexOf(buf)]))).toEqual([true, true, true]);
    const one = Buffer.alloc(100);
    const single = await new Promise<Done>((resolve) => a.channel.read(remote, 8192 + 10, one, (status, reason) => resolve({ status, reason })));
    expect(single.status).toBe('ok');
    expect(one.every((b) => b === 0x11)).toBe(true);
    a.poller.stop();
  });

  it('rejects out-of-range and oversize requests without posting', async () => {
    const { a } = channelPair();
    const before = nic.posted.length;
    const got: Done[] = [];
    a.channel.read(remote, remote.lengthBytes - 10, Buffer.alloc(20), (status, reason) => got.push({ status, reason }));
    a.channel.write(remote, 0, Buffer.alloc(5000), (status, reason) => got.push({ status, reason }));
    await tick();
    expect(got.map((d) => d.status)).toEqual(['rejected', 'rejected']);
    expect(got[1].reason).toMatch(/staging slot/);
    expect(nic.posted.length).toBe(before);
  });

  it('serves RPCs by SEND/RECV with pre-posted receives: ok, unknown method, oversize', async () => {
    const { a, b } = channelPair();
    a.poller.start();
    b.poller.start();
    b.channel.registerHandler(7, (payload, respond) => respond('ok', Buffer.from(Buffer.from(payload).toString('utf8').toUpperCase())));
    b.channel.registerHandler(8, (_payload, respond) => respond('no-space'));
    const call = (method: number, payload: Uint8Array) =>
      new Promise<{ status: FabricStatus; reply: string | null }>((resolve) => a.channel.rpc(method, payload, (status, reply) => resolve({ status, reply: reply === null ? null : Buffer.from(reply).toString('utf8') })));
    for (let i = 0; i < 10; i += 1) expect(await call(7, Buffer.from(`hello ${i}`))).toEqual({ status: 'ok', reply: `HELLO ${i}` });
    expect(await call(8, Buffer.from('x'))).toEqual({ status: 'no-space', reply: null });
    expect(await call(99, Buffer.from('x'))).toEqual({ status: 'rejected', reply: null });
    expect(await call(7, Buffer.alloc(2000))).toEqual({ status: 'rejected', reply: null });
    const parallel = await Promise.all([1, 2].map((i) => call(7, Buffer.from(`p${i}`))));
    expect(parallel.map((r) => r.reply)).toEqual(['P1', 'P2']);
    expect(b.channel.counters.rpcsServed).toBe(14);
    a.poller.stop();
    b.poller.stop();
  });

  it('an RPC with no reply times out; a lost peer fails the calls in flight', async () => {
    const { a, b } = channelPair();
    b.channel.registerHandler(1, () => undefined);
    a.poller.start();
    b.poller.start();
    const got: FabricStatus[] = [];
    a.channel.rpc(1, Buffer.from('x'), (status) => got.push(status));
    for (let i = 0; i < 5 && b.channel.counters.rpcsServed === 0; i += 1) await tick();
    expect(b.channel.counters.rpcsServed).toBe(1);
    clockNs = 2_000_000_000;
    for (let i = 0; i < 5 && got.length === 0; i += 1) await tick();
    expect(got).toEqual(['timeout']);
    a.channel.rpc(1, Buffer.from('y'), (status) => got.push(status));
    a.channel.fail('peer-lost', 'side channel closed');
    a.channel.rpc(1, Buffer.from('z'), (status) => got.push(status));
    await tick();
    expect(got).toEqual(['timeout', 'peer-lost', 'peer-lost']);
    a.poller.stop();
    b.poller.stop();
  });
});
