// The original RackMem touch example (userspace/examples_c/rack_vm_test.c), run through the
// paging engine and dvs on local memory: a 128 MiB region with a 32 MiB local budget; write a
// 64-bit marker into the first word of every 4 KiB page, then read every page back and verify
// it (marker, and zeros in the rest of the page). Run once with the original's policies and once
// with rackmem's improvements, and print their counters side by side.
import { createDramBackend, DvsRegion } from '@rackmem/dvs';
import { InMemoryPager, PagingEngine, type PolicySetName, VM_COUNTER_NAMES } from '@rackmem/vm';

const PAGE_BYTES = 4096;
const REGION_BYTES = 128 << 20;
const BUDGET_BYTES = 32 << 20;
const PAGES = REGION_BYTES / PAGE_BYTES;
const MARKER = 0x5241_434bn; // "RACK"

interface RunResult {
  policySet: PolicySetName;
  ms: number;
  counters: Record<string, number>;
  dvs: Record<string, number>;
  resident: number;
}

function run(policySet: PolicySetName): RunResult {
  const backend = createDramBackend({ nodeId: 'local-dram', capacityBytes: 2 * REGION_BYTES });
  const region = new DvsRegion({ sizeBytes: REGION_BYTES, pageSizeBytes: PAGE_BYTES, nodes: [backend] });
  const engine = new PagingEngine({ pageCount: PAGES, localPages: BUDGET_BYTES / PAGE_BYTES, policySet, prefetch: 'none' });
  const pager = new InMemoryPager(engine, region);
  const started = performance.now();
  for (let page = 0; page < PAGES; page++) {
    pager.access(page, true, (error, bytes) => {
      if (error) throw error;
      new DataView(bytes.buffer, bytes.byteOffset).setBigUint64(0, MARKER ^ BigInt(page), true);
    });
  }
  let bad = 0;
  for (let page = 0; page < PAGES; page++) {
    pager.access(page, false, (error, bytes) => {
      if (error) throw error;
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      if (view.getBigUint64(0, true) !== (MARKER ^ BigInt(page))) bad++;
      for (let offset = 8; offset < PAGE_BYTES; offset += 8) if (view.getBigUint64(offset, true) !== 0n) bad++;
    });
  }
  const ms = performance.now() - started;
  if (bad > 0 || pager.waitingAccesses > 0) {
    throw new Error(`touch example (${policySet}): ${bad} pages read back wrong, ${pager.waitingAccesses} accesses unfinished`);
  }
  engine.checkInvariants();
  return { policySet, ms, counters: engine.counters.snapshot(), dvs: { ...region.counters() }, resident: engine.gauges().page_count };
}

console.log('rackmem: the original RackMem touch example through the paging engine and dvs on local memory');
console.log(`  region ${REGION_BYTES >> 20} MiB (${PAGES} pages of 4 KiB), local budget ${BUDGET_BYTES >> 20} MiB (${BUDGET_BYTES / PAGE_BYTES} pages), 64 MiB slabs`);
console.log('  write a marker into every page, then read every page back and verify it\n');
const results = (['rackmem2021', 'improved'] as const).map((set) => {
  const result = run(set);
  console.log(`  ${set.padEnd(12)} verified ${PAGES} pages in ${result.ms.toFixed(0)} ms, resident at the end: ${result.resident} pages`);
  return result;
});

const shown = VM_COUNTER_NAMES.filter((name) => results.some((r) => r.counters[name] !== 0));
const dvsShown = Object.keys(results[0].dvs).filter((name) => results.some((r) => r.dvs[name] !== 0));
console.log(`\n  ${'counter'.padEnd(26)}${results.map((r) => r.policySet.padStart(14)).join('')}`);
for (const name of shown) console.log(`  ${name.padEnd(26)}${results.map((r) => String(r.counters[name]).padStart(14)).join('')}`);
for (const name of dvsShown) console.log(`  ${('dvs.' + name).padEnd(26)}${results.map((r) => String(r.dvs[name]).padStart(14)).join('')}`);
console.log('\nall pages verified. (Real userfaultfd paging across a local rack arrives with apps/node.)');
