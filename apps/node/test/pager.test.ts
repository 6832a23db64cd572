import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { residentPages } from '../src/native/libc.js';
import { RegionMemory } from '../src/native/region-memory.js';
import { Pager } from '../src/pager/pager.js';
import { PagerError } from '../src/pager/pager-error.js';
import { describeWithUffd, TSX_ARGS } from './uffd-available.js';

const PAGE = 4096;
const PAGES = 1024; // 4 MiB
const APP_DIR = fileURLToPath(new URL('..', import.meta.url));
const koffiPath = createRequire(import.meta.url).resolve('koffi');

/** Deterministic byte for (page, offset, generation). */
const pattern = (page: number, offset: number, gen: number) => (page * 31 + offset * 7 + gen * 13) & 255;

describeWithUffd('pager worker on a userfaultfd region', () => {
  let region: RegionMemory;
  let pager: Pager;
  let u8: Uint8Array;

  beforeAll(async () => {
    region = RegionMemory.map(PAGES * PAGE);
    pager = await Pager.start({ region });
    u8 = region.bytes(0, region.sizeBytes);
  });

  afterAll(async () => {
    await pager.stop();
    region.unmap();
  });

  it('registers the range with MISSING and WP; MOVE and POISON are usable', () => {
    expect(pager.info.canMove).toBe(true);
    expect(pager.info.canProtect).toBe(true);
    // _UFFDIO_ bits: WAKE 2, COPY 3, ZEROPAGE 4, MOVE 5, WRITEPROTECT 6, POISON 8
    for (const bit of [2, 3, 4, 5, 6, 8]) expect(pager.info.registerIoctls & (1 << bit)).not.toBe(0);
  });

  it('never-written pages read as zeros, through the pager', () => {
    const before = pager.stats().faults;
    for (let p = 0; p < 64; p++) expect(u8[p * PAGE + 100]).toBe(0);
    expect(pager.stats().faults - before).toBeGreaterThanOrEqual(63); // the last counter update may lag
  });

  it('writes persist; evicted pages (MOVE) read back the last value', async () => {
    for (let p = 0; p < 256; p++) for (const off of [0, 1, 4095]) u8[p * PAGE + off] = pattern(p, off, 1);
    await pager.evict(0, 256);
    expect(residentPages(region.address, 256 * PAGE).some((b) => (b & 1) !== 0)).toBe(false);
    const fillsBefore = pager.stats().storeFills;
    for (let p = 0; p < 256; p++) for (const off of [0, 1, 4095]) expect(u8[p * PAGE + off]).toBe(pattern(p, off, 1));
    expect(pager.stats().storeFills - fillsBefore).toBeGreaterThanOrEqual(255);
  });

  it('copy-out eviction keeps writes, and a second eviction keeps the newest value', async () => {
    for (let p = 0; p < 128; p++) u8[p * PAGE + 9] = pattern(p, 9, 2);
    await pager.evict(0, 128, 'copy-out');
    for (let p = 0; p < 128; p++) u8[p * PAGE + 9] = pattern(p, 9, 3); // write faults fill from the store
    await pager.evict(0, 128, 'move');
    for (let p = 0; p < 128; p++) {
      expect(u8[p * PAGE + 9]).toBe(pattern(p, 9, 3));
      expect(u8[p * PAGE + 1]).toBe(pattern(p, 1, 1));
    }
  });

  it('prefetch fills stored pages so the touches do not fault', async () => {
    for (let p = 300; p < 332; p++) u8[p * PAGE] = pattern(p, 0, 5);
    await pager.evict(300, 32);
    await pager.prefetch(300, 32);
    const before = pager.stats().faults;
    for (let p = 300; p < 332; p++) expect(u8[p * PAGE]).toBe(pattern(p, 0, 5));
    expect(pager.stats().faults).toBe(before);
    expect(pager.stats().prefetchedPages).toBeGreaterThanOrEqual(32);
  });

  it('resolves faults from several threads at once and kernel-mode accesses', async () => {
    const first = 512;
    const count = 256;
    for (let p = first; p < first + count; p++) u8[p * PAGE + 17] = pattern(p, 17, 4);
    await pager.evict(first, count);
    // Four worker threads touch the same pages concurrently (collisions: EEXIST -> WAKE), and
    // main reads them through the kernel (fs.writeFileSync from region memory) at the same time.
    const code = `
      const { parentPort, workerData: d } = require('node:worker_threads');
      const koffi = require(d.koffiPath);
      const u8 = new Uint8Array(koffi.view(d.address, d.sizeBytes));
      let bad = 0;
      for (let i = 0; i < d.count; i++) {
        const p = d.first + ((i * 7 + d.id * 61) % d.count);
        if (u8[p * 4096 + 17] !== ((p * 31 + 17 * 7 + 4 * 13) & 255)) bad++;
      }
      parentPort.postMessage(bad);`;
    const workers = [0, 1, 2, 3].map((id) => new Worker(code, { eval: true, workerData: { koffiPath, address: region.address, sizeBytes: region.sizeBytes, first, count, id } }));
    const results = workers.map((w) => new Promise<number>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    }));
    const dir = mkdtempSync(join(tmpdir(), 'rackmem-kernel-read-'));
    const file = join(dir, 'region.bin');
    writeFileSync(file, u8.subarray((first + count / 2) * PAGE, (first + count) * PAGE));
    expect(await Promise.all(results)).toEqual([0, 0, 0, 0]);
    await Promise.all(workers.map((w) => w.terminate()));
    const bytes = readFileSync(file);
    rmSync(dir, { recursive: true });
    expect(bytes.length).toBe((count / 2) * PAGE);
    for (let i = 0; i < count / 2; i++) {
      const p = first + count / 2 + i;
      expect(bytes[i * PAGE + 17]).toBe(pattern(p, 17, 4));
      expect(bytes[i * PAGE + 18]).toBe(0);
    }
  });

  it('rejects commands outside the region and counts nothing as an error', async () => {
    await expect(pager.evict(PAGES - 1, 2)).rejects.toThrowError(RangeError);
    expect(pager.stats().errors).toBe(0);
    expect(pager.stats().unexpectedEvents).toBe(0);
  });
});

describeWithUffd('pager fast path between faults (FaultLinger)', () => {
  it('a pager waiting for the next fault in its own poll still serves commands and stops at once', async () => {
    const region = RegionMemory.map(64 * PAGE);
    // Linger for a minute: only the doorbell and the stop eventfd can bring it back to its loop.
    const pager = await Pager.start({ region, linger: { lingerMs: 60_000, maxTurnMs: 60_000 } });
    try {
      const u8 = region.bytes(0, region.sizeBytes);
      for (let p = 0; p < 64; p++) u8[p * PAGE] = p + 1; // faults: the pager now lingers in poll
      const t0 = performance.now();
      await pager.evict(0, 64);
      expect(performance.now() - t0).toBeLessThan(5_000);
      for (let p = 0; p < 64; p++) expect(u8[p * PAGE]).toBe(p + 1); // faults served again
    } finally {
      const t0 = performance.now();
      await pager.stop();
      expect(performance.now() - t0).toBeLessThan(5_000);
      region.unmap();
    }
  });

  it('rejects linger settings that are not non-negative numbers (or, for storageReplies, a boolean)', async () => {
    const region = RegionMemory.map(PAGE);
    try {
      await expect(Pager.start({ region, linger: { lingerMs: -1 } })).rejects.toThrow(/lingerMs/);
      await expect(Pager.start({ region, linger: { maxTurnMs: Number.NaN } })).rejects.toThrow(/maxTurnMs/);
      await expect(Pager.start({ region, linger: { spinUs: -5 } })).rejects.toThrow(/linger.spinUs must be a non-negative number of microseconds/);
      await expect(Pager.start({ region, linger: { storageReplies: 'yes' as unknown as boolean } })).rejects.toThrow(/storageReplies must be true or false/);
    } finally {
      region.unmap();
    }
  });
});

describeWithUffd('pager lifecycle in child processes', () => {
  it('a poisoned page kills the touching process with SIGBUS', () => {
    const r = spawnSync(process.execPath, [...TSX_ARGS, 'test/fixtures/poison-child.ts'], { cwd: APP_DIR, encoding: 'utf8', timeout: 30_000 });
    expect(r.stdout).toContain('poisoned');
    expect(r.stdout).not.toContain('survived');
    expect(r.signal).toBe('SIGBUS');
  });

  it('after a pager crash an evicted page raises SIGBUS (never zeros) and resident pages stay readable', () => {
    const r = spawnSync(process.execPath, [...TSX_ARGS, 'test/fixtures/crash-child.ts'], { cwd: APP_DIR, encoding: 'utf8', timeout: 30_000 });
    expect(r.stdout).toContain('resident 3');
    expect(r.stdout).not.toContain('survived');
    expect(r.signal).toBe('SIGBUS');
  });

  it('stop then process.exit exits within a few seconds', () => {
    const t0 = Date.now();
    const r = spawnSync(process.execPath, [...TSX_ARGS, 'test/fixtures/exit-child.ts'], { cwd: APP_DIR, encoding: 'utf8', timeout: 20_000 });
    expect(r.stdout).toContain(`sum ${(63 * 64) / 2}`);
    expect(r.status).toBe(0);
    expect(Date.now() - t0).toBeLessThan(15_000);
  });

  it('process.exit with the pager still running does not hang', () => {
    const r = spawnSync(process.execPath, [...TSX_ARGS, 'test/fixtures/exit-child.ts', 'no-stop'], { cwd: APP_DIR, encoding: 'utf8', timeout: 20_000 });
    expect(r.stdout).toContain(`sum ${(63 * 64) / 2}`);
    expect(r.signal).toBeNull();
    expect(r.status).toBe(0);
  });

  it('a stopped pager refuses commands; stop is idempotent; the range no longer faults to it', async () => {
    const region = RegionMemory.map(8 * PAGE);
    const pager = await Pager.start({ region });
    const u8 = region.bytes(0, region.sizeBytes);
    u8[0] = 1;
    await pager.stop();
    await pager.stop();
    await expect(pager.evict(0, 1)).rejects.toThrowError(PagerError);
    u8[PAGE] = 2; // unregistered: an ordinary fault
    expect(u8[PAGE]).toBe(2);
    expect(u8[0]).toBe(1);
    region.unmap();
  });
});
