// TCP transport benchmark: RPC round trip and 4 KiB page-read throughput over 127.0.0.1 to a
// donor in another process, each beside a raw node:net request/reply of the same frame sizes
// against a bare server in another process, measured in the same run (rounds interleaved).
// Usage: npm run bench -w @rackmem/krdma [-- --seconds S --rounds R --rtt-count N]
// Prints JSON. MBps = 10^6 bytes of page data per second.
import { readFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { cpus, loadavg } from 'node:os';
import { TcpFabric, type RemoteSlab } from '../src/index.js';
import { killAll, startNode } from '../test/processes.js';

function arg(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

const SECONDS = arg('seconds', 1.5);
const ROUNDS = arg('rounds', 3);
const RTT_COUNT = arg('rtt-count', 10_000);
const PAGE = 4096;
const SECRET = 'rackmem bench cluster secret 0001';
/** An rpc frame with an 8-byte payload is 28 bytes, its reply 24; a read frame is 32, its reply 4112. */
const RPC_REQUEST = 28;
const RPC_REPLY = 24;
const READ_REQUEST = 32;
const READ_REPLY = 16 + PAGE;

const nowUs = (): number => performance.now() * 1000;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const percentile = (xs: number[], p: number): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
};
const round2 = (x: number): number => Math.round(x * 100) / 100;

/** CPU time (user + system) of a process in microseconds, from /proc (Linux; 0 elsewhere). */
function cpuUs(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100; // clock ticks at USER_HZ 100
  } catch {
    return 0;
  }
}

/** Runs `run` (which returns page MB/s over `seconds`) and adds CPU microseconds per page of this process and of `serverPid`. */
async function withCpu(serverPid: number | undefined, cpu: { client: number[]; server: number[] }, run: () => Promise<number>): Promise<number> {
  const client0 = process.cpuUsage();
  const server0 = cpuUs(serverPid);
  const started = performance.now();
  const mbps = await run();
  const pages = (mbps * 1e6 * ((performance.now() - started) / 1000)) / PAGE;
  const client = process.cpuUsage(client0);
  cpu.client.push((client.user + client.system) / pages);
  cpu.server.push((cpuUs(serverPid) - server0) / pages);
  return mbps;
}

// ---- raw node:net reference ----------------------------------------------------------------

class RawClient {
  reads = 0;
  writes = 0;
  private expected = 0;
  private onReplies: ((count: number) => void) | null = null;
  private replyBytes = 1;
  private pendingBytes = 0;

  constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.reads++;
      this.pendingBytes += chunk.length;
      const whole = Math.floor(this.pendingBytes / this.replyBytes);
      if (whole === 0) return;
      this.pendingBytes -= whole * this.replyBytes;
      this.expected -= whole;
      this.onReplies?.(whole);
    });
  }

  static open(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = netConnect({ host: '127.0.0.1', port, noDelay: true }, () => resolve(new RawClient(socket)));
      socket.once('error', reject);
    });
  }

  private request(requestBytes: number, replyBytes: number, count: number): Buffer {
    const out = Buffer.alloc(requestBytes * count);
    for (let i = 0; i < count; i++) {
      out.writeUInt32LE(requestBytes, i * requestBytes);
      out.writeUInt32LE(replyBytes, i * requestBytes + 4);
    }
    return out;
  }

  /** Sequential round trips; returns each in microseconds. */
  async rtt(count: number): Promise<number[]> {
    this.replyBytes = RPC_REPLY;
    const samples: number[] = [];
    const one = this.request(RPC_REQUEST, RPC_REPLY, 1);
    for (let i = 0; i < count; i++) {
      const started = nowUs();
      await new Promise<void>((resolve) => {
        this.onReplies = () => resolve();
        this.socket.write(one);
      });
      samples.push(nowUs() - started);
    }
    return samples;
  }

  /** Page-sized replies with `depth` requests outstanding for `seconds`; returns page MB/s. */
  throughput(depth: number, seconds: number): Promise<number> {
    this.replyBytes = READ_REPLY;
    const batch = this.request(READ_REQUEST, READ_REPLY, depth);
    let done = 0;
    const started = nowUs();
    const endAt = started + seconds * 1e6;
    return new Promise((resolve) => {
      let outstanding = depth;
      this.onReplies = (count) => {
        done += count;
        outstanding -= count;
        if (nowUs() < endAt) {
          outstanding += count;
          this.writes++;
          this.socket.write(batch.subarray(0, count * READ_REQUEST));
        } else if (outstanding === 0) {
          resolve((done * PAGE) / (nowUs() - started));
        }
      };
      this.socket.write(batch);
    });
  }
}

// ---- rackmem TCP transport -----------------------------------------------------------------

function fabricRtt(fabric: TcpFabric, peer: number, count: number): Promise<number[]> {
  const payload = new Uint8Array(8);
  const samples: number[] = [];
  return new Promise((resolve, reject) => {
    let started = 0;
    const next = (): void => {
      if (samples.length === count) return resolve(samples);
      started = nowUs();
      fabric.rpc(peer, 1, payload, (status, _reply, reason) => {
        if (status !== 'ok') return reject(new Error(`rpc ${status}: ${reason}`));
        samples.push(nowUs() - started);
        next();
      });
    };
    next();
  });
}

function fabricThroughput(fabric: TcpFabric, slab: RemoteSlab, depth: number, seconds: number): Promise<number> {
  const pagesInSlab = slab.sizeBytes / PAGE;
  let done = 0;
  let issued = 0;
  let outstanding = 0;
  const started = nowUs();
  const endAt = started + seconds * 1e6;
  return new Promise((resolve, reject) => {
    const post = (into: Uint8Array): void => {
      outstanding++;
      fabric.read(slab.peer, slab, (issued++ % pagesInSlab) * PAGE, into, (status, reason) => {
        outstanding--;
        if (status !== 'ok') return reject(new Error(`read ${status}: ${reason}`));
        done++;
        // Read the clock once per 32 completions (the raw loop reads it once per socket read).
        if ((done & 31) !== 0 || nowUs() < endAt) post(into);
        else if (outstanding === 0) resolve((done * PAGE) / (nowUs() - started));
      });
    };
    for (let i = 0; i < depth; i++) post(new Uint8Array(PAGE));
  });
}

async function main(): Promise<void> {
  const [donor, raw] = await Promise.all([
    startNode(['--name', 'bench-donor', '--secret', SECRET, '--capacity', String(64 << 20), '--timeouts-ms', '10000,1000,10000']),
    startNode(['--mode', 'raw']),
  ]);
  const fabric = new TcpFabric({ nodeName: 'bench-consumer', secret: new TextEncoder().encode(SECRET), reconnect: false });
  const rawClient = await RawClient.open(raw.port);
  const peer = await new Promise<number>((resolve, reject) =>
    fabric.connect({ host: '127.0.0.1', port: donor.port }, (status, info, reason) => (status === 'ok' ? resolve(info.id!) : reject(new Error(`${status}: ${reason}`)))),
  );
  const slab = await new Promise<RemoteSlab>((resolve, reject) =>
    fabric.allocSlab(peer, 16 << 20, (status, s, reason) => (status === 'ok' && s !== null ? resolve(s) : reject(new Error(`${status}: ${reason}`)))),
  );
  // Warm up both paths (JIT, socket buffers).
  await rawClient.rtt(2000);
  await fabricRtt(fabric, peer, 2000);
  await rawClient.throughput(32, 0.3);
  await fabricThroughput(fabric, slab, 32, 0.3);

  const rawRtt: number[] = [];
  const rpcRtt: number[] = [];
  const results: Record<string, number[]> = { raw1: [], raw32: [], page1: [], page32: [] };
  const syscalls = { rawReadsPerPage: [] as number[], rawWritesPerPage: [] as number[], consumerReadsPerPage: [] as number[], consumerWritesPerPage: [] as number[] };
  const assembled: number[] = [];
  const rawCpu = { client: [] as number[], server: [] as number[] };
  const fabricCpu = { client: [] as number[], server: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    rawRtt.push(...(await rawClient.rtt(RTT_COUNT)));
    rpcRtt.push(...(await fabricRtt(fabric, peer, RTT_COUNT)));
    results.raw1.push(await rawClient.throughput(1, SECONDS / 2));
    results.page1.push(await fabricThroughput(fabric, slab, 1, SECONDS / 2));
    const raw0 = { reads: rawClient.reads, writes: rawClient.writes };
    const fab0 = fabric.counters();
    results.raw32.push(await withCpu(raw.child.pid, rawCpu, () => rawClient.throughput(32, SECONDS)));
    const rawPages = (results.raw32[results.raw32.length - 1] * 1e6 * SECONDS) / PAGE;
    syscalls.rawReadsPerPage.push((rawClient.reads - raw0.reads) / rawPages);
    syscalls.rawWritesPerPage.push((rawClient.writes - raw0.writes) / rawPages);
    results.page32.push(await withCpu(donor.child.pid, fabricCpu, () => fabricThroughput(fabric, slab, 32, SECONDS)));
    const fab1 = fabric.counters();
    const fabPages = (results.page32[results.page32.length - 1] * 1e6 * SECONDS) / PAGE;
    syscalls.consumerReadsPerPage.push((fab1.reads - fab0.reads) / fabPages);
    syscalls.consumerWritesPerPage.push((fab1.flushes - fab0.flushes) / fabPages);
    assembled.push((fab1.framesAssembled - fab0.framesAssembled) / (fab1.framesIn - fab0.framesIn));
  }
  const rpcRttMedianUs = median(rpcRtt);
  const rawEchoRttMedianUs = median(rawRtt);
  const pageReadMBps32 = median(results.page32);
  const rawSocketMBps32 = median(results.raw32);
  const pageReadMBps1 = median(results.page1);
  const rawSocketMBps1 = median(results.raw1);
  const report = {
    bench: 'krdma-tcp',
    host: '127.0.0.1',
    rounds: ROUNDS,
    secondsPerThroughputRun: SECONDS,
    roundTripsPerRound: RTT_COUNT,
    rpcRttMedianUs: round2(rpcRttMedianUs),
    rpcRttP99Us: round2(percentile(rpcRtt, 0.99)),
    rawEchoRttMedianUs: round2(rawEchoRttMedianUs),
    rawEchoRttP99Us: round2(percentile(rawRtt, 0.99)),
    rpcRttVsRaw: round2(rpcRttMedianUs / rawEchoRttMedianUs),
    pageReadMBps1: round2(pageReadMBps1),
    rawSocketMBps1: round2(rawSocketMBps1),
    pageRead1VsRaw: round2(pageReadMBps1 / rawSocketMBps1),
    pageReadMBps32: round2(pageReadMBps32),
    rawSocketMBps32: round2(rawSocketMBps32),
    pageRead32VsRaw: round2(pageReadMBps32 / rawSocketMBps32),
    // Ratios of each round's adjacent measurements (steadier on a loaded machine), their median.
    pageRead32VsRawRoundMedian: round2(median(results.page32.map((x, i) => x / results.raw32[i]))),
    loadAverage1m: round2(loadavg()[0]),
    cpus: cpus().length,
    cpuUsPerPageAt32: {
      consumer: round2(median(fabricCpu.client)),
      donor: round2(median(fabricCpu.server)),
      rawClient: round2(median(rawCpu.client)),
      rawServer: round2(median(rawCpu.server)),
    },
    socketCallsPerPageAt32: Object.fromEntries(Object.entries(syscalls).map(([k, v]) => [k, Math.round(median(v) * 1000) / 1000])),
    consumerRepliesSplitAcrossReadsAt32: Math.round(median(assembled) * 1000) / 1000,
    perRound: Object.fromEntries(Object.entries(results).map(([k, v]) => [k, v.map(round2)])),
    goals: { pageRead32VsRawAtLeast: 0.8, rpcRttVsRawAtMost: 1.2 },
  };
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  rawClient['socket'].destroy();
  await fabric.close();
  await killAll(2000);
}

main().catch(async (error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  await killAll();
  process.exit(1);
});
