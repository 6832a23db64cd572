import type { DaemonContext, RegionInfo, RegionService } from '../daemon/ports.js';
import { RegionServiceError } from '../daemon/ports.js';
import { PagedRegion, type PagedRegionOptions } from './paged-region.js';

const DEFAULT_SLAB_BYTES = 64 * 1024 * 1024;

interface Entry {
  readonly region: PagedRegion;
  readonly policySet: string;
}

/**
 * The daemon's regions: paged regions opened in this process, listed with their `stat` counters
 * and resizable through the control API (the original's `rack_vm/<pid>/{stat,memory_limit_bytes}`).
 * Names are unique (the original created a duplicate debugfs directory for a second region of the
 * same process, defect 12).
 */
export class PagedRegionService implements RegionService {
  private readonly regions = new Map<string, Entry>();

  constructor(private readonly context: DaemonContext | null = null) {}

  /** Opens a paged region and registers it under its name. */
  async open(options: PagedRegionOptions): Promise<PagedRegion> {
    if (this.regions.has(options.name)) throw new RegionServiceError('busy', `a region named "${options.name}" is already open: pick another name`);
    const logger = this.context?.logger;
    const region = await PagedRegion.open({
      ...options,
      onPagesLost: (pages) => {
        logger?.warn({ event: 'pages-lost', region: options.name, count: pages.length, firstPages: pages.slice(0, 8) },
          `region ${options.name}: ${pages.length} pages lost (their only copy was on a lost memory node); touching them raises SIGBUS`);
        options.onPagesLost?.(pages);
      },
    });
    this.regions.set(options.name, { region, policySet: options.policySet ?? 'rackmem2021' });
    this.context?.events.regionCreated({
      name: options.name,
      sizeBytes: options.sizeBytes,
      pageSizeBytes: 4096,
      localPages: Math.floor(options.localBytes / 4096),
      slabSizeBytes: options.storage?.kind === 'remote' ? (options.storage.slabSizeBytes ?? DEFAULT_SLAB_BYTES) : DEFAULT_SLAB_BYTES,
    });
    return region;
  }

  list(): RegionInfo[] {
    return [...this.regions.keys()].map((name) => this.get(name) as RegionInfo);
  }

  get(name: string): RegionInfo | undefined {
    const entry = this.regions.get(name);
    if (!entry) return undefined;
    const stats = entry.region.stats();
    return {
      name,
      sizeBytes: entry.region.sizeBytes,
      pageSizeBytes: 4096,
      localBytes: entry.region.localBytes,
      policySet: entry.policySet,
      dirtyTracking: entry.region.dirtyTracking,
      counters: { ...stats.counters },
      gauges: { ...stats.gauges },
      dvs: { ...(stats.dvs ?? {}) }, // null over local storage
      pager: { ...stats.pager },
    };
  }

  async setLimit(name: string, bytes: number): Promise<void> {
    const entry = this.regions.get(name);
    if (!entry) throw new RegionServiceError('unknown-region', `no region named "${name}": list them with "rackmem stat"`);
    await entry.region.setLimit(bytes); // RegionError 'invalid-limit' maps to 400
  }

  /** Closes one region. */
  async closeRegion(name: string): Promise<void> {
    const entry = this.regions.get(name);
    if (!entry) return;
    this.regions.delete(name);
    const counters = entry.region.stats().counters;
    await entry.region.close();
    this.context?.events.regionClosed(name, counters);
  }

  async close(): Promise<void> {
    for (const name of [...this.regions.keys()]) await this.closeRegion(name);
  }
}
