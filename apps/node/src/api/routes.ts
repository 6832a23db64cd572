// The control API's routes: the counterparts of the original's debugfs files (krdma/connect, the
// node list, rack_vm/<pid>/stat, rack_vm/<pid>/memory_limit_bytes), plus /metrics and /healthz.
import { z } from 'zod';
import { parseSize } from '../config/size.js';
import { PeerError, REGION_ERROR_STATUS, type PeerInfoLike, type PeerService, type RegionInfo, type RegionService } from '../daemon/ports.js';
import { parseJsonBody } from './body.js';
import { ApiError } from './errors.js';
import type { NodeMetrics } from './metrics.js';
import { Router } from './router.js';
import { orderedStat, statText } from './stat.js';

/** This node as `GET /v1/nodes` shows it. */
export interface SelfInfo {
  readonly nodeName: string;
  readonly id: number;
  /** `host:port` of the fabric listener. */
  readonly listen: string;
  readonly transport: string;
  readonly role: string;
  readonly donor: { readonly capacityBytes: number; readonly usedBytes: number; readonly slabCount: number } | null;
  readonly uptimeSeconds: number;
}

/** What the routes serve. */
export interface ApiServices {
  readonly self: () => SelfInfo;
  readonly peers: PeerService;
  readonly regions: RegionService;
  readonly metrics: NodeMetrics;
}

const connectBody = z.strictObject({
  address: z.string({ error: 'expected a string like "10.0.0.18:7472"' }).min(1, { error: 'expected an address like "10.0.0.18:7472"' }).max(300, { error: 'too long for an address' }),
});

const limitBody = z.strictObject({
  bytes: z.unknown().transform((value, ctx): number => {
    const bytes = parseSize(value);
    if (bytes === null) {
      ctx.issues.push({ code: 'custom', message: `expected a number of bytes or a size like "512MiB", got ${JSON.stringify(value) ?? 'nothing'}`, input: value });
      return z.NEVER;
    }
    return bytes;
  }),
});

function regionOr404(regions: RegionService, name: string): RegionInfo {
  const info = regions.get(name);
  if (info === undefined) throw new ApiError(404, 'unknown-region', `no region "${name}"; list them with GET /v1/regions`);
  return info;
}

/** A region's counters as the API shows them: dirty tracking, the stat in the original's order, the pager's own. */
function statView(info: RegionInfo): Record<string, unknown> {
  return {
    ...(info.dirtyTracking !== undefined ? { dirtyTracking: info.dirtyTracking } : {}),
    stat: Object.fromEntries(orderedStat(info)),
    ...(info.pager !== undefined ? { pager: info.pager } : {}),
  };
}

/** A region as listed: its parameters and its counters (see statView). */
export function regionView(info: RegionInfo): Record<string, unknown> {
  return {
    name: info.name,
    sizeBytes: info.sizeBytes,
    pageSizeBytes: info.pageSizeBytes,
    localBytes: info.localBytes,
    policySet: info.policySet,
    ...statView(info),
  };
}

function peerError(error: PeerError): ApiError {
  switch (error.code) {
    case 'bad-address':
      return new ApiError(400, 'bad-address', error.message);
    case 'timeout':
      return new ApiError(504, 'peer-timeout', error.message);
    case 'refused':
      return new ApiError(502, 'peer-refused', error.message);
    default:
      return new ApiError(502, 'peer-unreachable', error.message);
  }
}

/** A refused region request as an API error, by its `code` (see REGION_ERROR_STATUS); null when it is not one. */
function regionError(error: unknown): ApiError | null {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return null;
  const status = REGION_ERROR_STATUS[code];
  return status === undefined ? null : new ApiError(status, code, (error as Error).message);
}

/** Builds the router of the control API. */
export function buildRoutes(services: ApiServices): Router {
  const { peers, regions, metrics } = services;
  const router = new Router();
  router.add('GET', '/healthz', () => ({ body: { status: 'ok', nodeName: services.self().nodeName } }));
  router.add('GET', '/metrics', async () => ({ body: await metrics.render(), contentType: metrics.contentType }));
  router.add('GET', '/v1/nodes', () => ({ body: { self: services.self(), peers: peers.list() } }));
  router.add('POST', '/v1/connect', async (req) => {
    const { address } = parseJsonBody(await req.body(), connectBody, '{"address": "10.0.0.18:7472"}');
    let peer: PeerInfoLike;
    try {
      peer = await peers.connect(address);
    } catch (error) {
      if (error instanceof PeerError) throw peerError(error);
      throw error;
    }
    return { body: { peer } };
  });
  router.add('GET', '/v1/regions', () => ({ body: { regions: regions.list().map(regionView) } }));
  router.add('GET', '/v1/regions/:name', (req) => ({ body: { region: regionView(regionOr404(regions, req.params.name)) } }));
  router.add('GET', '/v1/regions/:name/stat', (req) => {
    const info = regionOr404(regions, req.params.name);
    const format = req.query.get('format') ?? 'json';
    if (format === 'text') return { body: statText(info), contentType: 'text/plain; charset=utf-8' };
    if (format !== 'json') throw new ApiError(400, 'bad-query', `format "${format}" is not known; use json or text`);
    return { body: { name: info.name, ...statView(info) } };
  });
  router.add('GET', '/v1/regions/:name/limit', (req) => {
    const info = regionOr404(regions, req.params.name);
    return { body: { name: info.name, bytes: info.localBytes } };
  });
  router.add('PUT', '/v1/regions/:name/limit', async (req) => {
    const name = req.params.name;
    const { bytes } = parseJsonBody(await req.body(), limitBody, '{"bytes": 33554432} or {"bytes": "32MiB"}');
    const before = regionOr404(regions, name);
    try {
      await regions.setLimit(name, bytes);
    } catch (error) {
      throw regionError(error) ?? error;
    }
    const after = regions.get(name) ?? before;
    return { body: { name, bytes: after.localBytes, previousBytes: before.localBytes } };
  });
  return router;
}
