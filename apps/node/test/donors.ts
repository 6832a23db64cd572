import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { TSX_ARGS } from './uffd-available.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/donor-process.ts', import.meta.url));
const APP_DIR = fileURLToPath(new URL('..', import.meta.url));

/** A donor process and its address. */
export interface Donor {
  readonly child: ChildProcess;
  readonly name: string;
  readonly address: string;
}

const children = new Set<ChildProcess>();

/** A fresh cluster secret (hex). */
export const newSecretHex = (): string => randomBytes(32).toString('hex');

/** Starts a donor process; resolves once it listens. */
export function startDonor(name: string, secretHex: string, capacityBytes: number, timeoutMs = 20_000): Promise<Donor> {
  const child = spawn(process.execPath, [...TSX_ARGS, FIXTURE, name, secretHex, String(capacityBytes)], { cwd: APP_DIR, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let out = '';
  let err = '';
  child.stderr?.on('data', (c: Buffer) => void (err += c.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`donor ${name} not ready in ${timeoutMs} ms: ${err}`));
    }, timeoutMs);
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /ready (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, name, address: `127.0.0.1:${m[1]}` });
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`donor ${name} exited (${code ?? signal}) before ready: ${err}`));
    });
  });
}

/** Kills every donor still running. */
export function killDonors(): void {
  for (const child of children) child.kill('SIGKILL');
}
