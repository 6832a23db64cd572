/**
 * `rackmem bench fault`: fault latency of the production pager (libs/vm's engine in the
 * userfaultfd pager worker) against the C reference handler (tools/uffd-reference), both
 * resolving faults from local memory in the same run, in two placements (threads free; faulting
 * thread and pager pinned to one CPU); the same pager serving faults over TCP from a donor process
 * beside the C reference fetching each faulted page from the same donor (the real krdma protocol,
 * authenticated, one blocking connection: tools/uffd-reference/krdma-client.c); and pages per
 * second of a sequential scan over TCP with and without prefetch. Prints JSON.
 * Usage: rackmem bench fault [--pages N --rounds R], or npm run bench:fault -w @rackmem/node
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { currentThreadCpus, pinCurrentThread } from '../native/affinity.js';
import { probeUserfaultfd } from '../native/uffd-probe.js';
import { PagedRegion, type PagedRegionOptions } from '../region/paged-region.js';
import type { StorageConfig } from '../runtime/storage-config.js';
import { buildReference, runReference } from './c-reference.js';

/** Sizes of `rackmem bench fault`. */
export interface FaultBenchOptions {
  /** Pages timed per local run (default 20,000). */
  readonly pages?: number;
  /** Rounds per placement; medians are reported (default 5). */
  readonly rounds?: number;
  /** Pages of the sequential scan (default 16,384). */
  readonly seqPages?: number;
  /** Pages timed per remote run (default 8,192). */
  readonly remotePages?: number;
}

const RUNNING_FROM_SOURCE = import.meta.url.endsWith('.ts');
let PAGES = 20_000;
let ROUNDS = 5;
let SEQ_PAGES = 16_384;
let REMOTE_PAGES = 8192;
const PAGE = 4096;

const round = (x: number): number => Math.round(x * 100) / 100;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (sorted: Float64Array, q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))];

/**
 * Writes every page, pushes every page out to storage (budget of one page), gives the budget back,
 * then times the first read of each page: each is one fault served by the engine from storage.
 */
async function timedFaults(storage: StorageConfig, pages: number, cpus: number[]): Promise<{ medianUs: number; p99Us: number; wrong: number }> {
  const options: PagedRegionOptions = {
    name: 'bench', sizeBytes: pages * PAGE, localBytes: pages * PAGE, policySet: 'improved',
    vm: { prefetch: 'none', reclaim: 'none' }, storage, cpus,
  };
  const region = await PagedRegion.open(options);
  try {
    const u8 = new Uint8Array(region.arrayBuffers()[0]);
    for (let p = 0; p < pages; p++) u8[p * PAGE] = p & 255;
    await region.setLimit(PAGE);
    await region.setLimit(pages * PAGE);
    await region.sync();
    const lat = new Float64Array(pages);
    let wrong = 0;
    for (let p = 0; p < pages; p++) {
      const t0 = performance.now();
      const v = u8[p * PAGE];
      lat[p] = performance.now() - t0;
      if (v !== (p & 255)) wrong++;
    }
    lat.sort();
    return { medianUs: round(pct(lat, 0.5) * 1000), p99Us: round(pct(lat, 0.99) * 1000), wrong };
  } finally {
    await region.close();
  }
}

/** Pages per second of a sequential read scan over storage, everything evicted first. */
async function sequentialScan(storage: StorageConfig, prefetch: 'none' | 'adaptive'): Promise<number> {
  const region = await PagedRegion.open({
    name: `seq-${prefetch}`, sizeBytes: SEQ_PAGES * PAGE, localBytes: SEQ_PAGES * PAGE, policySet: 'improved',
    vm: { prefetch, prefetchWindowPages: 8, prefetchMaxWindowPages: 64 }, storage,
  });
  try {
    const u8 = new Uint8Array(region.arrayBuffers()[0]);
    for (let p = 0; p < SEQ_PAGES; p++) u8[p * PAGE] = 1;
    await region.setLimit(PAGE);
    await region.setLimit((SEQ_PAGES / 4) * PAGE);
    await region.sync();
    let sum = 0;
    const t0 = performance.now();
    for (let p = 0; p < SEQ_PAGES; p++) sum += u8[p * PAGE];
    const seconds = (performance.now() - t0) / 1000;
    if (sum !== SEQ_PAGES) throw new Error(`sequential scan read ${sum} marked pages of ${SEQ_PAGES}`);
    return Math.round(SEQ_PAGES / seconds);
  } finally {
    await region.close();
  }
}

function startDonor(secretHex: string): Promise<{ child: ChildProcess; address: string }> {
  const entry = fileURLToPath(new URL(`../demo/memory-node.${RUNNING_FROM_SOURCE ? 'ts' : 'js'}`, import.meta.url));
  const loader = RUNNING_FROM_SOURCE ? ['--import', 'tsx', '--conditions=@rackmem/source'] : [];
  const child = spawn(process.execPath, [...loader, entry, 'bench-donor', secretHex, String(2 * 1024 * 1024 * 1024)], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /ready (\d+)/.exec(out);
      if (m) resolve({ child, address: `127.0.0.1:${m[1]}` });
    });
    child.once('exit', (code) => reject(new Error(`donor exited (${code}) before it was ready`)));
  });
}

/** Runs the benchmark; resolves with the JSON-ready result, or `{ skipped, reason }` without userfaultfd. */
export async function runFaultBench(options: FaultBenchOptions = {}): Promise<Record<string, unknown>> {
  PAGES = options.pages ?? 20_000;
  ROUNDS = options.rounds ?? 5;
  SEQ_PAGES = options.seqPages ?? 16_384;
  REMOTE_PAGES = Math.min(PAGES, options.remotePages ?? 8192);
  const probe = probeUserfaultfd();
  if (!probe.available) return { skipped: true, reason: probe.reason };
  const { binary, cleanup } = buildReference();
  const allCpus = currentThreadCpus();
  const cpu = allCpus[0];
  const secretHex = randomBytes(32).toString('hex');
  const donor = await startDonor(secretHex);
  const remote: StorageConfig = { kind: 'remote', donors: [donor.address], secretHex, nodeName: 'bench-compute', slabSizeBytes: 16 << 20 };
  const result: Record<string, unknown> = {
    pages: PAGES, remotePages: REMOTE_PAGES, rounds: ROUNDS, cpus: allCpus.length, node: process.version,
    pager: 'libs/vm engine in the userfaultfd pager worker (improved policy set, prefetch off)',
    remoteServer: 'krdma TcpFabric donor process on 127.0.0.1 (memory-node)',
    remoteReferenceServer: 'the same krdma donor process: the C reference speaks krdma wire protocol v1 (HMAC-SHA256 handshake, 16 MiB slabs, one 4 KiB read request per fault) over one blocking TCP_NODELAY connection',
  };
  try {
    for (const placement of ['free', 'pinned'] as const) {
      const pinned = placement === 'pinned';
      if (pinned) pinCurrentThread([cpu]);
      const pager: { medianUs: number; p99Us: number; wrong: number }[] = [];
      const ref: { medianUs: number; p99Us: number; wrongBytes: number }[] = [];
      const remoteRuns: { medianUs: number; p99Us: number; wrong: number }[] = [];
      const remoteRef: { medianUs: number; p99Us: number; wrongBytes: number }[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        ref.push(runReference(binary, PAGES, placement, cpu));
        pager.push(await timedFaults({ kind: 'local' }, PAGES, pinned ? [cpu] : []));
        // The two remote measurements run back to back against the same donor; their order
        // alternates between rounds so a drift in machine load does not favour one side.
        const runRemoteRef = (): void => void remoteRef.push(runReference(binary, REMOTE_PAGES, placement, cpu, { address: donor.address, secretHex }));
        if (r % 2 === 1) runRemoteRef();
        remoteRuns.push(await timedFaults(remote, REMOTE_PAGES, pinned ? [cpu] : []));
        if (r % 2 === 0) runRemoteRef();
      }
      if (pinned) pinCurrentThread(allCpus);
      const pagerMedianUs = median(pager.map((x) => x.medianUs));
      const referenceMedianUs = median(ref.map((x) => x.medianUs));
      const remoteMedianUs = median(remoteRuns.map((x) => x.medianUs));
      const remoteReferenceMedianUs = median(remoteRef.map((x) => x.medianUs));
      result[placement] = {
        pagerMedianUs,
        pagerP99Us: median(pager.map((x) => x.p99Us)),
        referenceMedianUs,
        referenceP99Us: median(ref.map((x) => x.p99Us)),
        medianRatio: round(pagerMedianUs / referenceMedianUs),
        remoteMedianUs,
        remoteP99Us: median(remoteRuns.map((x) => x.p99Us)),
        remoteReferenceMedianUs,
        remoteReferenceP99Us: median(remoteRef.map((x) => x.p99Us)),
        remoteMedianRatio: round(remoteMedianUs / remoteReferenceMedianUs),
        rounds: {
          pagerMedianUs: pager.map((x) => x.medianUs),
          referenceMedianUs: ref.map((x) => x.medianUs),
          remoteMedianUs: remoteRuns.map((x) => x.medianUs),
          remoteReferenceMedianUs: remoteRef.map((x) => x.medianUs),
        },
        wrong: [...pager, ...remoteRuns].reduce((a, x) => a + x.wrong, 0) + [...ref, ...remoteRef].reduce((a, x) => a + x.wrongBytes, 0),
      };
    }
    const seqPagesPerSecDemand = await sequentialScan(remote, 'none');
    const seqPagesPerSecPrefetch = await sequentialScan(remote, 'adaptive');
    Object.assign(result, { seqPagesPerSecPrefetch, seqPagesPerSecDemand, prefetchSpeedup: round(seqPagesPerSecPrefetch / seqPagesPerSecDemand) });
  } finally {
    cleanup();
    donor.child.kill('SIGTERM');
  }
  return result;
}
