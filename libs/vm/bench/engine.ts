// Benchmark: engine decisions per second for a 1 M-page region under uniform random faults with
// the budget at 25% of the region, completions delivered at once (the engine alone, no I/O).
// Prints JSON. Usage: npm run bench -w @rackmem/vm [-- --pages N --faults N]
import { Command, PagingEngine, type PolicySetName } from '@rackmem/vm';

const args = process.argv.slice(2);
const arg = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const pageCount = arg('pages', 1 << 20);
const faultTarget = arg('faults', 2_000_000);
const repetitions = arg('reps', 3);

/** xorshift32: a cheap deterministic generator for the access stream. */
function makeRandom(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

function drain(engine: PagingEngine): void {
  const q = engine.commands;
  while (q.next()) {
    switch (q.kind) {
      case Command.Fetch:
      case Command.Prefetch:
        engine.fetchDone(q.page, true);
        break;
      case Command.Writeback:
        engine.writebackDone(q.arg, true);
        break;
      default:
        break; // map, unmap, zero-fill, discard, wake: nothing to do without memory
    }
  }
}

function run(policySet: PolicySetName): { faultsPerSecond: number; metadataBytesPerPage: number; metadataBytesPerFrame: number; faults: number } {
  const engine = new PagingEngine({ pageCount, localPages: pageCount >>> 2, policySet, prefetch: 'none' });
  const random = makeRandom(42);
  // Warm up: touch every page once so the region is full and 75% of it is in storage.
  for (let p = 0; p < pageCount; p++) {
    engine.fault(p, true);
    drain(engine);
  }
  const start = performance.now();
  let faults = 0;
  while (faults < faultTarget) {
    const page = random() % pageCount;
    if (engine.pageState(page) === 1) continue; // mapped: a hit, no fault
    engine.fault(page, (random() & 3) === 0);
    drain(engine);
    faults++;
  }
  const seconds = (performance.now() - start) / 1000;
  engine.checkInvariants();
  return { faultsPerSecond: Math.round(faults / seconds), metadataBytesPerPage: engine.metadataBytesPerPage(), metadataBytesPerFrame: engine.metadataBytesPerFrame(), faults };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

const results: Record<string, number[]> = { rackmem2021: [], improved: [] };
let metadataBytesPerPage = 0;
let metadataBytesPerFrame = 0;
for (let r = 0; r < repetitions; r++) {
  for (const set of ['rackmem2021', 'improved'] as const) {
    const result = run(set);
    results[set].push(result.faultsPerSecond);
    metadataBytesPerPage = Math.max(metadataBytesPerPage, result.metadataBytesPerPage);
    metadataBytesPerFrame = Math.max(metadataBytesPerFrame, result.metadataBytesPerFrame);
  }
}
console.log(JSON.stringify({
  benchmark: 'vm-engine',
  pageCount,
  localPages: pageCount >>> 2,
  faultsPerRun: faultTarget,
  repetitions,
  faultsPerSecond: median(results.rackmem2021),
  faultsPerSecondImproved: median(results.improved),
  metadataBytesPerPage: Number(metadataBytesPerPage.toFixed(3)),
  metadataBytesPerFrame: Number(metadataBytesPerFrame.toFixed(3)),
  goalFaultsPerSecond: 2_000_000,
  runs: results,
}, null, 2));
