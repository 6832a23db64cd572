import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Result line of tools/uffd-reference. */
export interface ReferenceResult {
  mode: 'local' | 'remote';
  pages: number;
  placement: string;
  medianUs: number;
  p99Us: number;
  copies: number;
  wakes: number;
  wrongBytes: number;
  /** Remote mode: the donor address. */
  server?: string;
  /** Remote mode: recv calls per fault (setup included). */
  recvsPerFault?: number;
  /** Remote mode: donor heartbeat pings answered. */
  pongs?: number;
}

/** Where the remote mode fetches pages from: a krdma donor and the cluster secret. */
export interface ReferenceDonor { address: string; secretHex: string }

/** The C sources live in the repository's tools/uffd-reference; found from here (src or dist). */
function referenceDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 8; up++) {
    const candidate = join(dir, 'tools', 'uffd-reference');
    if (existsSync(join(candidate, 'uffd-ref.c'))) return candidate;
    dir = dirname(dir);
  }
  throw new Error('the C reference sources (tools/uffd-reference) were not found: run the benchmark from a rackmem source checkout');
}
const SOURCE_FILES = ['uffd-ref.c', 'krdma-client.c', 'sha256.c'];

/** Compiles the C reference handler into a temporary directory; returns the binary and a cleanup. */
export function buildReference(): { binary: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'uffd-ref-'));
  const binary = join(dir, 'uffd-ref');
  try {
    execFileSync('gcc', ['-O2', '-Wall', '-pthread', ...SOURCE_FILES.map((f) => join(referenceDir(), f)), '-o', binary], { stdio: ['ignore', 'inherit', 'inherit'] });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return { binary, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Runs the reference for `pages` pages in a placement: faults served from local memory, or, with
 * a donor, each fault fetched from that krdma donor over TCP (the secret goes through the
 * environment, not the command line).
 */
export function runReference(binary: string, pages: number, placement: 'free' | 'pinned', cpu = 0, donor?: ReferenceDonor): ReferenceResult {
  const args = [String(pages), placement, String(cpu), ...(donor ? ['remote', donor.address] : [])];
  const env = donor ? { ...process.env, UFFD_REF_SECRET_HEX: donor.secretHex } : process.env;
  const out = execFileSync(binary, args, { encoding: 'utf8', timeout: 120_000, env });
  return JSON.parse(out.trim()) as ReferenceResult;
}
