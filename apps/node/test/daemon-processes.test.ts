// Two `rackmem node start` daemons in their own processes (tsx from source), connected with the
// CLI, listed on both sides, then stopped with signals: both exit 0, cleanly, leaving nothing.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url));
const NODE_ARGS = ['--import', 'tsx', '--conditions=@rackmem/source', CLI];

const spawned = new Set<ChildProcess>();
const dir = mkdtempSync(join(tmpdir(), 'rackmem-procs-'));

afterAll(async () => {
  for (const child of spawned) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all([...spawned].map(exited));
  rmSync(dir, { recursive: true, force: true });
});

function exited(child: ChildProcess): Promise<{ code: number | null; signal: string | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

interface Daemon {
  child: ChildProcess;
  lines: Array<Record<string, unknown>>;
  stdout: () => string;
  stderr: () => string;
  fabricPort: number;
  apiPort: number;
}

/** Starts `rackmem node start ARGS` and resolves when its API listens (from its JSON log lines). */
function startDaemon(args: string[], timeoutMs = 20_000): Promise<Daemon> {
  const child = spawn(process.execPath, [...NODE_ARGS, 'node', 'start', ...args], { cwd: PACKAGE_DIR, stdio: ['ignore', 'pipe', 'pipe'] });
  spawned.add(child);
  let out = '';
  let err = '';
  const lines: Array<Record<string, unknown>> = [];
  let partial = '';
  return new Promise((resolve, reject) => {
    let fabricPort = 0;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`daemon did not start within ${timeoutMs} ms; stdout: ${out}; stderr: ${err}`));
    }, timeoutMs);
    child.stderr?.on('data', (c: Buffer) => void (err += c.toString()));
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      partial += c.toString();
      const parts = partial.split('\n');
      partial = parts.pop() ?? '';
      for (const text of parts) {
        const line = JSON.parse(text) as Record<string, unknown>;
        lines.push(line);
        if (line.event === 'module-loaded') fabricPort = Number(line.port);
        if (line.event === 'api-listening') {
          clearTimeout(timer);
          resolve({ child, lines, stdout: () => out, stderr: () => err, fabricPort, apiPort: Number(line.port) });
        }
      }
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`daemon exited (${code ?? signal}) before it was ready; stdout: ${out}; stderr: ${err}`));
    });
  });
}

/** Runs the CLI in its own process; resolves with its exit code and output. */
function runCliProcess(args: string[], timeoutMs = 20_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [...NODE_ARGS, ...args], { cwd: PACKAGE_DIR, stdio: ['ignore', 'pipe', 'pipe'] });
  spawned.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (c: Buffer) => void (stdout += c.toString()));
  child.stderr?.on('data', (c: Buffer) => void (stderr += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return exited(child).then(({ code }) => {
    clearTimeout(timer);
    return { code, stdout, stderr };
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('rackmem node start (two processes)', () => {
  it('connect, nodes on both sides, and a clean stop on SIGTERM and SIGINT', async () => {
    const secret = join(dir, 'secret');
    writeFileSync(secret, 'an-example-cluster-secret-0123456789\n');
    chmodSync(secret, 0o600);
    const configA = join(dir, 'node-a.yaml');
    writeFileSync(configA, ['nodeName: node-a', 'listen: 127.0.0.1:0', 'api: 127.0.0.1:0', 'donateBytes: 64MiB', 'secretFile: secret', 'transport: tcp', 'shutdownTimeoutMs: 5000'].join('\n'));
    const [a, b] = await Promise.all([
      startDaemon(['--config', configA]),
      startDaemon(['--name', 'node-b', '--listen', '127.0.0.1:0', '--api', '127.0.0.1:0', '--secret-file', secret, '--transport', 'tcp']),
    ]);
    expect(a.lines[0]).toMatchObject({ event: 'module-loaded', msg: `module loaded: node-a (127.0.0.1, ${a.fabricPort})`, role: 'donor' });

    const connect = await runCliProcess(['connect', `127.0.0.1:${a.fabricPort}`, '--api', `127.0.0.1:${b.apiPort}`]);
    expect(connect).toEqual({ code: 0, stdout: `connection established with node-a (127.0.0.1:${a.fabricPort})\n`, stderr: '' });

    const nodesB = await runCliProcess(['nodes', '--api', `127.0.0.1:${b.apiPort}`]);
    expect(nodesB.code).toBe(0);
    expect(nodesB.stdout).toMatch(new RegExp(`^node-a\\s+127\\.0\\.0\\.1:${a.fabricPort}\\s+outbound\\s+up$`, 'm'));
    const nodesA = await runCliProcess(['nodes', '--json', '--api', `127.0.0.1:${a.apiPort}`]);
    expect(nodesA.code).toBe(0);
    expect(JSON.parse(nodesA.stdout)).toMatchObject({
      self: { nodeName: 'node-a', role: 'donor', donor: { capacityBytes: 64 * 2 ** 20 } },
      peers: [{ nodeName: 'node-b', state: 'up', direction: 'inbound' }],
    });
    expect(a.lines.map((l) => l.msg)).toContain('connection established with node-b');
    expect(b.lines.map((l) => l.msg)).toContain('connection established with node-a');

    b.child.kill('SIGTERM');
    a.child.kill('SIGINT');
    const [exitA, exitB] = await Promise.all([exited(a.child), exited(b.child)]);
    expect(exitB).toEqual({ code: 0, signal: null });
    expect(exitA).toEqual({ code: 0, signal: null });
    for (const [d, signal] of [[a, 'SIGINT'], [b, 'SIGTERM']] as const) {
      const messages = d.lines.map((l) => l.msg);
      expect(messages).toContain(`shutting down (${signal} received)`);
      expect(messages.at(-1)).toBe('module unloaded: stopped cleanly');
      expect(d.lines.some((l) => l.event === 'handles-left-open')).toBe(false);
      expect(d.stderr()).toBe('');
      expect(alive(d.child.pid ?? -1)).toBe(false);
    }
  }, 60_000);
});
