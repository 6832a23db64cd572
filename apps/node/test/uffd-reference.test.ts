import { execFileSync, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReference, runReference } from '../src/bench/c-reference.js';
import { killDonors, newSecretHex, startDonor } from './donors.js';
import { describeWithUffd } from './uffd-available.js';

const hasGcc = spawnSync('gcc', ['--version']).status === 0;
if (!hasGcc) console.warn('[rackmem] skipping the C reference tests: gcc is not installed');
const describeIfBuildable = hasGcc ? describeWithUffd : describe.skip;

describeIfBuildable('the C reference handler (tools/uffd-reference) used by `rackmem bench fault`', () => {
  let binary = '';
  let cleanup = (): void => undefined;
  beforeAll(() => void ({ binary, cleanup } = buildReference()));
  afterAll(() => {
    cleanup();
    killDonors();
  });

  it('serves every fault from local memory with the right contents', () => {
    const r = runReference(binary, 2000, 'free');
    expect(r).toMatchObject({ mode: 'local', pages: 2000, copies: 2000, wrongBytes: 0 });
    expect(r.medianUs).toBeGreaterThan(0);
  });

  it('fetches every faulted page from a krdma donor (authenticated, across two slabs) with the right contents', async () => {
    const secretHex = newSecretHex();
    const donor = await startDonor('ref-donor', secretHex, 256 << 20);
    const pages = 5000; // 16 MiB slabs hold 4096 pages: two slabs
    const r = runReference(binary, pages, 'pinned', 0, { address: donor.address, secretHex });
    expect(r).toMatchObject({ mode: 'remote', pages, copies: pages, wrongBytes: 0, server: donor.address });
    // The donor freed the slabs: a second run of the same size still fits a donor of 3 slabs' capacity.
    const small = await startDonor('ref-donor-small', secretHex, 48 << 20);
    for (let i = 0; i < 2; i++) expect(runReference(binary, pages, 'free', 0, { address: small.address, secretHex }).wrongBytes).toBe(0);
  });

  it('refuses a donor that does not know the secret, naming the cause', async () => {
    const donor = await startDonor('ref-donor-other', newSecretHex(), 64 << 20);
    let stderr = '';
    try {
      execFileSync(binary, ['100', 'free', '0', 'remote', donor.address], { env: { ...process.env, UFFD_REF_SECRET_HEX: newSecretHex() }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000 });
    } catch (err) {
      stderr = String((err as { stderr?: Buffer }).stderr);
    }
    expect(stderr).toMatch(/"ref-donor-other" does not know the cluster secret/);
  });
});
