/**
 * bench:fault-local-source — fault latency of the bare pager (design a3, no paging engine) resolving faults from local
 * memory, against the C reference handler (tools/uffd-reference) compiled now and run in the same
 * invocation, in two placements: threads free, and faulting thread + pager pinned to one CPU.
 * Prints one JSON object. Usage: npm run bench:fault-local-source -w @rackmem/node [-- --pages N --rounds R]
 */
import { currentThreadCpus, pinCurrentThread } from '../src/native/affinity.js';
import { RegionMemory } from '../src/native/region-memory.js';
import { probeUserfaultfd } from '../src/native/uffd-probe.js';
import { Pager } from '../src/pager/pager.js';
import { buildReference, runReference } from '../src/bench/c-reference.js';
import { compareRuns, timeFirstReads } from '../src/bench/timing.js';

const args = process.argv.slice(2);
const arg = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const PAGES = arg('pages', 20_000);
const ROUNDS = arg('rounds', 3);
const PAGE = 4096;

/** Times the first read of every page after all pages were written and evicted to the store. */
async function pagerRun(pinned: boolean, cpu: number): Promise<{ medianUs: number; p99Us: number; wrongBytes: number }> {
  const region = RegionMemory.map(PAGES * PAGE);
  const pager = await Pager.start({ region, cpus: pinned ? [cpu] : [] });
  try {
    const u8 = region.bytes(0, region.sizeBytes);
    for (let p = 0; p < PAGES; p++) u8[p * PAGE] = p & 255;
    pager.evictSync(0, PAGES, 'move');
    const { medianUs, p99Us, wrong } = timeFirstReads(u8, PAGES, PAGE);
    return { medianUs, p99Us, wrongBytes: wrong };
  } finally {
    await pager.stop();
    region.unmap();
  }
}

async function main(): Promise<void> {
  const probe = probeUserfaultfd();
  if (!probe.available) {
    console.log(JSON.stringify({ skipped: true, reason: probe.reason }));
    process.exitCode = 1;
    return;
  }
  const { binary, cleanup } = buildReference();
  const allCpus = currentThreadCpus();
  const cpu = allCpus[0];
  const result: Record<string, unknown> = { pages: PAGES, rounds: ROUNDS, cpus: allCpus.length, node: process.version };
  try {
    for (const placement of ['free', 'pinned'] as const) {
      const pinned = placement === 'pinned';
      if (pinned) pinCurrentThread([cpu]);
      const pager: { medianUs: number; p99Us: number; wrongBytes: number }[] = [];
      const ref: { medianUs: number; p99Us: number; wrongBytes: number }[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        // Alternate so drift on a shared machine hits both alike.
        ref.push(runReference(binary, PAGES, placement, cpu));
        pager.push(await pagerRun(pinned, cpu));
      }
      if (pinned) pinCurrentThread(allCpus);
      result[placement] = {
        ...compareRuns(pager, ref),
        wrongBytes: pager.reduce((a, x) => a + x.wrongBytes, 0) + ref.reduce((a, x) => a + x.wrongBytes, 0),
        runs: { pager, reference: ref },
      };
    }
  } finally {
    cleanup();
  }
  console.log(JSON.stringify(result, null, 2));
}

await main();
