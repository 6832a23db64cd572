/**
 * @packageDocumentation
 * The kv workload of `@rackmem/node`: a key-value store laid out in a paged region, its HTTP
 * service (`rackmem kv serve`) and its benchmark (`rackmem kv bench`). See README.md here.
 */
export { registerKvCommands, KvCommandError, type KvCommandOptions } from './commands.js';
export { KvStore, type KvStoreOptions, type KvStoreStats, type PutResult } from './store.js';
export { KvError, type KvErrorCode } from './errors.js';
export { KvServer, type KvServerOptions, type KvHttpStats } from './server.js';
export { KvService, type KvServiceOptions } from './service.js';
export { runKvBench, formatBenchTable, KV_BENCH_DEFAULTS, type KvBenchOptions, type KvBenchReport, type KvBenchRatioResult } from './bench.js';
export { MAX_KEY_BYTES, MAX_VALUE_BYTES } from './layout.js';
export { ScrambledZipfian, ZipfianGenerator, seededRandom, YCSB_ZIPFIAN_THETA } from './zipf.js';
