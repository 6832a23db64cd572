import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Result line of tools/uffd-reference. */
export interface ReferenceResult { pages: number; placement: string; medianUs: number; p99Us: number; copies: number; wakes: number; wrongBytes: number }

const SOURCE = fileURLToPath(new URL('../../../tools/uffd-reference/uffd-ref.c', import.meta.url));

/** Compiles the C reference handler into a temporary directory; returns the binary and a cleanup. */
export function buildReference(): { binary: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'uffd-ref-'));
  const binary = join(dir, 'uffd-ref');
  execFileSync('gcc', ['-O2', '-Wall', '-pthread', SOURCE, '-o', binary], { stdio: ['ignore', 'inherit', 'inherit'] });
  return { binary, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs the reference for `pages` pages in a placement. */
export function runReference(binary: string, pages: number, placement: 'free' | 'pinned', cpu = 0): ReferenceResult {
  const out = execFileSync(binary, [String(pages), placement, String(cpu)], { encoding: 'utf8', timeout: 120_000 });
  return JSON.parse(out.trim()) as ReferenceResult;
}
