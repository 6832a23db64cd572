import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { PagedRegion } from '../src/region/paged-region.js';
import { killDonors, newSecretHex, startDonor } from './donors.js';
import { asyncDirtyUnavailable, describeWithUffd, TSX_ARGS } from './uffd-available.js';

const PAGE = 4096;
const MiB = 1 << 20;

/**
 * Marks byte `at` of every page with `mark(page)`, pushes every page to the donors (a one-page
 * budget), gives `localPages` back, then reads every mark through faults. Returns how many read
 * back wrong.
 */
async function markEvictAndReadBack(region: PagedRegion, pages: number, localPages: number, at: number, mark: (page: number) => number): Promise<number> {
  const bytes = new Uint8Array(region.arrayBuffers()[0]);
  for (let p = 0; p < pages; p++) bytes[p * PAGE + at] = mark(p);
  await region.setLimit(PAGE);
  await region.setLimit(localPages * PAGE);
  await region.sync();
  let bad = 0;
  for (let p = 0; p < pages; p++) if (bytes[p * PAGE + at] !== mark(p)) bad++;
  await region.sync();
  return bad;
}

describeWithUffd('paged regions over donors in other processes (TCP)', () => {
  afterAll(() => killDonors());

  it('a 1 GiB region with a 64 MiB budget over two donors: every byte verified after random writes', async () => {
    const secretHex = newSecretHex();
    const donors = await Promise.all(['mem-a', 'mem-b'].map((n) => startDonor(n, secretHex, 1024 * MiB)));
    const region = await PagedRegion.open({
      name: 'big', sizeBytes: 1024 * MiB, localBytes: 64 * MiB, policySet: 'improved',
      storage: { kind: 'remote', donors: donors.map((d) => d.address), secretHex, nodeName: 'compute-test', slabSizeBytes: 64 * MiB },
    });
    try {
      const pages = (1024 * MiB) / PAGE;
      const view = new DataView(region.arrayBuffers()[0]);
      // Random writes: a multiplicative permutation of the pages, two words per page.
      const stride = 2_654_435_761 % pages | 1;
      for (let i = 0; i < pages; i++) {
        const p = (i * stride) % pages;
        view.setUint32(p * PAGE, p ^ 0x5a5a5a5a, true);
        view.setUint32(p * PAGE + PAGE - 4, ~p >>> 0, true);
      }
      let bad = 0;
      for (let p = 0; p < pages; p++) {
        if (view.getUint32(p * PAGE, true) !== (p ^ 0x5a5a5a5a) >>> 0) bad++;
        if (view.getUint32(p * PAGE + PAGE - 4, true) !== ~p >>> 0) bad++;
        if (view.getUint32(p * PAGE + 2048, true) !== 0) bad++;
      }
      expect(bad).toBe(0);
      await region.sync();
      const { counters, gauges, dvs } = region.stats();
      expect(gauges.page_count).toBeLessThanOrEqual((64 * MiB) / PAGE);
      // The dvs region's counters reach main too (the original's stat lists them after vm's).
      expect(dvs?.slab_alloc).toBeGreaterThan(0);
      expect(dvs?.slab_write).toBeGreaterThan(0);
      expect(dvs?.slab_read).toBeGreaterThan(0);
      expect(counters.io_write).toBeGreaterThan(pages / 2);
      expect(counters.poisoned).toBe(0);
    } finally {
      await region.close();
    }
  }, 240_000);

  it('asynchronous dirty tracking over TCP: writes caught only by the unmap guard go to the donor as rescue writes', async (ctx) => {
    if (asyncDirtyUnavailable) {
      console.warn(`[rackmem] skipped: ${asyncDirtyUnavailable}`);
      ctx.skip();
    }
    const secretHex = newSecretHex();
    const donor = await startDonor('rescue-a', secretHex, 256 * MiB);
    const pages = 8192; // 32 MiB through a 4 MiB budget
    const region = await PagedRegion.open({
      // No watermark reclaim: clean victims leave at once, so a caught write cannot stay in its frame.
      name: 'rescue', sizeBytes: pages * PAGE, localBytes: 4 * MiB, policySet: 'improved', vm: { prefetch: 'none', reclaim: 'none' },
      asyncDirtyTracking: 'on', testHooks: { blindDirtyProbe: true },
      storage: { kind: 'remote', donors: [donor.address], secretHex, nodeName: 'compute-rescue', slabSizeBytes: 16 * MiB },
    });
    try {
      const view = new DataView(region.arrayBuffers()[0]);
      const expected = new Uint32Array(pages);
      let seed = 99;
      const random = (bound: number): number => {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        return (seed >>> 8) % bound; // the low bits of an LCG alternate
      };
      let bad = 0;
      for (let p = 0; p < pages; p++) view.setUint32(p * PAGE + 16, (expected[p] = p + 1), true);
      for (let i = 0; i < 30_000; i++) {
        const p = random(pages);
        if (view.getUint32(p * PAGE + 16, true) !== expected[p]) bad++;
        if (random(2) === 0) view.setUint32(p * PAGE + 16, (expected[p] = (i * 7919 + p) >>> 0 || 1), true);
      }
      for (let p = 0; p < pages; p++) if (view.getUint32(p * PAGE + 16, true) !== expected[p]) bad++;
      expect(bad).toBe(0);
      await region.sync();
      const { counters, pager } = region.stats();
      expect(pager.dirtyRaces).toBeGreaterThan(0);
      expect(pager.rescueWrites).toBeGreaterThan(0);
      expect(pager.wpFaults).toBe(0);
      expect(counters.poisoned).toBe(0);
    } finally {
      await region.close();
    }
  }, 120_000);

  it('demand faults over TCP read back every page whether the pager reads replies in its own poll or through its event loop', async () => {
    const secretHex = newSecretHex();
    const donor = await startDonor('poll-a', secretHex, 256 * MiB);
    for (const storageReplies of [true, false]) {
      const pages = 2048;
      const region = await PagedRegion.open({
        name: `replies-${storageReplies}`, sizeBytes: pages * PAGE, localBytes: pages * PAGE, policySet: 'improved', vm: { prefetch: 'none' },
        storage: { kind: 'remote', donors: [donor.address], secretHex, nodeName: `compute-replies-${storageReplies}`, slabSizeBytes: 16 * MiB },
        linger: { storageReplies },
      });
      try {
        expect(await markEvictAndReadBack(region, pages, pages, 9, (p) => (p * 13 + 1) & 255)).toBe(0);
        const { counters, pager } = region.stats();
        expect(counters.io_read).toBeGreaterThanOrEqual(pages - 8); // all but the few the 1-page budget kept
        if (storageReplies) expect(pager.storageReceives).toBeGreaterThan(pages / 2);
        else expect(pager.storageReceives).toBe(0);
      } finally {
        await region.close();
      }
    }
  }, 120_000);

  it('a sequential scan with prefetch over TCP installs the windows that arrive together with multi-page UFFDIO_COPYs', async () => {
    const secretHex = newSecretHex();
    const donor = await startDonor('scan-a', secretHex, 256 * MiB);
    const pages = 4096; // 16 MiB, a quarter of it local
    const region = await PagedRegion.open({
      name: 'scan', sizeBytes: pages * PAGE, localBytes: pages * PAGE, policySet: 'improved', vm: { prefetch: 'adaptive' },
      storage: { kind: 'remote', donors: [donor.address], secretHex, nodeName: 'compute-scan', slabSizeBytes: 16 * MiB },
    });
    try {
      expect(await markEvictAndReadBack(region, pages, pages / 4, 5, (p) => (p * 7) & 255)).toBe(0);
      const { counters, pager } = region.stats();
      expect(counters.prefetch_issued).toBeGreaterThan(pages / 2);
      expect(pager.multiPageFills).toBeGreaterThan(0);
      expect(pager.multiPageFillPages).toBeGreaterThan(pager.multiPageFills); // more than one page each
      expect(counters.poisoned).toBe(0);
    } finally {
      await region.close();
    }
  }, 120_000);

  it('with replication 2 a killed donor loses nothing', async () => {
    const secretHex = newSecretHex();
    const donors = await Promise.all(['rep-a', 'rep-b', 'rep-c'].map((n) => startDonor(n, secretHex, 256 * MiB)));
    const region = await PagedRegion.open({
      name: 'replicated', sizeBytes: 64 * MiB, localBytes: 4 * MiB, policySet: 'improved',
      storage: { kind: 'remote', donors: donors.map((d) => d.address), secretHex, nodeName: 'compute-rep', replication: 2, slabSizeBytes: 4 * MiB, requestTimeoutMs: 1000 },
    });
    try {
      const pages = (64 * MiB) / PAGE;
      const view = new DataView(region.arrayBuffers()[0]);
      for (let p = 0; p < pages; p++) view.setUint32(p * PAGE + 16, p + 7, true);
      donors[0].child.kill('SIGKILL');
      let bad = 0;
      for (let p = 0; p < pages; p++) if (view.getUint32(p * PAGE + 16, true) !== p + 7) bad++;
      expect(bad).toBe(0);
      expect(region.stats().counters.poisoned).toBe(0);
    } finally {
      await region.close();
    }
  }, 120_000);

  it('with replication 1 a killed donor poisons its pages: the touching thread gets SIGBUS', async () => {
    const secretHex = newSecretHex();
    const child = fork(fileURLToPath(new URL('./fixtures/lost-page-child.ts', import.meta.url)), [secretHex], {
      execArgv: TSX_ARGS, cwd: fileURLToPath(new URL('..', import.meta.url)), stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    let out = '';
    child.stdout?.on('data', (c: Buffer) => void (out += c.toString()));
    child.stderr?.on('data', (c: Buffer) => void (out += c.toString()));
    const result = await new Promise<{ code: number | null; signal: string | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    expect(out).toContain('donor killed');
    expect(result.signal, out).toBe('SIGBUS');
    expect(out).toMatch(/poisoned [1-9]/);
    expect(out).toMatch(/reported lost [1-9]/);
  }, 120_000);
});
