import { DVS_COUNTER_NAMES, type DvsCounterName, type DvsCounters } from '@rackmem/dvs';
import { VM_COUNTER_NAMES, type VmCounterName, type VmGauges } from '@rackmem/vm';

/** Gauges shared with main, in slot order after the counters. */
export const SHARED_GAUGE_NAMES = [
  'region_size', 'region_page_size', 'page_count', 'page_count_limit', 'full', 'active_list_size',
  'inactive_list_size', 'frames_in_use', 'evicting_pages', 'waiting_faults', 'writeback_queue',
  'writeback_batches_in_flight', 'prefetch_in_flight', 'prefetch_window',
] as const satisfies readonly (keyof VmGauges)[];

/**
 * Fault-latency slots after the gauges: count, sum, max, then a log-linear histogram of
 * microseconds: 8 linear sub-buckets per power of two from 1 us to 2^24 us (about 12% wide).
 */
const SUB_BUCKETS = 8;
const OCTAVES = 25;
const LATENCY_BUCKETS = 1 + OCTAVES * SUB_BUCKETS;

/** Histogram slot of a latency in microseconds. */
export function bucketOf(us: number): number {
  if (!(us >= 1)) return 0;
  // The octave from the integer part's leading zeros (no log2 or pow on the fault path).
  const octave = Math.min(OCTAVES - 1, 31 - Math.clz32(Math.min(us, 2 ** 31 - 1)));
  const sub = Math.min(SUB_BUCKETS - 1, Math.floor((us / (1 << octave) - 1) * SUB_BUCKETS));
  return 1 + octave * SUB_BUCKETS + sub;
}

/** Upper bound in microseconds of a histogram slot. */
function upperBoundOf(bucket: number): number {
  if (bucket === 0) return 1;
  const octave = Math.floor((bucket - 1) / SUB_BUCKETS);
  const sub = (bucket - 1) % SUB_BUCKETS;
  return 2 ** octave * (1 + (sub + 1) / SUB_BUCKETS);
}

/** A snapshot of a paged region's engine state as main sees it. */
export interface EngineStats {
  counters: Record<VmCounterName, number>;
  gauges: Record<(typeof SHARED_GAUGE_NAMES)[number], number>;
  /** Fault service time (first message to map) percentiles in microseconds (upper bounds of ~12% wide buckets). */
  faultLatencyUs: { count: number; mean: number; p50: number; p99: number; p999: number; max: number };
  /** The dvs region's counters (slab_alloc, ...) when the region pages to remote storage; null over local storage. */
  dvs: Record<DvsCounterName, number> | null;
}

/**
 * The engine's counters, gauges and a fault-latency histogram in a SharedArrayBuffer of float64
 * slots: the pager thread writes (one writer, plain stores), main reads (a value may be one update
 * old). Published after every batch of work, so `rackmem stat` never waits for the pager.
 */
export class SharedEngineStats {
  readonly slots: Float64Array;
  private readonly gaugeBase = VM_COUNTER_NAMES.length;
  private readonly latencyBase = VM_COUNTER_NAMES.length + SHARED_GAUGE_NAMES.length;
  /** A presence flag (1: remote storage publishes here), then one slot per dvs counter. */
  private readonly dvsBase = this.latencyBase + 3 + LATENCY_BUCKETS;
  private dvsSource: (() => DvsCounters) | null = null;

  constructor(readonly sab = new SharedArrayBuffer((VM_COUNTER_NAMES.length + SHARED_GAUGE_NAMES.length + 3 + LATENCY_BUCKETS + 1 + DVS_COUNTER_NAMES.length) * 8)) {
    this.slots = new Float64Array(sab);
  }

  /** Makes `publish` copy the remote storage's dvs counters too (pager thread). */
  publishDvsFrom(source: () => DvsCounters): void {
    this.dvsSource = source;
    this.slots[this.dvsBase] = 1;
  }

  /** Publishes the engine's counters and gauges, and the dvs counters when there are any (pager thread). */
  publish(counts: Float64Array, gauges: VmGauges): void {
    this.slots.set(counts, 0);
    for (let i = 0; i < SHARED_GAUGE_NAMES.length; i++) this.slots[this.gaugeBase + i] = gauges[SHARED_GAUGE_NAMES[i]];
    if (this.dvsSource === null) return;
    const dvs = this.dvsSource();
    for (let i = 0; i < DVS_COUNTER_NAMES.length; i++) this.slots[this.dvsBase + 1 + i] = dvs[DVS_COUNTER_NAMES[i]];
  }

  /** Records one fault's service time (pager thread). */
  recordLatencyUs(us: number): void {
    const s = this.slots;
    const b = this.latencyBase;
    s[b]++;
    s[b + 1] += us;
    if (us > s[b + 2]) s[b + 2] = us;
    s[b + 3 + bucketOf(us)]++;
  }

  /** Reads a snapshot (main). */
  snapshot(): EngineStats {
    const s = this.slots;
    const counters = {} as EngineStats['counters'];
    VM_COUNTER_NAMES.forEach((name, i) => (counters[name] = s[i]));
    const gauges = {} as EngineStats['gauges'];
    SHARED_GAUGE_NAMES.forEach((name, i) => (gauges[name] = s[this.gaugeBase + i]));
    const b = this.latencyBase;
    const count = s[b];
    const quantile = (q: number): number => {
      if (count === 0) return 0;
      const target = Math.ceil(q * count);
      let seen = 0;
      for (let i = 0; i < LATENCY_BUCKETS; i++) {
        seen += s[b + 3 + i];
        if (seen >= target) return Math.min(upperBoundOf(i), s[b + 2]); // the bucket's upper bound, at most the max
      }
      return s[b + 2];
    };
    let dvs: EngineStats['dvs'] = null;
    if (s[this.dvsBase] === 1) {
      dvs = {} as Record<DvsCounterName, number>;
      for (let i = 0; i < DVS_COUNTER_NAMES.length; i++) dvs[DVS_COUNTER_NAMES[i]] = s[this.dvsBase + 1 + i];
    }
    return {
      counters,
      gauges,
      faultLatencyUs: { count, mean: count ? s[b + 1] / count : 0, p50: quantile(0.5), p99: quantile(0.99), p999: quantile(0.999), max: s[b + 2] },
      dvs,
    };
  }
}
