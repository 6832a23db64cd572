// `npm start`: a local rack on 127.0.0.1 (two memory nodes in their own processes, this process
// as the compute node) running the original RackMem's two examples with real userfaultfd paging
// over TCP: the touch test (128 MiB region, 32 MiB local) and the random-index GEMM at 50% local
// memory against the same GEMM on plain memory. Prints progress, then the counters and
// fault-latency percentiles, and stops the rack.
import { HOW_TO_ALLOW_USERFAULTFD } from '../native/errors.js';
import { probeUserfaultfd } from '../native/uffd-probe.js';
import { PagedRegion, type PagedRegionOptions } from '../region/paged-region.js';
import { startMemoryNodes } from './memory-nodes.js';
import { gemm, gemmBytes, touch, type Progress } from './workloads.js';

const MiB = 1 << 20;
const GEMM_N = 256;

interface RunReport {
  name: string;
  seconds: number;
  stats: ReturnType<PagedRegion['stats']>;
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function progressBar(label: string): Progress {
  let shown = -1;
  const tty = process.stdout.isTTY;
  return (fraction) => {
    const pct = Math.floor(fraction * 100);
    if (tty) {
      if (pct !== shown) process.stdout.write(`\r  ${label.padEnd(34)} ${String(pct).padStart(3)}%${pct === 100 ? '\n' : ''}`);
    } else if (pct >= shown + 25 || (pct === 100 && shown !== 100)) {
      process.stdout.write(`  ${label.padEnd(34)} ${String(pct).padStart(3)}%\n`);
    } else return;
    shown = pct;
  };
}

async function withRegion<T>(options: PagedRegionOptions, body: (region: PagedRegion) => T): Promise<{ result: T; report: RunReport }> {
  const region = await PagedRegion.open(options);
  try {
    const started = performance.now();
    const result = body(region);
    const seconds = (performance.now() - started) / 1000;
    await region.sync();
    return { result, report: { name: options.name, seconds, stats: region.stats() } };
  } finally {
    await region.close();
  }
}

function printTable(reports: RunReport[]): void {
  const rows: [string, (r: RunReport) => string][] = [
    ['wall time (s)', (r) => r.seconds.toFixed(2)],
    ['pgfault', (r) => String(r.stats.counters.pgfault)],
    ['pgfault_major (remote reads)', (r) => String(r.stats.counters.pgfault_major)],
    ['pgfault_inactive (soft)', (r) => String(r.stats.counters.pgfault_inactive)],
    ['accessed (first touch)', (r) => String(r.stats.counters.accessed)],
    ['io_read', (r) => String(r.stats.counters.io_read)],
    ['io_write', (r) => String(r.stats.counters.io_write)],
    ['writeback_skipped_clean', (r) => String(r.stats.counters.writeback_skipped_clean)],
    ['writeback_batches', (r) => String(r.stats.counters.writeback_batches)],
    ['reclaim_fast / reclaim_slow', (r) => `${r.stats.counters.reclaim_fast} / ${r.stats.counters.reclaim_slow}`],
    ['frame_wait', (r) => String(r.stats.counters.frame_wait)],
    ['prefetch issued / useful', (r) => `${r.stats.counters.prefetch_issued} / ${r.stats.counters.prefetch_useful}`],
    ['resident pages / budget', (r) => `${r.stats.gauges.page_count} / ${r.stats.gauges.page_count_limit}`],
    ['fault latency p50 (us)', (r) => r.stats.faultLatencyUs.p50.toFixed(1)],
    ['fault latency p99 (us)', (r) => r.stats.faultLatencyUs.p99.toFixed(1)],
    ['fault latency p99.9 (us)', (r) => r.stats.faultLatencyUs.p999.toFixed(1)],
    ['fault latency max (us)', (r) => r.stats.faultLatencyUs.max.toFixed(0)],
  ];
  const width = 20;
  say(`\n  ${''.padEnd(30)}${reports.map((r) => r.name.padStart(width)).join('')}`);
  for (const [label, cell] of rows) say(`  ${label.padEnd(30)}${reports.map((r) => cell(r).padStart(width)).join('')}`);
}

async function main(): Promise<number> {
  say('rackmem: a local rack on 127.0.0.1 running the original RackMem examples with real userfaultfd paging over TCP');
  const probe = probeUserfaultfd();
  if (!probe.available) {
    say(`\nuserfaultfd is not available here: ${probe.reason.includes('to allow it') ? probe.reason : `${probe.reason}\n${HOW_TO_ALLOW_USERFAULTFD}`}`);
    return 1;
  }
  say('  starting memory nodes mem-1 and mem-2 (512 MiB each, separate processes)');
  const nodes = await startMemoryNodes(2, 512 * MiB, 'mem');
  const storage = { kind: 'remote' as const, donors: nodes.addresses, secretHex: nodes.secretHex, nodeName: 'compute-1', slabSizeBytes: 16 * MiB };
  try {
    const reports: RunReport[] = [];
    for (const policySet of ['rackmem2021', 'improved'] as const) {
      const { result: bad, report } = await withRegion(
        { name: `touch/${policySet}`, sizeBytes: 128 * MiB, localBytes: 32 * MiB, policySet, storage },
        (region) => touch(region.arrayBuffers()[0] as ArrayBuffer, progressBar(`touch 128 MiB, 32 MiB local (${policySet})`)),
      );
      if (bad !== 0) throw new Error(`touch (${policySet}): ${bad} pages read back wrong`);
      reports.push(report);
    }
    say(`  touch: every page of 128 MiB verified with both policy sets`);

    const bytes = Math.ceil(gemmBytes(GEMM_N) / 4096) * 4096;
    const plainStart = performance.now();
    const expected = gemm(new ArrayBuffer(bytes), GEMM_N, 7472, progressBar(`gemm ${GEMM_N}x${GEMM_N} on plain memory`));
    const plainSeconds = (performance.now() - plainStart) / 1000;
    const { result: got, report } = await withRegion(
      { name: 'gemm/improved', sizeBytes: bytes, localBytes: Math.floor(bytes / 2 / 4096) * 4096, policySet: 'improved', storage },
      (region) => gemm(region.arrayBuffers()[0] as ArrayBuffer, GEMM_N, 7472, progressBar(`gemm ${GEMM_N}x${GEMM_N} at 50% local (improved)`)),
    );
    const equal = got.length === expected.length && got.every((v, i) => v === expected[i]);
    if (!equal) throw new Error('gemm: the result on paged memory differs from plain memory');
    reports.push(report);
    say(`  gemm: results equal; plain memory ${plainSeconds.toFixed(2)} s, rackmem at 50% local ${report.seconds.toFixed(2)} s (${(report.seconds / plainSeconds).toFixed(1)}x)`);
    printTable(reports);
    say('\n  fault latency: from the fault message to the mapped page, measured in the pager thread on one fault in four (histogram buckets ~12% wide)');
    return 0;
  } finally {
    say('\n  stopping the rack');
    await nodes.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`rackmem: ${err.message}\n`);
    process.exit(1);
  },
);
