import { request } from 'node:http';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerKvCommands } from '../src/kv/commands.js';
import { KvServer } from '../src/kv/server.js';
import type { KvService } from '../src/kv/service.js';
import { KvStore } from '../src/kv/store.js';
import { describeWithUffd } from './uffd-available.js';

const MiB = 1 << 20;

/** Sends a request with a chunked body (no Content-Length) and returns the status and JSON error code. */
function putChunked(url: string, path: string, chunks: Buffer[]): Promise<{ status: number; code?: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { method: 'PUT' }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, code: text ? (JSON.parse(text) as { error?: { code: string } }).error?.code : undefined }));
    });
    req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'ECONNRESET' || error.code === 'EPIPE' ? resolve({ status: -1 }) : reject(error)));
    for (const c of chunks) req.write(c);
    req.end();
  });
}

async function errorCode(res: Response): Promise<string> {
  expect(res.headers.get('content-type')).toBe('application/json');
  const body = (await res.json()) as { error: { code: string; message: string } };
  expect(body.error.message.length).toBeGreaterThan(0);
  return body.error.code;
}

function apiTests(getUrl: () => string): void {
  it('healthz and stats', async () => {
    const health = await fetch(`${getUrl()}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const stats = (await (await fetch(`${getUrl()}/stats`)).json()) as { store: { keys: number; maxKeys: number }; http: { requests: number } };
    expect(stats.store.maxKeys).toBeGreaterThan(0);
    expect(stats.http.requests).toBeGreaterThan(0);
  });

  it('PUT creates (201) and replaces (204), GET and HEAD read, DELETE removes (204), then 404', async () => {
    const url = `${getUrl()}/kv/alpha`;
    const value = Buffer.from(Array.from({ length: 256 }, (_, i) => i)); // every byte value
    expect((await fetch(url, { method: 'PUT', body: value })).status).toBe(201);
    expect((await fetch(url, { method: 'PUT', body: Buffer.concat([value, value]) })).status).toBe(204);
    const got = await fetch(url);
    expect(got.status).toBe(200);
    expect(got.headers.get('content-type')).toBe('application/octet-stream');
    expect(Buffer.from(await got.arrayBuffer())).toEqual(Buffer.concat([value, value]));
    const head = await fetch(url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('512');
    expect((await fetch(url, { method: 'DELETE' })).status).toBe(204);
    const gone = await fetch(url);
    expect(gone.status).toBe(404);
    expect(await errorCode(gone)).toBe('not-found');
    expect((await fetch(url, { method: 'DELETE' })).status).toBe(404);
  });

  it('empty values, 64 KiB values, percent-encoded keys and 256-byte keys', async () => {
    expect((await fetch(`${getUrl()}/kv/empty`, { method: 'PUT', body: Buffer.alloc(0) })).status).toBe(201);
    const empty = await fetch(`${getUrl()}/kv/empty`);
    expect(empty.status).toBe(200);
    expect((await empty.arrayBuffer()).byteLength).toBe(0);
    const big = Buffer.alloc(64 * 1024, 7);
    expect((await fetch(`${getUrl()}/kv/big`, { method: 'PUT', body: big })).status).toBe(201);
    expect(Buffer.from(await (await fetch(`${getUrl()}/kv/big`)).arrayBuffer()).equals(big)).toBe(true);
    expect((await fetch(`${getUrl()}/kv/a%2Fb%20c`, { method: 'PUT', body: 'slash' })).status).toBe(201);
    expect(await (await fetch(`${getUrl()}/kv/a%2Fb%20c`)).text()).toBe('slash');
    expect(await (await fetch(`${getUrl()}/kv/${encodeURIComponent('ключ')}`, { method: 'PUT', body: 'utf8' })).status).toBe(201);
    expect(await (await fetch(`${getUrl()}/kv/${encodeURIComponent('ключ')}?ignored=1`)).text()).toBe('utf8');
    expect((await fetch(`${getUrl()}/kv/${'k'.repeat(256)}`, { method: 'PUT', body: 'x' })).status).toBe(201);
  });

  it('bad requests get a 4xx with a JSON message and change nothing', async () => {
    const before = (await (await fetch(`${getUrl()}/stats`)).json()) as { store: { keys: number } };
    const cases: [string, RequestInit, number, string][] = [
      ['/kv/', { method: 'GET' }, 400, 'invalid-key'],
      ['/kv/a/b', { method: 'PUT', body: 'x' }, 400, 'invalid-key'],
      [`/kv/${'k'.repeat(257)}`, { method: 'PUT', body: 'x' }, 400, 'invalid-key'],
      [`/kv/${'%C3%A9'.repeat(129)}`, { method: 'PUT', body: 'x' }, 400, 'invalid-key'], // 258 bytes of UTF-8
      ['/kv/%zz', { method: 'GET' }, 400, 'invalid-key'],
      ['/kv/%FF', { method: 'GET' }, 400, 'invalid-key'],
      ['/kv/toolarge', { method: 'PUT', body: Buffer.alloc(64 * 1024 + 1) }, 413, 'value-too-large'],
      ['/kv/a', { method: 'POST', body: 'x' }, 405, 'method-not-allowed'],
      ['/stats', { method: 'DELETE' }, 405, 'method-not-allowed'],
      ['/nothing-here', { method: 'GET' }, 404, 'not-found'],
    ];
    for (const [path, init, status, code] of cases) {
      const res = await fetch(`${getUrl()}${path}`, init);
      expect([path, res.status]).toEqual([path, status]);
      expect(await errorCode(res)).toBe(code);
      if (status === 405) expect(res.headers.get('allow')).toMatch(/GET/);
    }
    // a chunked body past 64 KiB is refused while it streams
    const chunked = await putChunked(getUrl(), '/kv/chunked', [Buffer.alloc(40_000), Buffer.alloc(40_000)]);
    expect([413, -1]).toContain(chunked.status);
    const after = (await (await fetch(`${getUrl()}/stats`)).json()) as { store: { keys: number } };
    expect(after.store.keys).toBe(before.store.keys);
    expect((await fetch(`${getUrl()}/kv/toolarge`)).status).toBe(404);
    expect((await fetch(`${getUrl()}/kv/chunked`)).status).toBe(404);
  });
}

describe('kv HTTP API over plain memory', () => {
  let server: KvServer;
  let store: KvStore;
  beforeAll(async () => {
    store = KvStore.format([new ArrayBuffer(4 * MiB)], { maxKeys: 40 });
    server = await KvServer.listen({ store, port: 0 });
  });
  afterAll(() => server.close());

  apiTests(() => server.url);

  it('507 with a JSON message when the store is full, and nothing evicted', async () => {
    const fill = store.stats().maxKeys - store.size;
    for (let i = 0; i < fill; i++) expect((await fetch(`${server.url}/kv/fill-${i}`, { method: 'PUT', body: `v${i}` })).status).toBe(201);
    const res = await fetch(`${server.url}/kv/one-too-many`, { method: 'PUT', body: 'x' });
    expect(res.status).toBe(507);
    expect(await errorCode(res)).toBe('index-full');
    for (let i = 0; i < fill; i++) expect(await (await fetch(`${server.url}/kv/fill-${i}`)).text()).toBe(`v${i}`);
  });
});

describeWithUffd('kv serve (the command) over a paged region', () => {
  let service: KvService;
  let stop: () => void;
  let finished: Promise<unknown>;
  const out: string[] = [];
  beforeAll(async () => {
    const program = new Command('rackmem').exitOverride();
    const up = new Promise<void>((resolve) => {
      registerKvCommands(program, {
        stdout: (t) => void out.push(t),
        stderr: (t) => void out.push(t),
        signals: false,
        onServing: (s, stopIt) => {
          service = s;
          stop = stopIt;
          resolve();
        },
      });
    });
    finished = program.parseAsync(['kv', 'serve', '--listen', '127.0.0.1:0', '--size', '16MiB', '--local', '2MiB', '--max-keys', '1000'], { from: 'user' });
    await Promise.race([up, finished.then(() => Promise.reject(new Error(`kv serve ended early: ${out.join('')}`)))]);
  });
  afterAll(async () => {
    stop?.();
    await finished;
    expect(out.join('')).toMatch(/kv: stopped/);
  });

  apiTests(() => service.server.url);

  it('pages: values written through HTTP come back after eviction, and /stats shows the region counters', async () => {
    const value = (i: number): Buffer => Buffer.alloc(8000, i & 255);
    for (let i = 0; i < 600; i++) expect((await fetch(`${service.server.url}/kv/p${i}`, { method: 'PUT', body: value(i) })).status).toBe(201);
    for (let i = 0; i < 600; i += 7) expect(Buffer.from(await (await fetch(`${service.server.url}/kv/p${i}`)).arrayBuffer()).equals(value(i))).toBe(true);
    await service.region.sync();
    const stats = (await (await fetch(`${service.server.url}/stats`)).json()) as {
      region: { counters: { io_write: number; io_read: number }; gauges: { page_count: number }; faultLatencyUs: { count: number }; localBytes: number };
      store: { keys: number };
    };
    expect(stats.region.localBytes).toBe(2 * MiB);
    expect(stats.region.counters.io_write).toBeGreaterThan(0);
    expect(stats.region.counters.io_read).toBeGreaterThan(0);
    expect(stats.region.gauges.page_count).toBeLessThanOrEqual(512);
    expect(stats.region.faultLatencyUs.count).toBeGreaterThan(0);
    expect(stats.store.keys).toBeGreaterThanOrEqual(600);
  });

  it('rejects bad flags with exit code 2 and a message', async () => {
    const errors: string[] = [];
    let exitCode: number | undefined;
    const program = new Command('rackmem').exitOverride();
    registerKvCommands(program, {
      stderr: (t) => void errors.push(t),
      run: async (action) => {
        try {
          await action();
        } catch (error) {
          exitCode = (error as { exitCode: number }).exitCode;
          errors.push((error as Error).message);
        }
      },
    });
    for (const argv of [
      ['--size', 'lots'],
      ['--size', '16MiB', '--local', '32MiB'],
      ['--storage', 'remote'],
      ['--policy', 'fastest'],
      ['--listen', 'not an address'],
      ['--storage', 'remote', '--donors', '127.0.0.1:1', '--secret-file', '/nonexistent/secret'],
      ['--transport', 'infiniband'],
      ['--transport', 'rdma'], // rdma moves remote storage: not with --storage local
      ['--spin-us', '-5'],
      ['--spin-us', 'forever'],
    ]) {
      exitCode = undefined;
      errors.length = 0;
      await program.parseAsync(['kv', 'serve', ...argv], { from: 'user' });
      expect([argv.join(' '), exitCode]).toEqual([argv.join(' '), 2]);
      expect(errors.join('')).toMatch(/--[a-z-]+/);
    }
  });
});
