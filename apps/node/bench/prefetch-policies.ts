// Sequential scan over a region whose pages are all on a donor process (TCP), once per prefetch
// policy: pages per second and what the engine saw (faults, soft faults, prefetches issued, used
// and late). Usage: npx tsx --conditions=@rackmem/source bench/prefetch-policies.ts
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { PagedRegion } from '../src/region/paged-region.js';
const PAGE = 4096, N = 8192;
const secretHex = randomBytes(32).toString('hex');
const entry = fileURLToPath(new URL('../src/demo/memory-node.ts', import.meta.url));
const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=@rackmem/source', entry, 'd', secretHex, String(1 << 30)], { stdio: ['ignore', 'pipe', 'inherit'] });
const address: string = await new Promise((r) => child.stdout!.on('data', (c: Buffer) => { const m = /ready (\d+)/.exec(c.toString()); if (m) r(`127.0.0.1:${m[1]}`); }));
for (const [prefetch, win] of [['none', 8], ['adaptive', 8], ['readahead', 32], ['leap', 16]] as const) {
  const region = await PagedRegion.open({ name: 's', sizeBytes: N * PAGE, localBytes: N * PAGE, policySet: 'improved', vm: { prefetch, prefetchWindowPages: win, prefetchMaxWindowPages: 64, prefetchMaxInFlight: 64 }, storage: { kind: 'remote', donors: [address], secretHex, nodeName: 'c', slabSizeBytes: 16 << 20 } });
  const u8 = new Uint8Array(region.arrayBuffers()[0]);
  for (let p = 0; p < N; p++) u8[p * PAGE] = 1;
  await region.setLimit(PAGE); await region.setLimit((N / 4) * PAGE); await region.sync();
  const before = region.stats().counters;
  const t0 = performance.now(); let s = 0; for (let p = 0; p < N; p++) s += u8[p * PAGE]; const sec = (performance.now() - t0) / 1000;
  if (s !== N) throw new Error(`scan read ${s} marked pages of ${N}`);
  await region.sync();
  const c = region.stats().counters;
  console.log(prefetch, win, Math.round(N / sec), 'pages/s', { faults: c.pgfault - before.pgfault, major: c.pgfault_major - before.pgfault_major, soft: c.pgfault_inactive - before.pgfault_inactive, coll: c.pgfault_collision - before.pgfault_collision, issued: c.prefetch_issued - before.prefetch_issued, useful: c.prefetch_useful - before.prefetch_useful, late: c.prefetch_late - before.prefetch_late, window: region.stats().gauges.prefetch_window });
  await region.close();
}
child.kill();
