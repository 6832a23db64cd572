/**
 * @packageDocumentation
 * `@rackmem/node`: the production runtime. Paged regions (libs/vm's engine in a userfaultfd
 * pager worker, pages stored locally or on donor nodes over krdma), the daemon (`rackmem node
 * start`: donor and consumer roles, control API, metrics, logs) and the CLI.
 */
export { PagedRegion, RegionError, type PagedRegionOptions } from './region/paged-region.js';
export { PagedRegionService } from './region/region-service.js';
export type { StorageConfig } from './runtime/storage-config.js';
export type { EngineStats } from './runtime/engine-stats.js';
export { probeUserfaultfd } from './native/uffd-probe.js';
export { HOW_TO_ALLOW_USERFAULTFD, NativeError, UserfaultfdUnavailableError } from './native/errors.js';
export { Pager, type PagerOptions } from './pager/pager.js';
export { PagerError } from './pager/pager-error.js';
export { Daemon, type DaemonOptions, type StopResult } from './daemon/daemon.js';
export { DaemonError } from './daemon/errors.js';
export {
  PeerError, REGION_ERROR_STATUS, RegionServiceError,
  type DaemonContext, type PeerInfoLike, type PeerService, type RegionEvents, type RegionInfo, type RegionService, type RegionServiceFactory,
} from './daemon/ports.js';
export { FabricPeerService } from './daemon/fabric-peers.js';
export { InMemoryPeerService, InMemoryRegionService } from './daemon/in-memory.js';
export { tcpFabricFactory, type FabricFactory, type NodeFabric } from './daemon/transport.js';
export { runCli } from './cli/main.js';
export type { CliIo } from './cli/io.js';
export { loadNodeConfig } from './config/load.js';
export { ConfigError } from './config/errors.js';
export { parseSize, formatBytes } from './config/size.js';
export { KvServer, KvService, KvStore, KvError, runKvBench } from './kv/index.js';
