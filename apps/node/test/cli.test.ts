import { createServer } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { NodeMetrics } from '../src/api/metrics.js';
import { buildRoutes } from '../src/api/routes.js';
import { ApiServer } from '../src/api/server.js';
import { runCli } from '../src/cli/main.js';
import type { CliIo } from '../src/cli/io.js';
import { DVS_COUNTER_NAMES, InMemoryPeerService, InMemoryRegionService, VM_COUNTER_NAMES } from '../src/daemon/in-memory.js';
import type { RegionService } from '../src/daemon/ports.js';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(args: string[], extra: Partial<CliIo> = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    stdout: (t) => void (stdout += t),
    stderr: (t) => void (stderr += t),
    env: {},
    cwd: tmpdir(),
    processSignals: false,
    ...extra,
  });
  return { code, stdout, stderr };
}

/** A port nothing listens on (bound, then released). */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

let regions: InMemoryRegionService;
let server: ApiServer;
let api: string;

beforeAll(async () => {
  const peers = new InMemoryPeerService(new Map([['10.0.0.18:7472', 'mem-1']]));
  const proxy: RegionService = { list: () => regions.list(), get: (n) => regions.get(n), setLimit: (n, b) => regions.setLimit(n, b) };
  const metrics = new NodeMetrics({ node: { nodeName: 'cpu-1', transport: 'tcp', role: 'donor' }, regions: proxy, peers, donor: () => ({ capacityBytes: 2 ** 30, usedBytes: 2 ** 26, slabCount: 1 }), processMetrics: false });
  server = new ApiServer({
    router: buildRoutes({
      self: () => ({ nodeName: 'cpu-1', id: 1, listen: '0.0.0.0:7472', transport: 'tcp', role: 'donor', donor: { capacityBytes: 2 ** 30, usedBytes: 2 ** 26, slabCount: 1 }, uptimeSeconds: 3 }),
      peers,
      regions: proxy,
      metrics,
    }),
  });
  api = `127.0.0.1:${(await server.listen('127.0.0.1', 0)).port}`;
});

afterAll(() => server.close(500));

beforeEach(() => {
  regions = new InMemoryRegionService([{ name: 'r1', sizeBytes: 128 * 2 ** 20, localBytes: 32 * 2 ** 20 }]);
  regions.count('r1', 'pgfault', 12);
});

describe('rackmem CLI against a running API', () => {
  it('connect prints the peer; nodes shows it in a table and as JSON', async () => {
    const connect = await cli(['connect', '10.0.0.18:7472', '--api', api]);
    expect(connect).toEqual({ code: 0, stdout: 'connection established with mem-1 (10.0.0.18:7472)\n', stderr: '' });
    const nodes = await cli(['nodes', '--api', api]);
    expect(nodes.code).toBe(0);
    const lines = nodes.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NODE\s+ADDRESS\s+DIRECTION\s+STATE\s+DETAIL$/);
    expect(lines[1]).toMatch(/^cpu-1\s+0\.0\.0\.0:7472\s+-\s+self\s+donor, tcp, donates 1 GiB \(64 MiB lent\)$/);
    expect(lines[2]).toMatch(/^mem-1\s+10\.0\.0\.18:7472\s+outbound\s+up$/);
    const json = await cli(['nodes', '--api', api, '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ self: { nodeName: 'cpu-1' }, peers: [{ nodeName: 'mem-1', state: 'up' }] });
  });

  it('RACKMEM_API selects the API when --api is absent', async () => {
    const run = await cli(['nodes', '--json'], { env: { RACKMEM_API: api } });
    expect(run.code).toBe(0);
  });

  it('connect to an unreachable peer exits 1 with the reason', async () => {
    const run = await cli(['connect', '10.0.0.99', '--api', api]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^rackmem: cannot connect to 10\.0\.0\.99:7472: ECONNREFUSED.*\(peer-unreachable\)\n$/);
  });

  it('stat lists regions, and one region in the original order', async () => {
    const all = await cli(['stat', '--api', api]);
    expect(all.code).toBe(0);
    expect(all.stdout).toMatch(/^REGION\s+SIZE\s+PAGE\s+LIMIT\s+PAGES\s+FAULTS\s+READS\s+WRITES\s+POLICY\s+DIRTY\nr1\s+128 MiB\s+4 KiB\s+32 MiB\s+0\s+12\s+0\s+0\s+original\s+-\n$/);
    const one = await cli(['stat', 'r1', '--api', api]);
    expect(one.code).toBe(0);
    const rows = one.stdout.trimEnd().split('\n').slice(1).map((l) => l.split(/\s+/));
    expect(rows.map((r) => r[0])).toEqual([...VM_COUNTER_NAMES, ...DVS_COUNTER_NAMES, 'region_size', 'region_page_size', 'page_count', 'page_count_limit', 'full', 'active_list_size', 'inactive_list_size']);
    expect(rows[0]).toEqual(['pgfault', '12']);
    const json = await cli(['stat', 'r1', '--api', api, '--json']);
    expect(JSON.parse(json.stdout).stat.pgfault).toBe(12);
    const missing = await cli(['stat', 'nope', '--api', api]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no region "nope".*\(unknown-region\)/);
  });

  it('stat with no regions says so', async () => {
    regions = new InMemoryRegionService();
    expect(await cli(['stat', '--api', api])).toEqual({ code: 0, stdout: 'no regions\n', stderr: '' });
  });

  it('limit sets the budget; out of range exits 2 and changes nothing', async () => {
    const ok = await cli(['limit', 'r1', '16MiB', '--api', api]);
    expect(ok).toEqual({ code: 0, stdout: 'r1: memory_limit_bytes 33554432 -> 16777216 (16 MiB)\n', stderr: '' });
    const json = await cli(['limit', 'r1', '8388608', '--api', api, '--json']);
    expect(JSON.parse(json.stdout)).toEqual({ name: 'r1', bytes: 8388608, previousBytes: 16777216 });
    const out = await cli(['limit', 'r1', '1TiB', '--api', api]);
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/^rackmem: limit 1099511627776 bytes is out of range for region "r1".*\(out-of-range\)\n$/);
    const bad = await cli(['limit', 'r1', 'lots', '--api', api]);
    expect(bad).toEqual({ code: 2, stdout: '', stderr: 'rackmem: bytes: expected a size like "32MiB" or a number of bytes, got "lots"\n' });
    expect(regions.get('r1')?.localBytes).toBe(8388608);
  });

  it('an unreachable daemon: a clear message and exit 1', async () => {
    const port = await closedPort();
    for (const args of [['nodes'], ['stat'], ['connect', '10.0.0.18'], ['limit', 'r1', '1MiB']]) {
      const run = await cli([...args, '--api', `127.0.0.1:${port}`]);
      expect(run.code, args.join(' ')).toBe(1);
      expect(run.stderr).toBe(`rackmem: cannot reach the rackmem API at 127.0.0.1:${port}: is "rackmem node start" running? (ECONNREFUSED)\n`);
    }
  });

  it('usage errors exit 2', async () => {
    expect((await cli(['connect'])).code).toBe(2);
    expect((await cli(['connect', 'a b c:1', '--api', api])).code).toBe(2);
    expect((await cli(['nodes', '--api', 'nowhere:99999'])).code).toBe(2);
    expect((await cli(['nodes', '--bogus'])).code).toBe(2);
    const unknown = await cli(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/rackmem: error: unknown command 'frobnicate'/);
    expect((await cli([])).code).toBe(2);
  });

  it('--help shows the commands and examples; per-command help too', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    for (const word of ['node', 'connect', 'nodes', 'stat', 'limit', 'Examples:', 'Exit codes']) expect(help.stdout).toContain(word);
    const start = await cli(['node', 'start', '--help']);
    expect(start.code).toBe(0);
    for (const flag of ['--config', '--name', '--listen', '--donate', '--peer', '--secret-file', '--transport', '--api', '--api-allow-remote', '--log-format', '--role']) expect(start.stdout).toContain(flag);
    expect(start.stdout).toContain('rackmem node start --config /etc/rackmem/node.yaml');
    const limit = await cli(['limit', '--help']);
    expect(limit.stdout).toContain('rackmem limit kv0 32MiB');
    expect((await cli(['--version'])).stdout).toBe('0.1.0\n');
  });
});

describe('rackmem node start with bad input', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rackmem-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('exits 2, names the field and the file, and starts nothing', async () => {
    const apiPort = await closedPort();
    const config = join(dir, 'config.yaml');
    writeFileSync(config, `donateBytes: lots\napi: 127.0.0.1:${apiPort}\n`);
    const run = await cli(['node', 'start', '--config', config, '--name', 'x_1', '--log-level', 'loud']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('rackmem: invalid configuration:');
    expect(run.stderr).toContain(`${config}: donateBytes: expected a size like "16GiB"`);
    expect(run.stderr).toContain('--log-level: expected one of trace, debug, info, warn, error, fatal, silent');
    // Nothing listens on the configured API port.
    const probe = await cli(['nodes', '--api', `127.0.0.1:${apiPort}`]);
    expect(probe.code).toBe(1);
  });

  it('exits 2 without a secret file', async () => {
    const run = await cli(['node', 'start', '--name', 'n1']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/secretFile: required/);
  });

  it('exits 1 when the node cannot start (the API port is taken), and closes what it opened', async () => {
    const secret = join(dir, 'secret');
    writeFileSync(secret, 'an-example-cluster-secret-0123456789', { mode: 0o600 });
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
    const busyPort = (busy.address() as { port: number }).port;
    const fabricPort = await closedPort();
    try {
      const run = await cli(['node', 'start', '--name', 'n1', '--secret-file', secret, '--listen', `127.0.0.1:${fabricPort}`, '--api', `127.0.0.1:${busyPort}`, '--log-level', 'silent', '--transport', 'tcp']);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/the control API cannot listen on 127\.0\.0\.1:\d+: EADDRINUSE/);
      // The fabric listener was closed again: its port can be bound.
      await new Promise<void>((resolve, reject) => {
        const again = createServer();
        again.once('error', reject);
        again.listen(fabricPort, '127.0.0.1', () => again.close(() => resolve()));
      });
    } finally {
      await new Promise<void>((r) => busy.close(() => r()));
    }
  });
});
