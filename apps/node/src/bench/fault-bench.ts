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
import { currentThreadCpus, pinCurrentThread } from '../native/affinity.js';
import { probeUserfaultfd } from '../native/uffd-probe.js';
import { DEFAULT_FAULT_LINGER } from '../pager/fault-linger.js';
import { PagedRegion, type PagedRegionOptions } from '../region/paged-region.js';
import type { StorageConfig } from '../runtime/storage-config.js';
import { startMemoryNodes } from '../demo/memory-nodes.js';
import { buildReference, runReference } from './c-reference.js';
import { compareRuns, median, round2 as round, timeFirstReads } from './timing.js';

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
  /** Progress lines (the CLI prints them on stderr; the JSON goes to stdout). */
  readonly progress?: (line: string) => void;
}

let PAGES = 20_000;
let ROUNDS = 5;
let SEQ_PAGES = 16_384;
let REMOTE_PAGES = 8192;
/** Rounds of the sequential scans (each scan opens a fresh region). */
const SEQ_ROUNDS = 3;
const PAGE = 4096;
/** Goals: pager median within 1.2x of the C reference; prefetch at least 3x faster per page. */
const GOAL_MEDIAN_RATIO = 1.2;
const GOAL_PREFETCH_SPEEDUP = 3;
/** Faults served untimed before each timed run (JIT warm-up of the fresh pager worker). */
const WARMUP_PAGES = 4096;


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
    // Warm-up: each region has a fresh pager worker (a new V8 isolate), whose fault path is
    // compiled by TurboFan during its first few thousand faults, on helper threads that compete
    // with the donor for CPU. Serve a first pass of faults untimed, then evict everything again.
    const evictAll = async (): Promise<void> => {
      await region.setLimit(PAGE);
      await region.setLimit(pages * PAGE);
      await region.sync();
    };
    await evictAll();
    let warm = 0;
    for (let p = 0; p < Math.min(pages, WARMUP_PAGES); p++) warm += u8[p * PAGE];
    if (warm < 0) throw new Error('unreachable'); // keeps the warm-up reads
    await evictAll();
    return timeFirstReads(u8, pages, PAGE);
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
    const evictAll = async (): Promise<void> => {
      await region.setLimit(PAGE);
      await region.setLimit((SEQ_PAGES / 4) * PAGE);
      await region.sync();
    };
    await evictAll();
    let warm = 0; // one untimed scan: JIT warm-up of the fresh pager worker (see timedFaults)
    for (let p = 0; p < SEQ_PAGES; p++) warm += u8[p * PAGE];
    if (warm !== SEQ_PAGES) throw new Error(`warm-up scan read ${warm} marked pages of ${SEQ_PAGES}`);
    await evictAll();
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

/** Runs the benchmark; resolves with the JSON-ready result, or `{ skipped, reason }` without userfaultfd. */
export async function runFaultBench(options: FaultBenchOptions = {}): Promise<Record<string, unknown>> {
  PAGES = options.pages ?? 20_000;
  ROUNDS = options.rounds ?? 5;
  SEQ_PAGES = options.seqPages ?? 16_384;
  REMOTE_PAGES = Math.min(PAGES, options.remotePages ?? 8192);
  const progress = options.progress ?? (() => {});
  const probe = probeUserfaultfd();
  if (!probe.available) return { skipped: true, reason: probe.reason };
  progress('compiling the C reference handler and starting a donor process');
  const { binary, cleanup } = buildReference();
  const allCpus = currentThreadCpus();
  const cpu = allCpus[0];
  const nodes = await startMemoryNodes(1, 2 * 1024 * 1024 * 1024, 'bench-donor');
  const donor = { address: nodes.addresses[0], secretHex: nodes.secretHex };
  const remote: StorageConfig = { kind: 'remote', donors: [donor.address], secretHex: donor.secretHex, nodeName: 'bench-compute', slabSizeBytes: 16 << 20 };
  const result: Record<string, unknown> = {
    pages: PAGES, remotePages: REMOTE_PAGES, rounds: ROUNDS, warmupPages: WARMUP_PAGES, cpus: allCpus.length, node: process.version,
    pager: 'libs/vm engine in the userfaultfd pager worker (improved policy set, prefetch off)',
    // While a faulting thread waits for a donor's reply the pager polls without sleeping for up
    // to this long (FaultLinger); the C client blocks in recv.
    pagerStorageWaitSpinUs: DEFAULT_FAULT_LINGER.spinUs,
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
        progress(`${placement}: round ${r + 1}/${ROUNDS} (C reference, pager, remote pager, remote C reference)`);
        ref.push(runReference(binary, PAGES, placement, cpu));
        pager.push(await timedFaults({ kind: 'local' }, PAGES, pinned ? [cpu] : []));
        // The two remote measurements run back to back against the same donor; their order
        // alternates between rounds so a drift in machine load does not favour one side.
        const runRemoteRef = (): void => void remoteRef.push(runReference(binary, REMOTE_PAGES, placement, cpu, donor));
        if (r % 2 === 1) runRemoteRef();
        remoteRuns.push(await timedFaults(remote, REMOTE_PAGES, pinned ? [cpu] : []));
        if (r % 2 === 0) runRemoteRef();
      }
      if (pinned) pinCurrentThread(allCpus);
      const local = compareRuns(pager, ref);
      const remoteSide = compareRuns(remoteRuns, remoteRef);
      result[placement] = {
        ...local,
        remoteMedianUs: remoteSide.pagerMedianUs,
        remoteP99Us: remoteSide.pagerP99Us,
        remoteReferenceMedianUs: remoteSide.referenceMedianUs,
        remoteReferenceP99Us: remoteSide.referenceP99Us,
        remoteMedianRatio: remoteSide.medianRatio,
        // Each round's pager and C runs are back to back: their ratio cancels the VM's drift over
        // the run, which the ratio of medians above does not (the C side can drift alone).
        roundRatios: {
          local: pager.map((x, i) => round(x.medianUs / ref[i].medianUs)),
          remote: remoteRuns.map((x, i) => round(x.medianUs / remoteRef[i].medianUs)),
        },
        rounds: {
          pagerMedianUs: pager.map((x) => x.medianUs),
          referenceMedianUs: ref.map((x) => x.medianUs),
          remoteMedianUs: remoteRuns.map((x) => x.medianUs),
          remoteReferenceMedianUs: remoteRef.map((x) => x.medianUs),
        },
        wrong: [...pager, ...remoteRuns].reduce((a, x) => a + x.wrong, 0) + [...ref, ...remoteRef].reduce((a, x) => a + x.wrongBytes, 0),
      };
    }
    // Medians over rounds, the order alternating so drifting machine load favours neither.
    const demand: number[] = [];
    const prefetch: number[] = [];
    for (let r = 0; r < SEQ_ROUNDS; r++) {
      progress(`sequential scan: round ${r + 1}/${SEQ_ROUNDS} (demand paging, prefetch)`);
      if (r % 2 === 1) prefetch.push(await sequentialScan(remote, 'adaptive'));
      demand.push(await sequentialScan(remote, 'none'));
      if (r % 2 === 0) prefetch.push(await sequentialScan(remote, 'adaptive'));
    }
    const seqPagesPerSecDemand = median(demand);
    const seqPagesPerSecPrefetch = median(prefetch);
    const prefetchSpeedup = round(seqPagesPerSecPrefetch / seqPagesPerSecDemand);
    Object.assign(result, {
      seqPagesPerSecPrefetch, seqPagesPerSecDemand, prefetchSpeedup,
      seqRounds: { seqPagesPerSecPrefetch: prefetch, seqPagesPerSecDemand: demand },
    });
    // The goals of the issue, and which were met in this run (same-run ratios, so machine speed
    // cancels). Judged on the unrounded medians: 8.85 against 7.36 µs is 1.2024, which the
    // rounded `medianRatio` shows as 1.2, and that is not within 1.2x.
    const exactRatio = (placement: string, pager: string, reference: string): number => {
      const r = result[placement] as Record<string, number>;
      return r[pager] / r[reference];
    };
    result.goals = { medianRatioMax: GOAL_MEDIAN_RATIO, prefetchSpeedupMin: GOAL_PREFETCH_SPEEDUP };
    result.goalsMet = {
      localFree: exactRatio('free', 'pagerMedianUs', 'referenceMedianUs') <= GOAL_MEDIAN_RATIO,
      localPinned: exactRatio('pinned', 'pagerMedianUs', 'referenceMedianUs') <= GOAL_MEDIAN_RATIO,
      remoteFree: exactRatio('free', 'remoteMedianUs', 'remoteReferenceMedianUs') <= GOAL_MEDIAN_RATIO,
      remotePinned: exactRatio('pinned', 'remoteMedianUs', 'remoteReferenceMedianUs') <= GOAL_MEDIAN_RATIO,
      prefetch: seqPagesPerSecPrefetch / seqPagesPerSecDemand >= GOAL_PREFETCH_SPEEDUP,
    };
  } finally {
    cleanup();
    await nodes.stop();
  }
  return result;
}
