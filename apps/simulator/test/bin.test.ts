// The real command in its own process (src/cli.ts through tsx, as `npm run rackmem-sim` runs it):
// exit codes and the output contract (repro first, digest last).

import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDirs } from './cli-harness.js';

const temp = tempDirs();
afterAll(() => temp.cleanup());
const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const TSX = createRequire(import.meta.url).resolve('tsx/cli');

function bin(cwd: string, ...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [TSX, '--conditions=@rackmem/source', CLI, ...args], { cwd, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('rackmem-sim as a process', () => {
  it('run exits 0 with the repro line first and the digest line last; bad input exits 2', () => {
    const cwd = temp.make();
    const ok = bin(cwd, 'run', 'gemm', '--set', 'workload.matrixSize=16', '--seed', '2', '--out', 'o');
    expect(ok.status).toBe(0);
    const lines = ok.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^repro: rackmem-sim run gemm --seed 2 /);
    expect(lines.at(-1)).toMatch(/^digest: [0-9a-f]{8}$/);
    expect(ok.stderr).toBe('');
    const bad = bin(cwd, 'run', 'gemm', '--set', 'workload.matrixSize=-1');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/matrixSize/);
  });
});
