import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { verbsLibraryAvailable } from '@rackmem/krdma';
import { describe, expect, it } from 'vitest';
import { TSX_ARGS } from './uffd-available.js';

const REPO = fileURLToPath(new URL('../../..', import.meta.url));
const reason = verbsLibraryAvailable() ? null : 'libibverbs.so.1 cannot be loaded (the fake NIC still drives the real binding code)';
if (reason !== null) console.warn(`[rackmem] skipping the rdma-smoke --fake test: ${reason}`);

describe.skipIf(reason !== null)('tools/rdma-smoke --fake: the fabric stage an operator runs on RDMA hardware', () => {
  it('moves pages between two VerbsFabrics over verbs (fake NIC) and reports a TCP reference', () => {
    const run = spawnSync(process.execPath, [...TSX_ARGS, 'tools/rdma-smoke/rdma-smoke.ts', '--fake'], { cwd: REPO, encoding: 'utf8', timeout: 60_000 });
    expect(run.status, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout) as { ok: boolean; fabric: { dataPlane: string; verbs: Record<string, number>; tcpReference: Record<string, number> } };
    expect(result.ok).toBe(true);
    expect(result.fabric.dataPlane).toBe('verbs');
    expect(result.fabric.verbs.wrongPages).toBe(0);
    expect(result.fabric.verbs.verbsReads).toBeGreaterThanOrEqual(1000);
    expect(result.fabric.tcpReference.wrongPages).toBe(0);
    expect(result.fabric.tcpReference.readMedianUs).toBeGreaterThan(0);
  }, 90_000);
});
