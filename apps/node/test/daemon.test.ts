import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { loadNodeConfig } from '../src/config/load.js';
import type { NodeConfig } from '../src/config/types.js';
import { Daemon } from '../src/daemon/daemon.js';
import { InMemoryRegionService } from '../src/daemon/in-memory.js';
import { PeerError, type DaemonContext } from '../src/daemon/ports.js';
import { FabricPeerService } from '../src/daemon/fabric-peers.js';
import type { Fabric, PeerInfo } from '@rackmem/krdma';
import { createLogger } from '../src/logging/logger.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'rackmem-daemon-'));
const secretFile = join(dir, 'secret');
writeFileSync(secretFile, 'an-example-cluster-secret-0123456789', { mode: 0o600 });

/** Log lines captured from a pino logger. */
class Capture extends Writable {
  readonly lines: Array<Record<string, unknown>> = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    for (const line of chunk.toString().split('\n')) if (line !== '') this.lines.push(JSON.parse(line) as Record<string, unknown>);
    done();
  }
  messages(): string[] {
    return this.lines.map((l) => String(l.msg));
  }
}

function config(name: string, flags: Record<string, unknown> = {}): NodeConfig {
  return loadNodeConfig({ flags: { nodeName: name, secretFile, listen: '127.0.0.1:0', api: '127.0.0.1:0', transport: 'tcp', shutdownTimeoutMs: '5000', ...flags } });
}

async function until(what: string, check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const running: Daemon[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((d) => d.stop('test over')));
});

async function start(name: string, flags: Record<string, unknown> = {}, extra: Partial<Parameters<typeof Daemon.start>[0]> = {}): Promise<{ daemon: Daemon; log: Capture }> {
  const log = new Capture();
  const daemon = await Daemon.start({ config: config(name, flags), logger: createLogger({ destination: log, level: 'debug' }), processMetrics: false, ...extra });
  running.push(daemon);
  return { daemon, log };
}

describe('Daemon', () => {
  it('starts, connects to a peer, logs like the original, and stops cleanly', async () => {
    const a = await start('node-a', { donateBytes: '64MiB' });
    const b = await start('node-b');
    expect(a.log.messages()).toEqual([`module loaded: node-a (127.0.0.1, ${a.daemon.fabricAddress.port})`, `api listening on 127.0.0.1:${a.daemon.apiAddress.port}`]);
    expect(a.log.lines[0]).toMatchObject({ event: 'module-loaded', nodeName: 'node-a', transport: 'tcp', role: 'donor', donateBytes: 64 * 2 ** 20, level: 30 });

    const peer = await b.daemon.peers.connect(`127.0.0.1:${a.daemon.fabricAddress.port}`);
    expect(peer).toMatchObject({ nodeName: 'node-a', state: 'up', direction: 'outbound' });
    await until('both sides log the connection', () => a.log.messages().includes('connection established with node-b') && b.log.messages().includes('connection established with node-a'));
    expect(a.daemon.peers.list()).toEqual([expect.objectContaining({ nodeName: 'node-b', state: 'up', direction: 'inbound' })]);
    expect(a.daemon.self()).toMatchObject({ nodeName: 'node-a', role: 'donor', transport: 'tcp', donor: { capacityBytes: 64 * 2 ** 20, usedBytes: 0, slabCount: 0 } });

    const stopped = await b.daemon.stop('test');
    expect(stopped).toEqual({ clean: true, problems: [] });
    await until('a logs the loss', () => a.log.messages().some((m) => m.startsWith('connection lost with node-b (')));
    expect(b.log.messages().slice(-2)).toEqual(['connection closed with node-a (test)', 'module unloaded: stopped cleanly']);
    expect(await b.daemon.stop('again')).toEqual(stopped);
  });

  it('dials configured peers, retrying until they come up', async () => {
    const port = await freePort();
    const b = await start('node-b', { peers: [`127.0.0.1:${port}`] }, { peerRetry: { initialDelayNs: 50e6, maxDelayNs: 200e6 } });
    await until('a failed dial is logged', () => b.log.lines.some((l) => l.event === 'peer-dial-failed'));
    expect(b.log.lines.find((l) => l.event === 'peer-dial-failed')).toMatchObject({ level: 40, address: `127.0.0.1:${port}`, msg: expect.stringMatching(/^cannot connect to peer 127\.0\.0\.1:\d+ \(.*ECONNREFUSED.*\); retrying in \d+ ms$/) });
    const a = await start('node-a', { listen: `127.0.0.1:${port}`, donateBytes: '1MiB' });
    await until('b connects to a', () => b.daemon.peers.list().some((p) => p.nodeName === 'node-a' && p.state === 'up'));
    // The failed dials are summarised away once the peer is up.
    expect(b.daemon.peers.list()).toHaveLength(1);
    expect(a.daemon.peers.list()).toEqual([expect.objectContaining({ nodeName: 'node-b', state: 'up' })]);
  });

  it('plugs a region runtime in, logs its events, exposes it and closes it at stop', async () => {
    const regions = new InMemoryRegionService([{ name: 'r1', sizeBytes: 2 ** 27, localBytes: 2 ** 25 }]);
    let context: DaemonContext | null = null;
    const a = await start('node-a', {}, {
      regions: (ctx) => {
        context = ctx;
        ctx.events.regionCreated({ name: 'r1', sizeBytes: 2 ** 27, pageSizeBytes: 4096, localPages: 8192, slabSizeBytes: 2 ** 26 });
        return regions;
      },
    });
    expect(context).not.toBeNull();
    expect(a.log.messages()).toContain('region created: r1 (134217728, 4096, 8192, 67108864)');
    expect(a.log.lines.find((l) => l.event === 'region-created')).toMatchObject({ component: 'regions', name: 'r1', localPages: 8192 });
    expect(a.daemon.regions.list().map((r) => r.name)).toEqual(['r1']);
    const metrics = await a.daemon.metrics.render();
    expect(metrics).toMatch(/^rackmem_region_local_bytes\{region="r1"\} 33554432$/m);
    await a.daemon.stop();
    expect(regions.closed).toBe(true);
  });

  it('fans peer events out to the region runtime', async () => {
    const events: string[] = [];
    const a = await start('node-a', {}, {
      regions: (ctx) => {
        ctx.subscribePeerEvents((e) => events.push(`${e.kind} ${e.peer.nodeName}`));
        return new InMemoryRegionService();
      },
    });
    const b = await start('node-b');
    await b.daemon.peers.connect(`127.0.0.1:${a.daemon.fabricAddress.port}`);
    await until('a sees b up', () => events.includes('up node-b'));
  });

  it('reports a stop that does not finish within the timeout', async () => {
    const a = await start('node-a', { shutdownTimeoutMs: '200' }, {
      regions: () => ({ list: () => [], get: () => undefined, setLimit: () => {}, close: () => new Promise<void>(() => {}) }),
    });
    const result = await a.daemon.stop('test');
    expect(result.clean).toBe(false);
    expect(result.problems).toEqual([expect.stringMatching(/^regions: did not finish within the shutdown timeout \(200 ms\)$/)]);
    // The fabric was still closed: its port can be bound again.
    const port = a.daemon.fabricAddress.port;
    await new Promise<void>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => s.close(() => resolve()));
    });
  });

  it('undoes what it started when the region runtime fails', async () => {
    const port = await freePort();
    await expect(start('node-a', { listen: `127.0.0.1:${port}` }, { regions: () => { throw new Error('no userfaultfd'); } })).rejects.toThrow(/the region runtime did not start: no userfaultfd/);
    // The fabric port is free again.
    const again = await start('node-a', { listen: `127.0.0.1:${port}` });
    expect(again.daemon.fabricAddress.port).toBe(port);
  });
});

describe('FabricPeerService', () => {
  type Done = Parameters<Fabric['connect']>[1];
  function fakeFabric(onConnect: (done: Done) => void, peers: PeerInfo[] = []): Fabric {
    return { connect: (_address: unknown, done: Done) => onConnect(done), peers: () => peers } as unknown as Fabric;
  }
  const lost: PeerInfo = { id: null, nodeName: null, address: { host: '10.0.0.9', port: 7472 }, direction: 'outbound', state: 'lost', reason: 'ECONNREFUSED' };

  it('maps completion statuses to typed errors, and times out a connect that never completes', async () => {
    await expect(new FabricPeerService(fakeFabric((done) => done('rejected', lost, 'bad secret'))).connect('10.0.0.9')).rejects.toMatchObject({ code: 'refused', message: '10.0.0.9:7472 refused the connection: bad secret' });
    await expect(new FabricPeerService(fakeFabric((done) => done('peer-lost', lost, 'ECONNREFUSED'))).connect('10.0.0.9:7472')).rejects.toMatchObject({ code: 'unreachable' });
    await expect(new FabricPeerService(fakeFabric(() => {}), { connectTimeoutMs: 50 }).connect('10.0.0.9')).rejects.toMatchObject({ code: 'timeout', message: expect.stringMatching(/within 50 ms/) });
    await expect(new FabricPeerService(fakeFabric(() => {})).connect('no port:')).rejects.toBeInstanceOf(PeerError);
  });

  it('lists each peer once, in its best state', () => {
    const up: PeerInfo = { id: 7, nodeName: 'mem-1', address: { host: '10.0.0.9', port: 7472 }, direction: 'outbound', state: 'up', reason: null };
    const oldInbound: PeerInfo = { id: 7, nodeName: 'mem-1', address: { host: '10.0.0.9', port: 50000 }, direction: 'inbound', state: 'closed', reason: 'duplicate connection' };
    const other: PeerInfo = { id: 8, nodeName: 'mem-2', address: { host: '10.0.0.10', port: 7472 }, direction: 'outbound', state: 'connecting', reason: 'redial 2 pending' };
    expect(new FabricPeerService(fakeFabric(() => {}, [other, lost, oldInbound, up])).list()).toEqual([
      { id: 7, nodeName: 'mem-1', address: '10.0.0.9:7472', direction: 'outbound', state: 'up', reason: null },
      { id: 8, nodeName: 'mem-2', address: '10.0.0.10:7472', direction: 'outbound', state: 'connecting', reason: 'redial 2 pending' },
    ]);
  });
});
