// Memory nodes in their own processes on 127.0.0.1 (memory-node.ts: krdma TCP donors), for
// `npm start`'s local rack, `kv bench` and `rackmem bench fault`: started with a timeout,
// stopped with SIGTERM then SIGKILL; each also exits by itself if this process dies
// (parent-watch.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const RUNNING_FROM_SOURCE = import.meta.url.endsWith('.ts');
const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 5_000;

/** Running memory nodes. */
export interface MemoryNodes {
  /** `127.0.0.1:port` of each node. */
  readonly addresses: string[];
  /** The cluster secret they share (hex). */
  readonly secretHex: string;
  /** Stops every node (SIGTERM, then SIGKILL after 5 s). */
  stop(): Promise<void>;
}

/** Starts `count` memory nodes donating `capacityBytes` each; stops the ones started if one fails. */
export async function startMemoryNodes(count: number, capacityBytes: number, namePrefix = 'mem'): Promise<MemoryNodes> {
  const secretHex = randomBytes(32).toString('hex');
  const started = await Promise.allSettled(Array.from({ length: count }, (_, i) => startOne(`${namePrefix}-${i + 1}`, secretHex, capacityBytes)));
  const children = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const stop = (): Promise<void> => Promise.all(children.map((c) => stopChild(c.child))).then(() => undefined);
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await stop();
    throw failed.reason;
  }
  return { addresses: children.map((c) => c.address), secretHex, stop };
}

function startOne(name: string, secretHex: string, capacityBytes: number): Promise<{ child: ChildProcess; address: string }> {
  const ext = RUNNING_FROM_SOURCE ? 'ts' : 'js';
  const entry = fileURLToPath(new URL(`./memory-node.${ext}`, import.meta.url));
  const watch = new URL(`./parent-watch.${ext}`, import.meta.url).href;
  const args = RUNNING_FROM_SOURCE ? ['--import', 'tsx', '--import', watch, '--conditions=@rackmem/source', entry] : ['--import', watch, entry];
  const child = spawn(process.execPath, [...args, name, secretHex, String(capacityBytes)], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`memory node ${name} did not start within ${START_TIMEOUT_MS / 1000} s`));
    }, START_TIMEOUT_MS);
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out = (out + chunk.toString()).slice(-1000);
      const match = /ready (\d+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve({ child, address: `127.0.0.1:${match[1]}` });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`memory node ${name} exited with code ${code} before it was ready`));
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
