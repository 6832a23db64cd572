import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { describeWithUffd, TSX_ARGS } from './uffd-available.js';

const ENTRY = fileURLToPath(new URL('../src/demo/local-rack.ts', import.meta.url));
const APP_DIR = fileURLToPath(new URL('..', import.meta.url));

describeWithUffd('npm start: the local rack demo', () => {
  it('runs both original examples with real paging over TCP, verifies them, prints the table and stops the rack', () => {
    const r = spawnSync(process.execPath, [...TSX_ARGS, ENTRY], { cwd: APP_DIR, encoding: 'utf8', timeout: 180_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('touch: every page of 128 MiB verified with both policy sets');
    expect(r.stdout).toMatch(/gemm: results equal; plain memory [\d.]+ s, rackmem at 50% local [\d.]+ s/);
    expect(r.stdout).toMatch(/fault latency p99 \(us\)\s+[\d.]+\s+[\d.]+\s+[\d.]+/);
    expect(r.stdout).toContain('stopping the rack');
  }, 200_000);
});

const canDropPrivileges = process.getuid?.() === 0 && existsSync('/usr/bin/setpriv');
if (!canDropPrivileges) console.warn('[rackmem] skipping the no-userfaultfd start test: needs root and setpriv to run as an unprivileged user');

describe.runIf(canDropPrivileges)('npm start without userfaultfd permission', () => {
  it('explains why and how to allow it, and exits non-zero', () => {
    const r = spawnSync('/usr/bin/setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, ...TSX_ARGS, ENTRY], { cwd: APP_DIR, encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('userfaultfd is not available here');
    expect(r.stdout).toContain('sysctl vm.unprivileged_userfaultfd=1');
  }, 60_000);
});
