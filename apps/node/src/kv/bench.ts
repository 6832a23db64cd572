// `rackmem kv bench`: for each local-memory ratio, a local rack (two memory nodes over TCP), a kv
// service in this process whose region pages to them, the keys loaded, then autocannon (in a
// worker thread) with zipfian keys; throughput, latency and the region's fault counters per ratio.
import type { PolicySetName } from '@rackmem/vm';
import { Worker } from 'node:worker_threads';
import type { BenchWorkerInput, BenchWorkerResult } from './bench-worker.js';
import { benchKey, benchValue } from './keys.js';
import { ENTRY_HEADER_BYTES, HEADER_BYTES, MAX_LOAD_FACTOR, MAX_VALUE_BYTES, MIN_RUN_BYTES, SIZE_CLASS_BYTES, SLOT_BYTES, runBytesOf, sizeClassOf } from './layout.js';
import { startMemoryNodes, type MemoryNodes } from '../demo/memory-nodes.js';
import { KvService } from './service.js';
import { YCSB_ZIPFIAN_THETA } from './zipf.js';

const RUNNING_FROM_SOURCE = import.meta.url.endsWith('.ts');
const PAGE_BYTES = 4096;
const MiB = 1 << 20;

/** Options of {@link runKvBench}. */
export interface KvBenchOptions {
  keys: number;
  valueBytes: number;
  /** Measured seconds per ratio. */
  durationSec: number;
  /** Unmeasured seconds per ratio before it (the hot set faults in). */
  warmupSec: number;
  connections: number;
  /** Local memory as fractions of the region (0 < r <= 1). */
  ratios: number[];
  /** Fraction of requests that are PUTs (default 0.05, YCSB workload B). */
  putFraction: number;
  /** Zipfian constant (default 0.99). */
  theta: number;
  seed: number;
  policySet: PolicySetName;
  /** Progress lines (default: none). */
  onProgress?: (line: string) => void;
}

/** Default options (`rackmem kv bench` with no flags). */
export const KV_BENCH_DEFAULTS: Omit<KvBenchOptions, 'onProgress'> = {
  keys: 100_000,
  valueBytes: 1024,
  durationSec: 10,
  warmupSec: 2,
  connections: 16,
  ratios: [1, 0.5, 0.25],
  putFraction: 0.05,
  theta: YCSB_ZIPFIAN_THETA,
  seed: 7480,
  policySet: 'improved',
};

/** Fault counters of the region over the measured phase. */
export interface KvBenchFaults {
  pgfault: number;
  pgfaultMajor: number;
  ioRead: number;
  ioWrite: number;
  /** Major faults per request. */
  majorPerRequest: number;
}

/** One ratio's figures. */
export interface KvBenchRatioResult {
  ratio: number;
  regionBytes: number;
  localBytes: number;
  loadSeconds: number;
  requests: number;
  durationSec: number;
  reqPerSec: number;
  latencyUs: BenchWorkerResult['latencyUs'];
  gets: number;
  puts: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  faults: KvBenchFaults;
  /** Fault service time in the pager over the whole run (load, warm-up, measured phase): histogram bucket upper bounds, us. */
  faultLatencyUs: { count: number; p50: number; p99: number; max: number };
  /** Fault counters of the whole run (load, warm-up and measured phase). */
  totalFaults: { pgfault: number; pgfaultMajor: number; ioRead: number; ioWrite: number };
}

/** The whole report (`--json` prints it). */
export interface KvBenchReport {
  config: Omit<KvBenchOptions, 'onProgress'> & { regionBytes: number; storage: string };
  results: KvBenchRatioResult[];
}

/** Region size for `keys` values of `valueBytes`: header and index, then whole runs of the values' size class, plus two runs of slack. */
export function benchRegionBytes(keys: number, valueBytes: number): number {
  const cls = sizeClassOf(ENTRY_HEADER_BYTES + benchKey(0).length + valueBytes);
  const runBytes = runBytesOf(cls);
  const perRun = Math.floor(runBytes / SIZE_CLASS_BYTES[cls]);
  const indexBytes = 2 ** Math.max(4, Math.ceil(Math.log2(Math.ceil(keys / MAX_LOAD_FACTOR)))) * SLOT_BYTES;
  const heapStart = Math.ceil((HEADER_BYTES + indexBytes) / MIN_RUN_BYTES) * MIN_RUN_BYTES;
  return Math.max(heapStart + MiB, heapStart + (Math.ceil(keys / perRun) + 2) * runBytes);
}

/** Checks the options; returns the problems (empty when fine). */
export function validateBenchOptions(o: Omit<KvBenchOptions, 'onProgress'>): string[] {
  const problems: string[] = [];
  const int = (name: string, v: number, min: number, max: number) => {
    if (!Number.isSafeInteger(v) || v < min || v > max) problems.push(`--${name}: expected an integer from ${min} to ${max}, got ${v}`);
  };
  int('keys', o.keys, 2, 10_000_000);
  int('value-bytes', o.valueBytes, 0, MAX_VALUE_BYTES);
  int('connections', o.connections, 1, 1000);
  if (!(o.durationSec > 0 && o.durationSec <= 3600)) problems.push(`--duration: expected seconds in (0, 3600], got ${o.durationSec}`);
  if (!(o.warmupSec >= 0 && o.warmupSec <= 600)) problems.push(`--warmup: expected seconds in [0, 600], got ${o.warmupSec}`);
  if (o.ratios.length === 0 || o.ratios.length > 16 || o.ratios.some((r) => !(r > 0 && r <= 1))) problems.push(`--ratios: expected 1 to 16 fractions in (0, 1], like 1,0.5,0.25`);
  if (!(o.putFraction >= 0 && o.putFraction <= 1)) problems.push(`--put-fraction: expected a fraction in [0, 1], got ${o.putFraction}`);
  if (!(o.theta > 0 && o.theta < 1)) problems.push(`--theta: expected a value in (0, 1), got ${o.theta}`);
  if (o.keys * (o.valueBytes + 64) > 16 * 1024 * MiB) problems.push(`--keys x --value-bytes: at most 16 GiB of data`);
  return problems;
}

/** Runs the bench; every process and region it starts is stopped before it returns or throws. */
export async function runKvBench(options: KvBenchOptions): Promise<KvBenchReport> {
  const problems = validateBenchOptions(options);
  if (problems.length > 0) throw new RangeError(problems.join('; '));
  const say = options.onProgress ?? (() => {});
  const regionBytes = benchRegionBytes(options.keys, options.valueBytes);
  const results: KvBenchRatioResult[] = [];
  for (const ratio of options.ratios) {
    const localBytes = Math.max(PAGE_BYTES, Math.floor((regionBytes * ratio) / PAGE_BYTES) * PAGE_BYTES);
    say(`ratio ${ratio}: region ${(regionBytes / MiB).toFixed(1)} MiB, local ${(localBytes / MiB).toFixed(1)} MiB; starting two memory nodes`);
    let nodes: MemoryNodes | null = null;
    let service: KvService | null = null;
    try {
      nodes = await startMemoryNodes(2, regionBytes + 64 * MiB, 'kv-mem');
      service = await KvService.start({
        name: `kv-bench-${ratio}`,
        sizeBytes: regionBytes,
        localBytes,
        policySet: options.policySet,
        maxKeys: options.keys,
        port: 0,
        storage: { kind: 'remote', donors: nodes.addresses, secretHex: nodes.secretHex, nodeName: 'kv-bench', slabSizeBytes: 16 * MiB },
      });
      const loadStart = performance.now();
      for (let i = 0; i < options.keys; i++) service.store.put(Buffer.from(benchKey(i)), benchValue(i, options.valueBytes));
      const loadSeconds = (performance.now() - loadStart) / 1000;
      say(`ratio ${ratio}: loaded ${options.keys} keys in ${loadSeconds.toFixed(1)} s`);
      const input: BenchWorkerInput = {
        url: service.server.url,
        connections: options.connections,
        durationSec: options.warmupSec,
        keys: options.keys,
        valueBytes: options.valueBytes,
        putFraction: options.putFraction,
        theta: options.theta,
        seed: options.seed,
      };
      if (options.warmupSec > 0) {
        say(`ratio ${ratio}: warming up for ${options.warmupSec} s`);
        await runWorker(input);
      }
      await service.region.sync();
      const before = service.region.stats();
      say(`ratio ${ratio}: measuring for ${options.durationSec} s with ${options.connections} connections`);
      const run = await runWorker({ ...input, durationSec: options.durationSec, seed: options.seed + 1 });
      await service.region.sync();
      const after = service.region.stats();
      const delta = (name: keyof typeof after.counters): number => after.counters[name] - before.counters[name];
      results.push({
        ratio,
        regionBytes,
        localBytes,
        loadSeconds,
        requests: run.requests,
        durationSec: run.durationSec,
        reqPerSec: run.reqPerSec,
        latencyUs: run.latencyUs,
        gets: run.gets,
        puts: run.puts,
        errors: run.errors,
        timeouts: run.timeouts,
        non2xx: run.non2xx,
        faults: {
          pgfault: delta('pgfault'),
          pgfaultMajor: delta('pgfault_major'),
          ioRead: delta('io_read'),
          ioWrite: delta('io_write'),
          majorPerRequest: run.requests > 0 ? delta('pgfault_major') / run.requests : 0,
        },
        faultLatencyUs: { count: after.faultLatencyUs.count, p50: after.faultLatencyUs.p50, p99: after.faultLatencyUs.p99, max: after.faultLatencyUs.max },
        totalFaults: { pgfault: after.counters.pgfault, pgfaultMajor: after.counters.pgfault_major, ioRead: after.counters.io_read, ioWrite: after.counters.io_write },
      });
      say(`ratio ${ratio}: ${Math.round(run.reqPerSec)} req/s, p50 ${run.latencyUs.p50} us, p99 ${run.latencyUs.p99} us, ${delta('pgfault_major')} major faults`);
    } finally {
      await service?.stop();
      await nodes?.stop();
    }
  }
  return {
    config: {
      keys: options.keys, valueBytes: options.valueBytes, durationSec: options.durationSec, warmupSec: options.warmupSec,
      connections: options.connections, ratios: options.ratios, putFraction: options.putFraction, theta: options.theta,
      seed: options.seed, policySet: options.policySet, regionBytes, storage: 'remote: two memory-node processes over TCP on 127.0.0.1',
    },
    results,
  };
}

/** Runs the load generator in a worker thread; resolves once it has reported and exited; rejects if it fails or overruns its duration by 60 s. */
function runWorker(input: BenchWorkerInput): Promise<BenchWorkerResult> {
  const worker = RUNNING_FROM_SOURCE
    ? new Worker(new URL('../pager/worker-source-entry.mjs', import.meta.url), {
        workerData: { ...input, entryUrl: new URL('./bench-worker.ts', import.meta.url).href },
        execArgv: ['--conditions=@rackmem/source'],
      })
    : new Worker(new URL('./bench-worker.js', import.meta.url), { workerData: input, execArgv: [] });
  return new Promise((resolve, reject) => {
    let outcome: { ok: true; result: BenchWorkerResult } | { ok: false; error: Error } | null = null;
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(overrun);
      clearTimeout(exitGrace);
      if (outcome === null) reject(new Error('the load generator exited before it reported'));
      else if (outcome.ok) resolve(outcome.result);
      else reject(outcome.error);
    };
    // The worker exits by itself after it reports; it is terminated only if it overruns.
    let exitGrace: ReturnType<typeof setTimeout> | undefined;
    const overrun = setTimeout(() => {
      outcome ??= { ok: false, error: new Error(`the load generator did not finish within ${input.durationSec + 60} s`) };
      void worker.terminate();
    }, (input.durationSec + 60) * 1000);
    worker.on('message', (msg: { type: 'result'; result: BenchWorkerResult } | { type: 'error'; message: string }) => {
      outcome ??= msg.type === 'result' ? { ok: true, result: msg.result } : { ok: false, error: new Error(`the load generator failed: ${msg.message}`) };
      exitGrace = setTimeout(() => void worker.terminate(), 5_000);
    });
    worker.once('error', (error) => {
      outcome ??= { ok: false, error };
    });
    worker.once('exit', finish);
  });
}

/** The report as a text table. */
export function formatBenchTable(report: KvBenchReport): string {
  const c = report.config;
  const lines = [
    `kv bench: ${c.keys} keys x ${c.valueBytes} B values, region ${(c.regionBytes / MiB).toFixed(1)} MiB (${c.policySet}), ${c.storage}`,
    `zipfian theta ${c.theta} (scrambled), ${Math.round(c.putFraction * 100)}% PUT, ${c.connections} connections, ${c.warmupSec} s warm-up + ${c.durationSec} s per ratio`,
    '',
  ];
  const head = ['local', 'local MiB', 'req/s', 'p50 us', 'p99 us', 'p99.9 us', 'errors', 'major faults', 'faults/req', 'io_read', 'io_write', 'fault p50 us', 'fault p99 us'];
  const rows = report.results.map((r) => [
    `${Math.round(r.ratio * 100)}%`,
    (r.localBytes / MiB).toFixed(1),
    String(Math.round(r.reqPerSec)),
    String(r.latencyUs.p50),
    String(r.latencyUs.p99),
    String(r.latencyUs.p999),
    String(r.errors + r.timeouts + r.non2xx),
    String(r.faults.pgfaultMajor),
    r.faults.majorPerRequest.toFixed(3),
    String(r.faults.ioRead),
    String(r.faults.ioWrite),
    `<= ${r.faultLatencyUs.p50}`,
    `<= ${r.faultLatencyUs.p99}`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const fmt = (cells: string[]): string => cells.map((cell, i) => cell.padStart(widths[i])).join('  ');
  lines.push(fmt(head), ...rows.map(fmt));
  lines.push('', 'latency: per request, measured by the client to 1 us; faults: region counters over the measured phase; fault latency: pager histogram over the whole run incl. loading (bucket upper bounds)');
  return lines.join('\n');
}
