import { request } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { NodeMetrics } from '../src/api/metrics.js';
import { buildRoutes, type SelfInfo } from '../src/api/routes.js';
import { ApiServer } from '../src/api/server.js';
import { GAUGE_ORDER } from '../src/api/stat.js';
import { DVS_COUNTER_NAMES, InMemoryPeerService, InMemoryRegionService, VM_COUNTER_NAMES } from '../src/daemon/in-memory.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: unknown;
}

/** One HTTP request with full control over headers and body (no keep-alive). */
function call(port: number, method: string, path: string, options: { body?: string | Buffer; headers?: Record<string, string> } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent: false, headers: options.headers ?? {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let json: unknown = undefined;
        try {
          json = JSON.parse(text);
        } catch {
          // not JSON
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.setTimeout(5_000, () => req.destroy(new Error('request timed out')));
    req.end(options.body);
  });
}

const JSON_HEADERS = { 'content-type': 'application/json' };
const jsonBody = (value: unknown) => ({ body: JSON.stringify(value), headers: JSON_HEADERS });

let regions: InMemoryRegionService;
let peers: InMemoryPeerService;
let server: ApiServer;
let port: number;

const self: SelfInfo = { nodeName: 'cpu-1', id: 1, listen: '127.0.0.1:7472', transport: 'tcp', role: 'consumer', donor: null, uptimeSeconds: 0 };

beforeAll(async () => {
  regions = new InMemoryRegionService();
  peers = new InMemoryPeerService(new Map([['10.0.0.18:7472', 'mem-1'], ['10.0.0.19:7000', 'mem-2']]));
  const metrics = new NodeMetrics({
    node: { nodeName: 'cpu-1', transport: 'tcp', role: 'consumer' },
    regions: { list: () => regions.list(), get: (n) => regions.get(n), setLimit: (n, b) => regions.setLimit(n, b) },
    peers,
    donor: () => ({ capacityBytes: 1 << 30, usedBytes: 1 << 26, slabCount: 1 }),
    fabricCounters: () => ({ bytesRead: 100, connectionsOpened: 2 }),
  });
  server = new ApiServer({
    router: buildRoutes({ self: () => self, peers, regions: { list: () => regions.list(), get: (n) => regions.get(n), setLimit: (n, b) => regions.setLimit(n, b) }, metrics }),
    metrics,
    maxBodyBytes: 64 * 1024,
  });
  port = (await server.listen('127.0.0.1', 0)).port;
});

afterAll(() => server.close(500));

beforeEach(() => {
  regions = new InMemoryRegionService([
    { name: 'r1', sizeBytes: 128 * 2 ** 20, localBytes: 32 * 2 ** 20 },
    { name: 'kv0', sizeBytes: 64 * 2 ** 20, localBytes: 64 * 2 ** 20, policySet: 'async-wb+prefetch:adaptive' },
  ]);
});

describe('control API routes', () => {
  it('GET /healthz', async () => {
    const answer = await call(port, 'GET', '/healthz');
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({ status: 'ok', nodeName: 'cpu-1' });
    expect(answer.headers['content-type']).toMatch(/^application\/json/);
  });

  it('POST /v1/connect, then GET /v1/nodes lists the peer', async () => {
    const ok = await call(port, 'POST', '/v1/connect', jsonBody({ address: '10.0.0.18:7472' }));
    expect(ok.status).toBe(200);
    expect(ok.json).toEqual({ peer: { id: 5, nodeName: 'mem-1', address: '10.0.0.18:7472', state: 'up', direction: 'outbound', reason: null } });
    const nodes = await call(port, 'GET', '/v1/nodes');
    expect(nodes.status).toBe(200);
    expect(nodes.json).toEqual({ self, peers: [expect.objectContaining({ nodeName: 'mem-1', state: 'up' })] });
  });

  it('POST /v1/connect to an unreachable peer is 502, a bad address 400', async () => {
    const down = await call(port, 'POST', '/v1/connect', jsonBody({ address: '10.0.0.99:7472' }));
    expect(down.status).toBe(502);
    expect(down.json).toEqual({ error: { code: 'peer-unreachable', message: expect.stringMatching(/cannot connect to 10.0.0.99:7472/) } });
    const bad = await call(port, 'POST', '/v1/connect', jsonBody({ address: 'not an address' }));
    expect(bad.status).toBe(400);
    expect((bad.json as { error: { code: string } }).error.code).toBe('bad-address');
  });

  it('GET /v1/regions lists regions with their stat', async () => {
    const answer = await call(port, 'GET', '/v1/regions');
    expect(answer.status).toBe(200);
    const body = answer.json as { regions: Array<{ name: string; stat: Record<string, number>; policySet: string }> };
    expect(body.regions.map((r) => r.name)).toEqual(['r1', 'kv0']);
    expect(body.regions[1].policySet).toBe('async-wb+prefetch:adaptive');
    expect(body.regions[0].stat.page_count_limit).toBe(8192);
  });

  it('GET /v1/regions/:name/stat keeps the original order (vm counters, dvs counters, gauges)', async () => {
    regions.count('r1', 'pgfault', 7);
    regions.count('r1', 'slab_write', 3);
    const answer = await call(port, 'GET', '/v1/regions/r1/stat');
    expect(answer.status).toBe(200);
    const body = answer.json as { name: string; stat: Record<string, number> };
    expect(Object.keys(body.stat)).toEqual([...VM_COUNTER_NAMES, ...DVS_COUNTER_NAMES, ...GAUGE_ORDER]);
    expect(body.stat.pgfault).toBe(7);
    expect(body.stat.slab_write).toBe(3);
    expect(body.stat.region_size).toBe(128 * 2 ** 20);
    const text = await call(port, 'GET', '/v1/regions/r1/stat?format=text');
    expect(text.headers['content-type']).toMatch(/^text\/plain/);
    const lines = text.text.trimEnd().split('\n');
    expect(lines[0]).toBe('pgfault 7');
    expect(lines.at(-1)).toBe('inactive_list_size 0');
    expect((await call(port, 'GET', '/v1/regions/r1/stat?format=xml')).status).toBe(400);
  });

  it('unknown regions are 404', async () => {
    for (const [method, path, opts] of [
      ['GET', '/v1/regions/nope/stat', {}],
      ['GET', '/v1/regions/nope', {}],
      ['PUT', '/v1/regions/nope/limit', jsonBody({ bytes: 4096 })],
    ] as const) {
      const answer = await call(port, method, path, opts);
      expect(answer.status, path).toBe(404);
      expect(answer.json).toEqual({ error: { code: 'unknown-region', message: expect.stringContaining('"nope"') } });
    }
  });

  it('PUT /v1/regions/:name/limit changes the budget (bytes or a size)', async () => {
    const answer = await call(port, 'PUT', '/v1/regions/r1/limit', jsonBody({ bytes: 16 * 2 ** 20 }));
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({ name: 'r1', bytes: 16 * 2 ** 20, previousBytes: 32 * 2 ** 20 });
    expect(regions.get('r1')?.localBytes).toBe(16 * 2 ** 20);
    const sized = await call(port, 'PUT', '/v1/regions/r1/limit', jsonBody({ bytes: '48MiB' }));
    expect(sized.status).toBe(200);
    expect(regions.get('r1')?.localBytes).toBe(48 * 2 ** 20);
    const read = await call(port, 'GET', '/v1/regions/r1/limit');
    expect(read.json).toEqual({ name: 'r1', bytes: 48 * 2 ** 20 });
  });

  it('PUT limit out of range is 400 and changes nothing', async () => {
    for (const bytes of [0, 1000, 129 * 2 ** 20, 4097, '1TiB']) {
      const answer = await call(port, 'PUT', '/v1/regions/r1/limit', jsonBody({ bytes }));
      expect(answer.status, String(bytes)).toBe(400);
      expect((answer.json as { error: { code: string } }).error.code).toBe('out-of-range');
    }
    expect(regions.get('r1')?.localBytes).toBe(32 * 2 ** 20);
  });
});

describe('malformed requests get 4xx and change nothing', () => {
  const cases: Array<[string, string, string, { body?: string | Buffer; headers?: Record<string, string> }, number, string]> = [
    ['bad JSON', 'PUT', '/v1/regions/r1/limit', { body: '{"bytes": ', headers: JSON_HEADERS }, 400, 'bad-json'],
    ['empty body', 'PUT', '/v1/regions/r1/limit', { headers: JSON_HEADERS }, 400, 'bad-request'],
    ['unknown field', 'PUT', '/v1/regions/r1/limit', jsonBody({ bytes: 4096, force: true }), 400, 'invalid-body'],
    ['wrong type', 'PUT', '/v1/regions/r1/limit', jsonBody({ bytes: true }), 400, 'invalid-body'],
    ['negative', 'PUT', '/v1/regions/r1/limit', jsonBody({ bytes: -4096 }), 400, 'invalid-body'],
    ['array body', 'PUT', '/v1/regions/r1/limit', jsonBody([4096]), 400, 'invalid-body'],
    ['missing field', 'POST', '/v1/connect', jsonBody({}), 400, 'invalid-body'],
    ['not JSON content', 'PUT', '/v1/regions/r1/limit', { body: 'bytes=4096', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, 415, 'unsupported-media-type'],
    ['no content type', 'POST', '/v1/connect', { body: '{"address":"10.0.0.18:7472"}' }, 415, 'unsupported-media-type'],
    ['unknown route', 'GET', '/v1/nothing', {}, 404, 'not-found'],
    ['wrong method', 'DELETE', '/v1/regions/r1/limit', {}, 405, 'method-not-allowed'],
    ['bad region name', 'GET', '/v1/regions/a%20b/stat', {}, 400, 'bad-path'],
    ['bad percent-encoding', 'GET', '/v1/regions/%E0%A4%A/stat', {}, 400, 'bad-path'],
    ['foreign Host header', 'GET', '/v1/nodes', { headers: { host: 'evil.example:7473' } }, 403, 'forbidden-host'],
  ];

  for (const [name, method, path, options, status, code] of cases) {
    it(name, async () => {
      const answer = await call(port, method, path, options);
      expect(answer.status).toBe(status);
      expect(answer.json).toEqual({ error: { code, message: expect.any(String) } });
      expect(regions.get('r1')?.localBytes).toBe(32 * 2 ** 20);
    });
  }

  it('a 405 says which methods are allowed', async () => {
    const answer = await call(port, 'DELETE', '/v1/regions/r1/limit');
    expect(answer.headers.allow).toBe('GET, PUT');
  });

  it('bodies above the bound are 413 (by Content-Length and by counting)', async () => {
    const huge = Buffer.alloc(200 * 1024, 0x20);
    const declared = await call(port, 'PUT', '/v1/regions/r1/limit', { body: huge, headers: JSON_HEADERS });
    expect(declared.status).toBe(413);
    expect(declared.json).toEqual({ error: { code: 'body-too-large', message: expect.stringMatching(/at most 65536 bytes/) } });
    // Chunked (no Content-Length): counted while reading.
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'PUT', path: '/v1/regions/r1/limit', agent: false, headers: { ...JSON_HEADERS, 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' || error.code === 'ECONNRESET' ? undefined : reject(error)));
      for (let i = 0; i < 10; i++) req.write(Buffer.alloc(16 * 1024, 0x20));
      req.end();
    });
    expect(chunked).toBe(413);
    expect(regions.get('r1')?.localBytes).toBe(32 * 2 ** 20);
    expect((await call(port, 'GET', '/healthz')).status).toBe(200);
  });

  it('random bodies never change a budget unless they are a valid limit', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.json(), fc.string({ maxLength: 40 }), fc.record({ bytes: fc.oneof(fc.integer(), fc.string({ maxLength: 12 }), fc.double()) })), async (input) => {
        const body = typeof input === 'string' ? input : JSON.stringify(input);
        const before = regions.get('kv0')?.localBytes;
        const answer = await call(port, 'PUT', '/v1/regions/kv0/limit', { body, headers: JSON_HEADERS });
        const after = regions.get('kv0')?.localBytes;
        if (answer.status === 200) {
          expect(after).toBe((answer.json as { bytes: number }).bytes);
        } else {
          expect(answer.status).toBeGreaterThanOrEqual(400);
          expect(answer.status).toBeLessThan(500);
          expect(after).toBe(before);
        }
      }),
      { numRuns: 60 },
    );
  });
});

/** Parses Prometheus text format 0.0.4 strictly enough to catch malformed output. */
function parsePrometheus(text: string): Map<string, { type: string; samples: Array<{ name: string; labels: Record<string, string>; value: number }> }> {
  const families = new Map<string, { type: string; samples: Array<{ name: string; labels: Record<string, string>; value: number }> }>();
  const sampleLine = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)( \d+)?$/;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type !== null) {
      expect(families.has(type[1]), `duplicate TYPE ${type[1]}`).toBe(false);
      families.set(type[1], { type: type[2], samples: [] });
      continue;
    }
    if (/^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*$/.test(line)) continue;
    const sample = sampleLine.exec(line);
    expect(sample, `not a Prometheus line: ${line}`).not.toBeNull();
    const [, name, , labelText, value] = sample as RegExpExecArray;
    const labels: Record<string, string> = {};
    if (labelText !== undefined && labelText !== '') {
      for (const part of labelText.match(/[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"/g) ?? []) {
        const eq = part.indexOf('=');
        labels[part.slice(0, eq)] = part.slice(eq + 2, -1);
      }
    }
    const family = families.get(name) ?? families.get(name.replace(/_(bucket|sum|count)$/, ''));
    expect(family, `sample ${name} has no TYPE`).toBeDefined();
    family?.samples.push({ name, labels, value: Number(value) });
  }
  return families;
}

describe('GET /metrics', () => {
  it('is Prometheus text with region counters, donor, peers, fabric and process metrics', async () => {
    regions.count('r1', 'pgfault', 42);
    regions.count('kv0', 'slab_alloc', 2);
    regions.count('r1', 'storageSpins', 3);
    regions.count('r1', 'maxMessagesPerRead', 5);
    const answer = await call(port, 'GET', '/metrics');
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toMatch(/^text\/plain; version=0.0.4/);
    const families = parsePrometheus(answer.text);
    const sample = (name: string, labels: Record<string, string> = {}) =>
      families.get(name)?.samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
    expect(families.get('rackmem_vm_pgfault_total')?.type).toBe('counter');
    expect(sample('rackmem_vm_pgfault_total', { region: 'r1' })).toBe(42);
    expect(sample('rackmem_vm_pgfault_total', { region: 'kv0' })).toBe(0);
    expect(sample('rackmem_dvs_slab_alloc_total', { region: 'kv0' })).toBe(2);
    expect(families.get('rackmem_pager_storage_spins_total')?.type).toBe('counter');
    expect(sample('rackmem_pager_storage_spins_total', { region: 'r1' })).toBe(3);
    expect(families.get('rackmem_pager_max_messages_per_read')?.type).toBe('gauge');
    expect(sample('rackmem_pager_max_messages_per_read', { region: 'r1' })).toBe(5);
    expect(sample('rackmem_region_size_bytes', { region: 'r1' })).toBe(128 * 2 ** 20);
    expect(sample('rackmem_region_page_count_limit', { region: 'r1' })).toBe(8192);
    expect(sample('rackmem_region_local_bytes', { region: 'kv0' })).toBe(64 * 2 ** 20);
    expect(sample('rackmem_donor_capacity_bytes')).toBe(1 << 30);
    expect(sample('rackmem_donor_used_bytes')).toBe(1 << 26);
    expect(sample('rackmem_fabric_bytes_read_total')).toBe(100);
    expect(sample('rackmem_node_info', { node: 'cpu-1', transport: 'tcp' })).toBe(1);
    expect(families.has('rackmem_peers')).toBe(true);
    expect(families.has('process_cpu_user_seconds_total')).toBe(true);
    expect(families.has('nodejs_eventloop_lag_seconds')).toBe(true);
    expect(families.get('rackmem_api_requests_total')?.samples.length).toBeGreaterThan(0);
  });

  it('follows the regions: a region gone is gone from the metrics', async () => {
    regions = new InMemoryRegionService([{ name: 'only', sizeBytes: 2 ** 20, localBytes: 2 ** 20 }]);
    const families = parsePrometheus((await call(port, 'GET', '/metrics')).text);
    const regionsSeen = new Set(families.get('rackmem_vm_pgfault_total')?.samples.map((s) => s.labels.region));
    expect([...regionsSeen]).toEqual(['only']);
  });
});

describe('region errors from a runtime', () => {
  it('map by code (sync or async), and anything else is 500', async () => {
    const failures: Record<string, unknown> = {
      a: Object.assign(new Error('limit must be between 4096 and 8192'), { code: 'invalid-limit' }),
      b: Object.assign(new Error('region is closed'), { code: 'closed' }),
      c: new Error('worker crashed'),
    };
    const info = new InMemoryRegionService([{ name: 'a', sizeBytes: 8192, localBytes: 8192 }, { name: 'b', sizeBytes: 8192, localBytes: 8192 }, { name: 'c', sizeBytes: 8192, localBytes: 8192 }]);
    const runtime = {
      list: () => info.list(),
      get: (n: string) => info.get(n),
      setLimit: async (n: string) => {
        await new Promise((r) => setTimeout(r, 1));
        throw failures[n];
      },
    };
    const metrics = new NodeMetrics({ node: { nodeName: 'x', transport: 'tcp', role: 'consumer' }, regions: runtime, peers: new InMemoryPeerService(), donor: () => null, processMetrics: false });
    const other = new ApiServer({ router: buildRoutes({ self: () => self, peers: new InMemoryPeerService(), regions: runtime, metrics }) });
    const otherPort = (await other.listen('127.0.0.1', 0)).port;
    try {
      const answers = await Promise.all(['a', 'b', 'c'].map((n) => call(otherPort, 'PUT', `/v1/regions/${n}/limit`, jsonBody({ bytes: 4096 }))));
      expect(answers.map((a) => [a.status, a.json])).toEqual([
        [400, { error: { code: 'invalid-limit', message: 'limit must be between 4096 and 8192' } }],
        [409, { error: { code: 'closed', message: 'region is closed' } }],
        [500, { error: { code: 'internal', message: expect.stringMatching(/^internal error: worker crashed/) } }],
      ]);
    } finally {
      await other.close(200);
    }
  });
});
