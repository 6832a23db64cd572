// Runs rackmem-sim in this process with captured output, in a temporary working directory.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../src/index.js';

/** What a CLI invocation printed and returned. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  lines: string[];
}

/** Runs `rackmem-sim <args>` with `cwd` as its working directory. */
export async function cli(cwd: string, ...args: string[]): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), cwd, env: {} });
  return { code, stdout, stderr, lines: stdout.trimEnd().split('\n') };
}

/** A fresh temporary directory; `cleanup` removes every one made. */
export function tempDirs(): { make: () => string; cleanup: () => void } {
  const dirs: string[] = [];
  return {
    make: () => {
      const dir = mkdtempSync(join(tmpdir(), 'rackmem-sim-test-'));
      dirs.push(dir);
      return dir;
    },
    cleanup: () => {
      for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
    },
  };
}

/** A small random scenario (YAML): uniform over 512 pages, 2 threads, 25% local. */
export const SMALL_YAML = `# a small test scenario
name: small
network: fdr56
memoryNodes: { count: 2, capacityBytes: 1073741824 }
regions:
  - name: r0
    workload: { kind: uniform, pageCount: 512, threadCount: 2, accessesPerThread: 2000, writeNumerator: 1, writeDenominator: 2, thinkNs: 200 }
    localRatio: 0.25
    slabSizeBytes: 1048576
`;
