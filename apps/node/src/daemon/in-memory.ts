// Simple in-memory services: the default RegionService of a node with no regions, and fakes
// for tests of the API, metrics and CLI.
import { formatHostPort, parseHostPort } from '../config/address.js';
import { DEFAULT_LISTEN_PORT } from '../config/schema.js';
import { PAGER_COUNTER_NAMES } from '../pager/stats.js';
import { PeerError, RegionServiceError, type PeerInfoLike, type PeerService, type RegionInfo, type RegionService } from './ports.js';

/** Vm counter names in the original's output order. */
export const VM_COUNTER_NAMES = [
  'pgfault', 'pgfault_read', 'pgfault_write', 'pgfault_collision', 'pgfault_inactive', 'reclaim_fast', 'reclaim_slow',
  'accessed', 'background_reclaim_task', 'background_reclaim', 'io_read', 'io_write', 'alloc_local_page', 'free_local_page',
  'reclaim_inactive', 'reclaim_inactive_miss', 'reclaim_active', 'remap', 'unmap',
] as const;

/** Dvs counter names in the original's output order. */
export const DVS_COUNTER_NAMES = ['slab_alloc', 'slab_free', 'get_slab_fast', 'get_slab_slow', 'update_slab_pool', 'reclaim_slab', 'slab_read', 'slab_write'] as const;

/** A region of an {@link InMemoryRegionService}. */
export interface InMemoryRegionOptions {
  readonly name: string;
  readonly sizeBytes: number;
  readonly pageSizeBytes?: number;
  readonly localBytes: number;
  readonly policySet?: string;
}

interface Region {
  readonly name: string;
  readonly sizeBytes: number;
  readonly pageSizeBytes: number;
  localBytes: number;
  readonly policySet: string;
  readonly counters: Record<string, number>;
  readonly dvs: Record<string, number>;
  readonly pager: Record<string, number>;
}

/**
 * Regions that are only numbers: `setLimit` checks the range (one page up to the region size,
 * a whole number of pages) and changes the budget. Counters can be bumped with `count`.
 */
export class InMemoryRegionService implements RegionService {
  private readonly regions = new Map<string, Region>();
  closed = false;

  constructor(regions: readonly InMemoryRegionOptions[] = []) {
    for (const r of regions) this.add(r);
  }

  /** Adds a region with zeroed counters. */
  add(options: InMemoryRegionOptions): void {
    const counters = Object.fromEntries(VM_COUNTER_NAMES.map((n) => [n, 0]));
    const dvs = Object.fromEntries(DVS_COUNTER_NAMES.map((n) => [n, 0]));
    const pager = Object.fromEntries(PAGER_COUNTER_NAMES.map((n) => [n, 0]));
    this.regions.set(options.name, {
      name: options.name,
      sizeBytes: options.sizeBytes,
      pageSizeBytes: options.pageSizeBytes ?? 4096,
      localBytes: options.localBytes,
      policySet: options.policySet ?? 'original',
      counters,
      dvs,
      pager,
    });
  }

  /** Adds `by` to a vm, dvs or pager counter of a region. */
  count(name: string, counter: string, by = 1): void {
    const region = this.regions.get(name);
    if (region === undefined) throw new RegionServiceError('unknown-region', `no region "${name}"`);
    if (counter in region.counters) region.counters[counter] += by;
    else if (counter in region.dvs) region.dvs[counter] += by;
    else if (counter in region.pager) region.pager[counter] += by;
    else throw new RegionServiceError('internal', `no counter "${counter}"`);
  }

  list(): RegionInfo[] {
    return [...this.regions.values()].map((r) => this.info(r));
  }

  get(name: string): RegionInfo | undefined {
    const region = this.regions.get(name);
    return region === undefined ? undefined : this.info(region);
  }

  setLimit(name: string, bytes: number): void {
    const region = this.regions.get(name);
    if (region === undefined) throw new RegionServiceError('unknown-region', `no region "${name}"; list them with "rackmem stat"`);
    if (!Number.isSafeInteger(bytes) || bytes < region.pageSizeBytes || bytes > region.sizeBytes) {
      throw new RegionServiceError('out-of-range', `limit ${bytes} bytes is out of range for region "${name}": use ${region.pageSizeBytes} (one page) to ${region.sizeBytes} (the region size)`);
    }
    if (bytes % region.pageSizeBytes !== 0) {
      throw new RegionServiceError('out-of-range', `limit ${bytes} bytes is not a whole number of ${region.pageSizeBytes}-byte pages`);
    }
    region.localBytes = bytes;
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private info(r: Region): RegionInfo {
    const pageCount = Math.min(r.counters.alloc_local_page - r.counters.free_local_page, r.localBytes / r.pageSizeBytes);
    const limit = r.localBytes / r.pageSizeBytes;
    return {
      name: r.name,
      sizeBytes: r.sizeBytes,
      pageSizeBytes: r.pageSizeBytes,
      localBytes: r.localBytes,
      policySet: r.policySet,
      counters: { ...r.counters },
      dvs: { ...r.dvs },
      pager: { ...r.pager },
      gauges: {
        region_size: r.sizeBytes,
        region_page_size: r.pageSizeBytes,
        page_count: Math.max(0, pageCount),
        page_count_limit: limit,
        full: pageCount >= limit ? 1 : 0,
        active_list_size: Math.max(0, pageCount),
        inactive_list_size: 0,
      },
    };
  }
}

/**
 * Peers that are only names: `connect("host:port")` succeeds for addresses in `reachable`
 * (mapped to a node name) and fails `unreachable` for the others.
 */
export class InMemoryPeerService implements PeerService {
  private readonly peers: PeerInfoLike[] = [];

  constructor(private readonly reachable: ReadonlyMap<string, string> = new Map()) {}

  async connect(address: string): Promise<PeerInfoLike> {
    const parsed = parseHostPort(address, DEFAULT_LISTEN_PORT);
    if (typeof parsed === 'string') throw new PeerError('bad-address', parsed);
    const key = formatHostPort(parsed);
    const name = this.reachable.get(key);
    if (name === undefined) {
      const failed: PeerInfoLike = { id: null, nodeName: null, address: key, state: 'lost', direction: 'outbound', reason: 'ECONNREFUSED' };
      this.peers.push(failed);
      throw new PeerError('unreachable', `cannot connect to ${key}: ECONNREFUSED; is a rackmem node listening there?`, failed);
    }
    const existing = this.peers.find((p) => p.nodeName === name && p.state === 'up');
    if (existing !== undefined) return existing;
    const peer: PeerInfoLike = { id: name.length, nodeName: name, address: key, state: 'up', direction: 'outbound', reason: null };
    this.peers.push(peer);
    return peer;
  }

  list(): PeerInfoLike[] {
    return [...this.peers];
  }
}
