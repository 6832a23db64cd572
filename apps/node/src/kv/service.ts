// A kv service: a PagedRegion, a KvStore laid out in it and a KvServer in front of it. Used by
// `rackmem kv serve` and, once per local-memory ratio, by `rackmem kv bench`.
import type { PolicySetName } from '@rackmem/vm';
import { PagedRegion, type PagedRegionOptions } from '../region/paged-region.js';
import type { StorageConfig } from '../runtime/storage-config.js';
import { KvServer } from './server.js';
import { KvStore } from './store.js';

/** Options of {@link KvService.start}. */
export interface KvServiceOptions {
  /** Region name (default `kv`). */
  name?: string;
  sizeBytes: number;
  localBytes: number;
  policySet?: PolicySetName;
  storage?: StorageConfig;
  /** Most keys (default: one per 512 bytes of the region). */
  maxKeys?: number;
  host?: string;
  port?: number;
  /** How the region's pager waits between faults and for storage (see PagedRegionOptions.linger). */
  linger?: PagedRegionOptions['linger'];
}

/** A running kv service. */
export class KvService {
  private stopping: Promise<void> | null = null;

  private constructor(readonly region: PagedRegion, readonly store: KvStore, readonly server: KvServer, readonly policySet: PolicySetName) {}

  /** Opens the region, formats the store and starts the HTTP server (closing what it opened if a step fails). */
  static async start(options: KvServiceOptions): Promise<KvService> {
    const policySet = options.policySet ?? 'improved';
    const region = await PagedRegion.open({
      name: options.name ?? 'kv',
      sizeBytes: options.sizeBytes,
      localBytes: options.localBytes,
      policySet,
      storage: options.storage ?? { kind: 'local' },
      linger: options.linger,
    });
    try {
      const store = KvStore.format(region.arrayBuffers(), { maxKeys: options.maxKeys });
      const server = await KvServer.listen({
        store,
        host: options.host,
        port: options.port,
        stats: () => ({
          region: { name: region.name, sizeBytes: region.sizeBytes, localBytes: region.localBytes, policySet, ...region.stats() },
        }),
      });
      return new KvService(region, store, server, policySet);
    } catch (error) {
      await region.close();
      throw error;
    }
  }

  /** Closes the server (requests in flight finish), then the region. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      try {
        await this.server.close();
      } finally {
        await this.region.close();
      }
    })();
    return this.stopping;
  }
}
