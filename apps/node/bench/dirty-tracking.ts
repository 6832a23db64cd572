// Dirty tracking, write-protect faults against WP_ASYNC + PAGEMAP_SCAN, in the same run: random
// reads and writes over a region 8x its budget (local storage, improved policy set, no prefetch),
// alternating the two modes for several rounds. Prints JSON: accesses per second of each mode
// (median of rounds), their ratio, and the counters that show the difference (write-protect
// faults, scans, writes found, write-backs). Every access is checked; a wrong byte fails the run.
// Usage: npx tsx --conditions=@rackmem/source bench/dirty-tracking.ts [rounds]
import { PagedRegion } from '../src/region/paged-region.js';

const PAGE = 4096;
const PAGES = 16_384; // 64 MiB
const BUDGET = 2048; // 8 MiB
const ACCESSES = 100_000;
const WRITE_SHARE = 0.3;
const rounds = Number(process.argv[2] ?? 3);

interface Run { accessesPerSec: number; wpFaults: number; dirtyScans: number; dirtyProbeHits: number; dirtyRaces: number; ioWrite: number }

async function run(mode: 'off' | 'on', round: number): Promise<Run> {
  const region = await PagedRegion.open({ name: `dirty-${mode}`, sizeBytes: PAGES * PAGE, localBytes: BUDGET * PAGE, policySet: 'improved', vm: { prefetch: 'none' }, asyncDirtyTracking: mode });
  try {
    const bytes = new Uint8Array(region.arrayBuffers()[0]);
    const expected = new Uint8Array(PAGES);
    for (let p = 0; p < PAGES; p++) bytes[p * PAGE + 7] = expected[p] = p & 255;
    await region.sync();
    const before = region.stats();
    let seed = 12_345 + round; // the same sequence for both modes of a round
    const next = (): number => (seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0) / 2 ** 32;
    let wrong = 0;
    const started = performance.now();
    for (let i = 0; i < ACCESSES; i++) {
      const p = Math.floor(next() * PAGES);
      if (bytes[p * PAGE + 7] !== expected[p]) wrong++;
      if (next() < WRITE_SHARE) bytes[p * PAGE + 7] = expected[p] = Math.floor(next() * 256);
    }
    const seconds = (performance.now() - started) / 1000;
    for (let p = 0; p < PAGES; p++) if (bytes[p * PAGE + 7] !== expected[p]) wrong++;
    if (wrong > 0) throw new Error(`${mode}: ${wrong} accesses read a wrong byte`);
    await region.sync();
    const after = region.stats();
    return {
      accessesPerSec: Math.round(ACCESSES / seconds),
      wpFaults: after.pager.wpFaults - before.pager.wpFaults,
      dirtyScans: after.pager.dirtyScans - before.pager.dirtyScans,
      dirtyProbeHits: after.counters.dirty_probe_hits - before.counters.dirty_probe_hits,
      dirtyRaces: after.pager.dirtyRaces - before.pager.dirtyRaces,
      ioWrite: after.counters.io_write - before.counters.io_write,
    };
  } finally {
    await region.close();
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const sync: Run[] = [];
const async_: Run[] = [];
for (let round = 0; round < rounds; round++) {
  process.stderr.write(`bench dirty-tracking: round ${round + 1}/${rounds}\n`);
  sync.push(await run('off', round));
  async_.push(await run('on', round));
}
const syncRate = median(sync.map((r) => r.accessesPerSec));
const asyncRate = median(async_.map((r) => r.accessesPerSec));
console.log(JSON.stringify({
  regionPages: PAGES, budgetPages: BUDGET, accesses: ACCESSES, writeShare: WRITE_SHARE, rounds,
  writeProtectAccessesPerSec: syncRate,
  asyncAccessesPerSec: asyncRate,
  asyncSpeedup: Math.round((asyncRate / syncRate) * 100) / 100,
  writeProtect: sync.at(-1),
  async: async_.at(-1),
}, null, 2));
