import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, expect, it } from 'vitest';
import { PagedRegion, RegionError } from '../src/region/paged-region.js';
import { asyncDirtyUnavailable, describeWithUffd } from './uffd-available.js';

const PAGE = 4096;
const koffiPath = createRequire(import.meta.url).resolve('koffi');

describeWithUffd('a paged region: the libs/vm engine driving a userfaultfd pager', () => {
  const open: PagedRegion[] = [];
  afterEach(async () => {
    await Promise.all(open.splice(0).map((r) => r.close()));
  });

  for (const policySet of ['rackmem2021', 'improved'] as const) {
    it(`${policySet}: every page written and read back through a budget of 1/8 of the region`, async () => {
      const pages = 4096; // 16 MiB
      const region = await PagedRegion.open({ name: `r-${policySet}`, sizeBytes: pages * PAGE, localBytes: (pages / 8) * PAGE, policySet });
      open.push(region);
      const [buffer] = region.arrayBuffers();
      const view = new DataView(buffer);
      for (let p = 0; p < pages; p++) view.setUint32(p * PAGE + 8, p * 2654435761 >>> 0, true);
      let bad = 0;
      for (let p = 0; p < pages; p++) {
        if (view.getUint32(p * PAGE + 8, true) !== (p * 2654435761 >>> 0)) bad++;
        if (view.getUint32(p * PAGE + 100, true) !== 0) bad++; // zero-filled, never another page's data
      }
      expect(bad).toBe(0);
      await region.sync();
      const { counters, gauges, faultLatencyUs } = region.stats();
      expect(counters.accessed).toBe(pages); // every first touch faulted, none read storage
      expect(counters.pgfault).toBeGreaterThanOrEqual(pages);
      expect(counters.io_write).toBeGreaterThan(0);
      expect(counters.io_read).toBeGreaterThan(0);
      expect(gauges.page_count).toBeLessThanOrEqual(pages / 8);
      expect(faultLatencyUs.count).toBeGreaterThan(0);
      expect(counters.poisoned).toBe(0);
    });
  }

  const trackingCases = [
    { label: 'write-protect faults', asyncDirtyTracking: 'off', blindDirtyProbe: false, moveBusyEvery: 0, mode: 'write-protect' },
    { label: 'write-protect faults, every 5th eviction of a busy (pinned) page', asyncDirtyTracking: 'off', blindDirtyProbe: false, moveBusyEvery: 5, mode: 'write-protect' },
    { label: 'WP_ASYNC + PAGEMAP_SCAN', asyncDirtyTracking: 'on', blindDirtyProbe: false, moveBusyEvery: 0, mode: 'async' },
    { label: 'WP_ASYNC with a blind probe: the unmap guard alone catches every write', asyncDirtyTracking: 'on', blindDirtyProbe: true, moveBusyEvery: 0, mode: 'async' },
    { label: 'WP_ASYNC, every 5th eviction of a busy (pinned) page: kept mapped and taken back', asyncDirtyTracking: 'on', blindDirtyProbe: false, moveBusyEvery: 5, mode: 'async' },
  ] as const;
  for (const tracking of trackingCases) {
    it(`local storage, dirty tracking by ${tracking.label}: random reads and writes over many rounds keep every byte`, async (ctx) => {
      if (tracking.mode === 'async' && asyncDirtyUnavailable) {
        console.warn(`[rackmem] skipped: ${asyncDirtyUnavailable}`);
        ctx.skip();
      }
      const pages = 2048; // 8 MiB
      const region = await PagedRegion.open({
        name: 'random', sizeBytes: pages * PAGE, localBytes: (pages / 8) * PAGE, policySet: 'improved',
        asyncDirtyTracking: tracking.asyncDirtyTracking, testHooks: { blindDirtyProbe: tracking.blindDirtyProbe, moveBusyEvery: tracking.moveBusyEvery },
      });
      open.push(region);
      expect(region.dirtyTracking).toBe(tracking.mode);
      const view = new DataView(region.arrayBuffers()[0]);
      const expected = new Uint32Array(pages); // the value each page should hold at offset 64 (0: never written)
      let seed = 12345;
      const random = (bound: number): number => {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        return seed % bound;
      };
      let bad = 0;
      for (let round = 0; round < 6; round++) {
        // A sequential sweep (prefetch streams) then random accesses, a third of them writes.
        for (let p = 0; p < pages; p++) if (view.getUint32(p * PAGE + 64, true) !== expected[p]) bad++;
        for (let i = 0; i < 6000; i++) {
          const p = random(pages);
          if (random(3) === 0) {
            const value = (round * 1_000_003 + i * 7919 + p) >>> 0 || 1;
            view.setUint32(p * PAGE + 64, value, true);
            expected[p] = value;
          } else if (view.getUint32(p * PAGE + 64, true) !== expected[p]) bad++;
        }
        if (round === 3) await region.setLimit((pages / 32) * PAGE); // squeeze, then give back
        if (round === 4) await region.setLimit((pages / 4) * PAGE);
      }
      for (let p = 0; p < pages; p++) if (view.getUint32(p * PAGE + 64, true) !== expected[p]) bad++;
      expect(bad).toBe(0);
      await region.sync();
      const { counters, pager } = region.stats();
      expect(counters.io_read).toBeGreaterThan(pages); // pages really went to storage and came back
      expect(counters.writeback_skipped_clean).toBeGreaterThan(0); // clean pages were dropped, not written
      expect(counters.poisoned).toBe(0);
      if (tracking.moveBusyEvery > 0) expect(pager.moveFallbacks).toBeGreaterThan(0);
      if (tracking.mode === 'write-protect') {
        expect(pager.wpFaults).toBeGreaterThan(0); // first writes to clean pages stopped for a message
        expect(pager.dirtyScans).toBe(0);
      } else {
        // The kernel let them through (a busy page's copy-out fallback would write-protect and fault).
        expect(pager.wpFaults).toBe(0);
        expect(pager.dirtyScans).toBeGreaterThan(0);
        if (tracking.blindDirtyProbe) expect(pager.dirtyRaces).toBeGreaterThan(0);
        else expect(counters.dirty_probe_hits).toBeGreaterThan(0);
      }
    });
  }

  it('local storage: a sequential scan with prefetch installs prefetch windows with multi-page UFFDIO_COPYs', async () => {
    const pages = 4096;
    const region = await PagedRegion.open({
      name: 'seq-fill', sizeBytes: pages * PAGE, localBytes: pages * PAGE, policySet: 'improved',
      vm: { prefetch: 'readahead', prefetchWindowPages: 16, prefetchMaxWindowPages: 16 },
    });
    open.push(region);
    const u8 = new Uint8Array(region.arrayBuffers()[0]);
    for (let p = 0; p < pages; p++) u8[p * PAGE + 7] = (p * 13) & 255;
    await region.setLimit(PAGE);
    await region.setLimit((pages / 2) * PAGE);
    await region.sync();
    const before = region.stats().pager;
    let bad = 0;
    for (let p = 0; p < pages; p++) if (u8[p * PAGE + 7] !== ((p * 13) & 255)) bad++;
    expect(bad).toBe(0);
    await region.sync();
    const after = region.stats().pager;
    const fills = after.multiPageFills - before.multiPageFills;
    const filled = after.multiPageFillPages - before.multiPageFillPages;
    expect(fills).toBeGreaterThan(0);
    expect(filled / fills).toBeGreaterThan(4); // whole windows in one ioctl, not pairs
    expect(after.faults - before.faults).toBeLessThan(pages / 4); // prefetched pages did not fault
  });

  it('serves faults from several threads at once and kernel-mode accesses, with a budget of 1/16', async () => {
    const pages = 2048;
    const region = await PagedRegion.open({ name: 'threads', sizeBytes: pages * PAGE, localBytes: (pages / 16) * PAGE, policySet: 'improved' });
    open.push(region);
    const u8 = new Uint8Array(region.arrayBuffers()[0]);
    for (let p = 0; p < pages; p++) u8[p * PAGE + 17] = (p * 31) & 255;
    // Four threads read all pages in different orders (collisions on the same pages) while main
    // copies the region out through the kernel (fs.writeFileSync faults inside a syscall).
    const code = `
      const { parentPort, workerData: d } = require('node:worker_threads');
      const koffi = require(d.koffiPath);
      const u8 = new Uint8Array(koffi.view(d.address, d.sizeBytes));
      let bad = 0;
      for (let i = 0; i < d.pages; i++) {
        const p = (i * 7 + d.id * 61) % d.pages;
        if (u8[p * 4096 + 17] !== ((p * 31) & 255)) bad++;
        if (d.id === 0 && (i & 7) === 0) u8[p * 4096 + 18] = 1; // some writes too
      }
      parentPort.postMessage(bad);`;
    const address = region.memory.address;
    const workers = [0, 1, 2, 3].map((id) => new Worker(code, { eval: true, workerData: { koffiPath, address, sizeBytes: pages * PAGE, pages, id } }));
    const results = workers.map((w) => new Promise<number>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    }));
    const dir = mkdtempSync(join(tmpdir(), 'rackmem-kernel-'));
    const file = join(dir, 'region.bin');
    writeFileSync(file, u8);
    expect(await Promise.all(results)).toEqual([0, 0, 0, 0]);
    await Promise.all(workers.map((w) => w.terminate()));
    const bytes = readFileSync(file);
    rmSync(dir, { recursive: true });
    expect(bytes.length).toBe(pages * PAGE);
    let bad = 0;
    for (let p = 0; p < pages; p++) if (bytes[p * PAGE + 17] !== ((p * 31) & 255)) bad++;
    expect(bad).toBe(0);
    for (let p = 0; p < pages; p++) if (u8[p * PAGE + 17] !== ((p * 31) & 255)) bad++;
    expect(bad).toBe(0);
    await region.sync();
    expect(region.stats().counters.poisoned).toBe(0);
    expect(region.stats().gauges.page_count).toBeLessThanOrEqual(pages / 16);
  });

  it('changes the budget at run time and keeps every byte', async () => {
    const pages = 2048;
    const region = await PagedRegion.open({ name: 'limit', sizeBytes: pages * PAGE, localBytes: pages * PAGE, policySet: 'improved' });
    open.push(region);
    const bytes = new Uint8Array(region.arrayBuffers()[0]);
    for (let i = 0; i < bytes.length; i += 512) bytes[i] = (i >>> 9) & 255;
    await region.setLimit(128 * PAGE);
    await region.sync();
    expect(region.stats().gauges.page_count).toBeLessThanOrEqual(128);
    let bad = 0;
    for (let i = 0; i < bytes.length; i += 512) if (bytes[i] !== ((i >>> 9) & 255)) bad++;
    expect(bad).toBe(0);
    await expect(region.setLimit(0)).rejects.toBeInstanceOf(RegionError);
    await expect(region.setLimit(pages * PAGE + PAGE)).rejects.toThrow(/between 4096 bytes/);
  });

  it('refuses an unknown dirty-tracking mode before mapping anything', async () => {
    await expect(PagedRegion.open({ name: 'bad', sizeBytes: 16 * PAGE, localBytes: 4 * PAGE, asyncDirtyTracking: 'yes' as never }))
      .rejects.toThrow(/asyncDirtyTracking "yes" is not one of auto, on, off/);
  });
});
