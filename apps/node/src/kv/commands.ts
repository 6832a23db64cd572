// `rackmem kv serve` and `rackmem kv bench` as commander subcommands.
import { hostname } from 'node:os';
import type { Command } from 'commander';
import { parseHostPort } from '../config/address.js';
import { formatBytes, parseSize } from '../config/size.js';
import { HOW_TO_ALLOW_USERFAULTFD } from '../native/errors.js';
import { probeUserfaultfd } from '../native/uffd-probe.js';
import { DEFAULT_FAULT_LINGER } from '../pager/fault-linger.js';
import type { StorageConfig } from '../runtime/storage-config.js';
import { KV_BENCH_DEFAULTS, formatBenchTable, runKvBench, validateBenchOptions, type KvBenchOptions } from './bench.js';
import { KvError } from './errors.js';
import { readSecretFileHex } from './secret.js';
import { KvService } from './service.js';

/** Exit code of a usage or validation error (the CLI's EXIT_USAGE). */
const EXIT_USAGE = 2;
/** Exit code of a runtime failure (the CLI's EXIT_FAILURE). */
const EXIT_FAILURE = 1;

/** A failure of a kv command, with the process exit code it maps to (2: bad flags; 1: runtime failure). */
export class KvCommandError extends Error {
  constructor(readonly exitCode: number, message: string) {
    super(message);
    this.name = 'KvCommandError';
  }
}

/** How the kv commands write, run and stop (defaults: the process). */
export interface KvCommandOptions {
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
  /**
   * Wraps every action (the CLI's error handler). The default prints `rackmem kv: <message>` and
   * sets `process.exitCode` from a {@link KvCommandError}'s `exitCode` (1 for other errors).
   */
  run?: (action: () => Promise<void>) => Promise<void>;
  /** `kv serve`: stop on SIGINT/SIGTERM (default true). */
  signals?: boolean;
  /** `kv serve`: called once the service is up, with a function that stops it (tests). */
  onServing?: (service: KvService, stop: () => void) => void;
}

interface ServeFlags {
  listen: string;
  size: string;
  local: string;
  policy: string;
  storage: string;
  donors?: string;
  secretFile?: string;
  nodeName?: string;
  replication: string;
  transport: string;
  spinUs: string;
  maxKeys?: string;
}

interface BenchFlags {
  keys: string;
  valueBytes: string;
  duration: string;
  warmup: string;
  connections: string;
  ratios: string;
  putFraction: string;
  theta: string;
  seed: string;
  policy: string;
  json?: boolean;
}

/** Adds `kv serve` and `kv bench` to a commander program. */
export function registerKvCommands(program: Command, options: KvCommandOptions = {}): Command {
  const stdout = options.stdout ?? ((text: string) => void process.stdout.write(text));
  const stderr = options.stderr ?? ((text: string) => void process.stderr.write(text));
  const run = options.run ?? defaultRun(stderr);
  const kv = program.command('kv').description('a key-value service whose data lives in a rackmem region, and its benchmark');

  kv.command('serve')
    .description('serve GET/PUT/DELETE /kv/:key, GET /stats and GET /healthz over HTTP from a paged region')
    .option('--listen <host:port>', 'address to listen on', '127.0.0.1:7480')
    .option('--size <bytes>', 'region size (index and values)', '1GiB')
    .option('--local <bytes>', 'local memory budget of the region', '256MiB')
    .option('--policy <set>', 'paging policy set: rackmem2021 or improved', 'improved')
    .option('--storage <kind>', 'where evicted pages go: local (DRAM in the pager) or remote (donors)', 'local')
    .option('--donors <list>', 'remote storage: donor addresses, host:port,...')
    .option('--secret-file <path>', 'remote storage: the cluster secret file (the one the donors use)')
    .option('--node-name <name>', 'remote storage: this node\'s name on the wire (default kv-<hostname>)')
    .option('--replication <n>', 'remote storage: copies of each slab on distinct donors', '1')
    .option('--transport <kind>', 'remote storage: tcp, or rdma (one-sided verbs to donors started with --transport rdma)', 'tcp')
    .option('--spin-us <us>', 'remote storage: how long the pager polls for a donor\'s reply before it sleeps, while a request waits for a page (0: never)', String(DEFAULT_FAULT_LINGER.spinUs))
    .option('--max-keys <n>', 'most keys (default: one per 512 bytes of the region)')
    .action((flags: ServeFlags) => run(() => serve(flags, stdout, options)));

  kv.command('bench')
    .description('load keys into kv services at several local-memory ratios (remote storage on two local memory nodes) and drive them with autocannon')
    .option('--keys <n>', 'keys loaded', String(KV_BENCH_DEFAULTS.keys))
    .option('--value-bytes <n>', 'bytes per value', String(KV_BENCH_DEFAULTS.valueBytes))
    .option('--duration <s>', 'measured seconds per ratio', String(KV_BENCH_DEFAULTS.durationSec))
    .option('--warmup <s>', 'unmeasured seconds per ratio before it', String(KV_BENCH_DEFAULTS.warmupSec))
    .option('--connections <n>', 'concurrent HTTP connections', String(KV_BENCH_DEFAULTS.connections))
    .option('--ratios <list>', 'local memory as fractions of the region', KV_BENCH_DEFAULTS.ratios.join(','))
    .option('--put-fraction <f>', 'fraction of requests that are PUTs', String(KV_BENCH_DEFAULTS.putFraction))
    .option('--theta <t>', 'zipfian constant', String(KV_BENCH_DEFAULTS.theta))
    .option('--seed <n>', 'seed of the key chooser', String(KV_BENCH_DEFAULTS.seed))
    .option('--policy <set>', 'paging policy set: rackmem2021 or improved', KV_BENCH_DEFAULTS.policySet)
    .option('--json', 'print the report as JSON (progress goes to stderr)')
    .action((flags: BenchFlags) => run(() => bench(flags, stdout, stderr)));
  return kv;
}

function defaultRun(stderr: (text: string) => void): (action: () => Promise<void>) => Promise<void> {
  return async (action) => {
    try {
      await action();
    } catch (error) {
      stderr(`rackmem kv: ${(error as Error)?.message ?? String(error)}\n`);
      process.exitCode = error instanceof KvCommandError ? error.exitCode : EXIT_FAILURE;
    }
  };
}

function usage(message: string): never {
  throw new KvCommandError(EXIT_USAGE, message);
}

function sizeFlag(name: string, text: string): number {
  const bytes = parseSize(text);
  if (bytes === null) usage(`--${name}: "${text}" is not a size like 256MiB, 1GiB or 65536`);
  return bytes;
}

function intFlag(name: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < min || n > max) usage(`--${name}: expected an integer from ${min} to ${max}, got "${text}"`);
  return n;
}

function numberFlag(name: string, text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n)) usage(`--${name}: "${text}" is not a number`);
  return n;
}

function policyFlag(text: string): 'rackmem2021' | 'improved' {
  if (text !== 'rackmem2021' && text !== 'improved') usage(`--policy: expected rackmem2021 or improved, got "${text}"`);
  return text;
}

function requireUserfaultfd(): void {
  const probe = probeUserfaultfd();
  if (!probe.available) throw new KvCommandError(EXIT_FAILURE, `userfaultfd is not available here: ${probe.reason}\n${HOW_TO_ALLOW_USERFAULTFD}`);
}

async function serve(flags: ServeFlags, stdout: (text: string) => void, options: KvCommandOptions): Promise<void> {
  const listen = parseHostPort(flags.listen, 7480, true);
  if (typeof listen === 'string') usage(`--listen: ${listen}`);
  const sizeBytes = sizeFlag('size', flags.size);
  const localBytes = sizeFlag('local', flags.local);
  if (sizeBytes < 2 << 20 || sizeBytes % 4096 !== 0) usage(`--size: ${flags.size} must be at least 2MiB and a multiple of 4096 bytes`);
  if (localBytes < 4096 || localBytes > sizeBytes) usage(`--local: ${flags.local} must be between 4096 bytes (one page) and --size (${formatBytes(sizeBytes)})`);
  const policySet = policyFlag(flags.policy);
  const maxKeys = flags.maxKeys === undefined ? undefined : intFlag('max-keys', flags.maxKeys, 1, 50_000_000);
  const spinUs = intFlag('spin-us', flags.spinUs, 0, 1_000_000);
  let storage: StorageConfig;
  if (flags.transport !== 'tcp' && flags.transport !== 'rdma') usage(`--transport: expected tcp or rdma, got "${flags.transport}"`);
  if (flags.storage === 'local') {
    if (flags.donors !== undefined || flags.secretFile !== undefined) usage('--donors and --secret-file need --storage remote');
    if (flags.transport !== 'tcp') usage('--transport rdma needs --storage remote');
    storage = { kind: 'local' };
  } else if (flags.storage === 'remote') {
    if (flags.donors === undefined || flags.secretFile === undefined) usage('--storage remote needs --donors host:port,... and --secret-file FILE');
    const donors = flags.donors.split(',').map((d) => d.trim()).filter((d) => d !== '');
    if (donors.length === 0 || donors.length > 64) usage('--donors: expected 1 to 64 addresses, host:port,...');
    for (const donor of donors) {
      const parsed = parseHostPort(donor, null);
      if (typeof parsed === 'string') usage(`--donors: ${parsed}`);
    }
    let secretHex: string;
    try {
      secretHex = readSecretFileHex(flags.secretFile);
    } catch (error) {
      if (error instanceof KvError) usage(error.message);
      throw error;
    }
    const replication = intFlag('replication', flags.replication, 1, donors.length);
    storage = { kind: 'remote', donors, secretHex, nodeName: flags.nodeName ?? `kv-${hostname()}`, replication, transport: flags.transport };
  } else {
    usage(`--storage: expected local or remote, got "${flags.storage}"`);
  }
  requireUserfaultfd();
  let service: KvService;
  try {
    service = await KvService.start({ name: 'kv', sizeBytes, localBytes, policySet, storage, maxKeys, host: listen.host, port: listen.port, linger: { spinUs } });
  } catch (error) {
    if (error instanceof KvError) throw new KvCommandError(EXIT_USAGE, error.message);
    throw new KvCommandError(EXIT_FAILURE, `cannot start the kv service: ${(error as Error).message}`);
  }
  const stats = service.store.stats();
  stdout(
    `kv: serving on ${service.server.url} (region ${formatBytes(sizeBytes)}, ${formatBytes(localBytes)} local, ${policySet}, ${storage.kind} storage; ` +
      `up to ${stats.maxKeys} keys, ${formatBytes(stats.heapBytes)} heap)\n`,
  );
  const signals = options.signals ?? true;
  // a second signal while stopping ends the process at once
  const force = (): never => process.exit(130);
  const reason = await new Promise<string>((resolve) => {
    const done = (why: string): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      if (signals) {
        process.once('SIGINT', force);
        process.once('SIGTERM', force);
      }
      resolve(why);
    };
    const onSignal = (signal: NodeJS.Signals): void => done(signal);
    if (signals) {
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    }
    options.onServing?.(service, () => done('stopped by the caller'));
  });
  stdout(`kv: stopping (${reason})\n`);
  try {
    await service.stop();
  } finally {
    process.off('SIGINT', force);
    process.off('SIGTERM', force);
  }
  stdout('kv: stopped\n');
}

async function bench(flags: BenchFlags, stdout: (text: string) => void, stderr: (text: string) => void): Promise<void> {
  const ratios = flags.ratios.split(',').map((r) => numberFlag('ratios', r.trim()));
  const options: KvBenchOptions = {
    keys: intFlag('keys', flags.keys, 2, 10_000_000),
    valueBytes: intFlag('value-bytes', flags.valueBytes, 0, 64 * 1024),
    durationSec: numberFlag('duration', flags.duration),
    warmupSec: numberFlag('warmup', flags.warmup),
    connections: intFlag('connections', flags.connections, 1, 1000),
    ratios,
    putFraction: numberFlag('put-fraction', flags.putFraction),
    theta: numberFlag('theta', flags.theta),
    seed: intFlag('seed', flags.seed, 0, 2 ** 32 - 1),
    policySet: policyFlag(flags.policy),
    onProgress: (line) => stderr(`kv bench: ${line}\n`),
  };
  const problems = validateBenchOptions(options);
  if (problems.length > 0) usage(problems.join('; '));
  requireUserfaultfd();
  const report = await runKvBench(options);
  stdout(flags.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatBenchTable(report)}\n`);
}
