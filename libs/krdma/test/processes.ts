// Spawns rackmem nodes (test/fixtures/node-process.ts) in their own processes and tracks them,
// so a test suite can kill every one of them in afterAll.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const FIXTURE = fileURLToPath(new URL('./fixtures/node-process.ts', import.meta.url));
const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));

export interface NodeProcess {
  readonly child: ChildProcess;
  readonly port: number;
  /** Stderr so far (for failure messages). */
  stderr(): string;
}

const spawned = new Set<ChildProcess>();

/** Starts a node process and resolves when it printed `ready <port>` (rejects after `timeoutMs`). */
export function startNode(args: string[], timeoutMs = 15_000): Promise<NodeProcess> {
  // RACKMEM_CHILD_NODE_ARGS: extra node flags for the children (e.g. "--cpu-prof" when profiling a bench).
  const extra = (process.env.RACKMEM_CHILD_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const child = spawn(process.execPath, [...extra, '--import', 'tsx', '--conditions=@rackmem/source', FIXTURE, ...args], {
    cwd: PACKAGE_DIR,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  spawned.add(child);
  child.once('exit', () => spawned.delete(child));
  let out = '';
  let err = '';
  child.stderr?.on('data', (chunk: Buffer) => void (err += chunk.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`node process did not print "ready" within ${timeoutMs} ms; stderr: ${err}`));
    }, timeoutMs);
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /ready (\d+)/.exec(out);
      if (match !== null) {
        clearTimeout(timer);
        resolve({ child, port: Number(match[1]), stderr: () => err });
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`node process exited (${code ?? signal}) before it was ready; stderr: ${err}`));
    });
  });
}

/** Resolves when the process has exited. */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Kills every process started here that is still running (continuing stopped ones first):
 * SIGKILL at once, or with `graceMs` SIGTERM first and SIGKILL after that long.
 */
export async function killAll(graceMs = 0): Promise<void> {
  const children = [...spawned];
  for (const child of children) {
    child.kill('SIGCONT');
    child.kill(graceMs > 0 ? 'SIGTERM' : 'SIGKILL');
  }
  if (graceMs > 0) {
    const timer = setTimeout(() => children.forEach((child) => child.kill('SIGKILL')), graceMs);
    await Promise.all(children.map(exited));
    clearTimeout(timer);
  }
  await Promise.all(children.map(exited));
}
