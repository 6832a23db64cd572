import { VmError } from './errors.js';

/** Prefetch policies: see the package README for what each does. */
export type PrefetchPolicyName = 'none' | 'readahead' | 'leap' | 'adaptive';
/** Reclaim modes: none (the original's default), the original's background worker, watermarks. */
export type ReclaimMode = 'none' | 'background' | 'watermark';
/** Named policy sets: the original's behaviour, and rackmem's improvements together. */
export type PolicySetName = 'rackmem2021' | 'improved';

/** Everything that configures one region's paging engine. */
export interface VmConfig {
  /** Pages in the region. */
  readonly pageCount: number;
  /** Paging granularity in bytes (4096, or larger for block paging). */
  readonly pageSizeBytes: number;
  /** Local page budget: resident pages never exceed it once reclaim completes. */
  readonly localPages: number;
  /** `none`: victims are taken in the fault path; `background`: the original's bg_reclaim. */
  readonly reclaim: ReclaimMode;
  /** Background reclaim runs when the inactive list is shorter than this share of the budget (1/10,000ths; 25 = 0.25%). */
  readonly backgroundTriggerPermyriad: number;
  /** Background reclaim moves this share of the budget per run (1/10,000ths; 100 = 1%). */
  readonly backgroundBatchPermyriad: number;
  /** Watermark reclaim starts when free + clean reclaimable frames fall below this (1/1,000ths of the budget). */
  readonly watermarkLowPermille: number;
  /** ... and refills them up to this (1/1,000ths of the budget). */
  readonly watermarkHighPermille: number;
  /**
   * Pages watermark reclaim moves per event at most: a refill spreads over several events instead
   * of one long burst of unmaps that delays every fault queued behind it (the p99).
   */
  readonly watermarkMaxPagesPerEvent: number;
  /** `sync`: an evicted page's frame is reused only after its write-back; `async`: staged, batched. */
  readonly writebackMode: 'sync' | 'async';
  /** Pages per write-back batch (async mode). */
  readonly writebackBatchPages: number;
  /** Write-back batches in flight at once (async mode); staging frames = batch x in flight. */
  readonly writebackMaxInFlightBatches: number;
  /** Trust the runtime's dirty reports: clean pages are dropped without a write-back. */
  readonly dirtyTracking: boolean;
  /** Prefetch policy. */
  readonly prefetch: PrefetchPolicyName;
  /** Initial (readahead: fixed) prefetch window in pages. */
  readonly prefetchWindowPages: number;
  /** Largest prefetch window (leap, adaptive). */
  readonly prefetchMaxWindowPages: number;
  /** Prefetches in flight at once, at most. */
  readonly prefetchMaxInFlight: number;
  /**
   * Map prefetched pages as they arrive (no fault when they are used), except one marker page per
   * prefetch batch that stays unmapped so its soft fault keeps the stream going (Linux's
   * PG_readahead). Off: every prefetched page lands unmapped and its first use is a soft fault,
   * which measures usefulness exactly. A runtime where a soft fault is expensive (userfaultfd)
   * wants this on.
   */
  readonly prefetchMapped: boolean;
  /** Commands that may pile up undrained before the engine reports a runaway (a bug). */
  readonly maxQueuedCommands: number;
}

/** The original RackMem (HEAD, 2021) behaviour with its module defaults. */
export const RACKMEM2021: Omit<VmConfig, 'pageCount'> = {
  pageSizeBytes: 4096,
  localPages: 65_536,
  reclaim: 'none',
  backgroundTriggerPermyriad: 25,
  backgroundBatchPermyriad: 100,
  watermarkLowPermille: 10,
  watermarkHighPermille: 30,
  watermarkMaxPagesPerEvent: 16,
  writebackMode: 'sync',
  writebackBatchPages: 1,
  writebackMaxInFlightBatches: 1,
  dirtyTracking: false,
  prefetch: 'none',
  prefetchWindowPages: 8,
  prefetchMaxWindowPages: 64,
  prefetchMaxInFlight: 64,
  prefetchMapped: false,
  maxQueuedCommands: 1 << 22,
};

/** rackmem's improvements switched on together. */
export const IMPROVED: Omit<VmConfig, 'pageCount'> = {
  ...RACKMEM2021,
  reclaim: 'watermark',
  writebackMode: 'async',
  writebackBatchPages: 32,
  writebackMaxInFlightBatches: 4,
  dirtyTracking: true,
  prefetch: 'adaptive',
};

/**
 * Simulation-only fault sites (FoundationDB's BUGGIFY): when the hook answers true, the engine takes
 * a rare but legal path, so tests reach states that random workloads seldom create. Production
 * passes no hook. Each answer must come from a seeded stream so runs stay replayable.
 */
export type BuggifySite = 'writeback-delay' | 'reclaim-extra' | 'skip-inactive-victim' | 'prefetch-shrink';
/** The hook type; see `BuggifySite`. */
export type BuggifyHook = (site: BuggifySite) => boolean;

/** Input accepted by `resolveVmConfig`: the page count, an optional policy set, and overrides. */
export type VmConfigInput = Partial<VmConfig> & { readonly pageCount: number; readonly policySet?: PolicySetName };

/** Fills defaults from the policy set (default `rackmem2021`) and validates every field. */
export function resolveVmConfig(input: VmConfigInput): VmConfig {
  const base = input.policySet === 'improved' ? IMPROVED : RACKMEM2021;
  const { policySet: _policySet, ...overrides } = input;
  const config: VmConfig = { ...base, ...overrides };
  validate(config);
  return { ...config, localPages: Math.min(config.localPages, config.pageCount) };
}

function validate(c: VmConfig): void {
  positiveInt('pageCount', c.pageCount);
  if (c.pageCount > 0x7fff_ffff) fail('pageCount', c.pageCount, 'at most 2^31 - 1 pages per region');
  positiveInt('pageSizeBytes', c.pageSizeBytes);
  if (c.pageSizeBytes % 4096 !== 0) fail('pageSizeBytes', c.pageSizeBytes, 'a multiple of 4096');
  positiveInt('localPages', c.localPages);
  oneOf('reclaim', c.reclaim, ['none', 'background', 'watermark']);
  positiveInt('backgroundTriggerPermyriad', c.backgroundTriggerPermyriad);
  positiveInt('backgroundBatchPermyriad', c.backgroundBatchPermyriad);
  positiveInt('watermarkLowPermille', c.watermarkLowPermille);
  positiveInt('watermarkHighPermille', c.watermarkHighPermille);
  positiveInt('watermarkMaxPagesPerEvent', c.watermarkMaxPagesPerEvent);
  if (c.watermarkHighPermille < c.watermarkLowPermille) fail('watermarkHighPermille', c.watermarkHighPermille, `at least watermarkLowPermille (${c.watermarkLowPermille})`);
  oneOf('writebackMode', c.writebackMode, ['sync', 'async']);
  positiveInt('writebackBatchPages', c.writebackBatchPages);
  positiveInt('writebackMaxInFlightBatches', c.writebackMaxInFlightBatches);
  if (c.writebackMaxInFlightBatches > 4096) fail('writebackMaxInFlightBatches', c.writebackMaxInFlightBatches, 'at most 4096');
  if (typeof c.dirtyTracking !== 'boolean') fail('dirtyTracking', c.dirtyTracking, 'true or false');
  oneOf('prefetch', c.prefetch, ['none', 'readahead', 'leap', 'adaptive']);
  positiveInt('prefetchWindowPages', c.prefetchWindowPages);
  positiveInt('prefetchMaxWindowPages', c.prefetchMaxWindowPages);
  if (c.prefetchMaxWindowPages < c.prefetchWindowPages) fail('prefetchMaxWindowPages', c.prefetchMaxWindowPages, `at least prefetchWindowPages (${c.prefetchWindowPages})`);
  if (c.prefetchMaxWindowPages > 1024) fail('prefetchMaxWindowPages', c.prefetchMaxWindowPages, 'at most 1024');
  positiveInt('prefetchMaxInFlight', c.prefetchMaxInFlight);
  if (typeof c.prefetchMapped !== 'boolean') fail('prefetchMapped', c.prefetchMapped, 'true or false');
  positiveInt('maxQueuedCommands', c.maxQueuedCommands);
}

function positiveInt(field: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) fail(field, value, 'a positive integer');
}

function oneOf(field: string, value: unknown, allowed: readonly string[]): void {
  if (!allowed.includes(value as string)) fail(field, value, `one of ${allowed.join(', ')}`);
}

function fail(field: string, value: unknown, expected: string): never {
  throw new VmError('invalid-config', `vm config: ${field} = ${JSON.stringify(value)} is invalid; expected ${expected}`);
}
