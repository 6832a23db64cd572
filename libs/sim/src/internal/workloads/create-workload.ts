// createWorkload: turns a (validated) spec into per-thread access streams. Random streams are
// named `<prefix>/<thread>` for pages, `<prefix>/<thread>/op` for the read/write mix and
// `<prefix>/<thread>/think` for think times (inside phases: `<prefix>/<thread>/phase/<i>...`);
// structures shared by all threads (the pointer-chase cycle, the gemm permutation) come from
// `<prefix>/shared[/phase/<i>]/<purpose>`. The default prefix is `workload`.

import type { RangeFillStream, Workload } from './access-batch.js';
import { WorkloadError } from './errors.js';
import type { PageGenerator } from './generated-stream.js';
import { GeneratedStream, PhasedStream, splitSlice } from './generated-stream.js';
import { GemmGenerator, gemmAccesses, gemmPermutation } from './generators/gemm.js';
import { HotspotGenerator, hotPageCount, percentToPpm } from './generators/hotspot.js';
import { InterleavedGenerator } from './generators/interleaved.js';
import { PointerChaseGenerator } from './generators/pointer-chase.js';
import { SequentialGenerator } from './generators/sequential.js';
import { StridedGenerator } from './generators/strided.js';
import { TouchGenerator } from './generators/touch.js';
import { UniformGenerator } from './generators/uniform.js';
import { WorkingSetShiftGenerator } from './generators/working-set-shift.js';
import { ZipfianPageGenerator } from './generators/zipfian.js';
import type { WorkloadRandom, WorkloadRandomFactory } from './random.js';
import { randomCycle } from './random.js';
import type { PhaseSubSpec, TraceSpec, WorkloadSpec } from './spec.js';
import { openTrace } from './trace/open-trace.js';
import type { ByteSource } from './trace/records.js';
import { createTraceWorkload } from './trace/trace-workload.js';
import { gemmMatrixSize, specPageCount, validateWorkloadSpec } from './validate.js';
import { zeta } from '../zipfian.js';

/** Options of createWorkload. */
export interface CreateWorkloadOptions {
  /** Prefix of the random stream names (default `workload`); give each workload of a run its own. */
  streamPrefix?: string;
  /** Opens the file of a `trace` spec (the file adapter provides one); required for traces. */
  openTraceSource?: (path: string) => ByteSource;
  /** The spec's location for error messages (default `workload`). */
  specPath?: string;
}

type AnySynthetic = Exclude<WorkloadSpec, TraceSpec> | PhaseSubSpec;

/** What one generator instance needs to know about its place. */
interface Placement {
  thread: number;
  threadCount: number;
  /** First page of the (sub-)workload within the region. */
  pageOffset: number;
  /** Pages of the (sub-)workload. */
  pageCount: number;
  /** Names: `<prefix>/<thread><suffix>` and `<prefix>/shared<suffix>/...`. */
  suffix: string;
}

/**
 * Builds a workload from a spec (validated here too). `rng(name)` returns the named random
 * stream (e.g. `(name) => simulation.random.stream(name)`); each thread draws only from its own
 * streams, so adding a thread never changes another thread's sequence.
 */
export function createWorkload(spec: WorkloadSpec, rng: WorkloadRandomFactory, options: CreateWorkloadOptions = {}): Workload {
  const specPath = options.specPath ?? 'workload';
  const valid = validateWorkloadSpec(spec, specPath);
  if (valid.kind === 'trace') {
    if (options.openTraceSource === undefined) {
      throw new WorkloadError('trace-source-missing', `${specPath}: a trace workload needs a way to open "${valid.path}"; use createFileWorkload from the trace file adapter, or pass options.openTraceSource.`, `${specPath}.path`);
    }
    const source = options.openTraceSource(valid.path);
    return createTraceWorkload(valid, openTrace(source, valid.format ?? 'auto', valid.lackey ?? {}), source.name, specPath);
  }
  return new SyntheticWorkload(valid, rng, options.streamPrefix ?? 'workload');
}

class SyntheticWorkload implements Workload {
  readonly name: string;
  readonly pageCount: number;
  readonly threadCount: number;
  readonly totalAccesses: number;
  private readonly shared = new Map<string, unknown>();

  constructor(
    private readonly spec: Exclude<WorkloadSpec, TraceSpec>,
    private readonly rng: WorkloadRandomFactory,
    private readonly prefix: string,
  ) {
    this.pageCount = specPageCount(spec) as number;
    this.threadCount = spec.threadCount ?? 1;
    this.name = describe(spec);
    let total = 0;
    for (let t = 0; t < this.threadCount; t++) total += this.accessesOf(t);
    this.totalAccesses = total;
  }

  stream(thread: number): RangeFillStream {
    if (!Number.isInteger(thread) || thread < 0 || thread >= this.threadCount) {
      throw new WorkloadError('invalid-argument', `Thread ${thread} does not exist; this workload has threads 0 .. ${this.threadCount - 1}.`);
    }
    const spec = this.spec;
    const total = this.accessesOf(thread);
    if (spec.kind === 'phases') {
      const subs = spec.phases.map((sub, i) => {
        const pageOffset = (sub as { pageOffset?: number }).pageOffset ?? 0;
        const placement: Placement = {
          thread, threadCount: this.threadCount, pageOffset,
          pageCount: specPageCount(sub, spec.pageCount - pageOffset) as number, suffix: `/phase/${i}`,
        };
        return this.generated(sub, placement, Number.POSITIVE_INFINITY);
      });
      return new PhasedStream(subs, spec.switchEvery, total);
    }
    return this.generated(spec, { thread, threadCount: this.threadCount, pageOffset: 0, pageCount: this.pageCount, suffix: '' }, total);
  }

  close(): void {}

  /** Accesses of thread t (the spec's count, or the kind's default). */
  private accessesOf(thread: number): number {
    const spec = this.spec;
    if (spec.kind === 'phases') return spec.accessesPerThread ?? spec.switchEvery * spec.phases.length;
    const place: Placement = { thread, threadCount: this.threadCount, pageOffset: 0, pageCount: this.pageCount, suffix: '' };
    if (spec.kind === 'touch') return 2 * slice(spec, place).size;
    if (spec.kind === 'gemm') {
      const n = gemmMatrixSize(spec);
      const rows = splitSlice(n, thread, this.threadCount).size;
      return gemmAccesses(n, rows, spec.initialize ?? true, spec.cUpdate === 'accumulate');
    }
    if (spec.accessesPerThread !== undefined) return spec.accessesPerThread;
    if (spec.kind === 'interleaved') return interleavedSlices(spec, place).sizes.reduce((a, b) => a + b, 0);
    const span = slice(spec, place).size;
    switch (spec.kind) {
      case 'sequential':
      case 'strided':
        return span * (spec.passes ?? 1);
      case 'working-set-shift': {
        const { shiftPages, shiftEvery } = windowOf(spec, span);
        return shiftEvery * Math.ceil(span / shiftPages);
      }
      default:
        return span;
    }
  }

  private random(name: string): () => WorkloadRandom {
    return () => this.rng(name);
  }

  private sharedValue<T>(key: string, make: () => T): T {
    if (!this.shared.has(key)) this.shared.set(key, make());
    return this.shared.get(key) as T;
  }

  private generated(spec: AnySynthetic, place: Placement, accesses: number): GeneratedStream {
    const base = `${this.prefix}/${place.thread}${place.suffix}`;
    const withThink = spec as { thinkNs?: number; thinkDistribution?: 'constant' | 'exponential'; writeNumerator?: number; writeDenominator?: number };
    return new GeneratedStream(this.generator(spec, place, base), accesses, {
      writeNumerator: withThink.writeNumerator ?? 0,
      writeDenominator: withThink.writeDenominator ?? 1,
      thinkNs: withThink.thinkNs ?? 0,
      thinkDistribution: withThink.thinkDistribution ?? 'constant',
      pageOffset: place.pageOffset,
      opRandom: this.random(`${base}/op`),
      thinkRandom: this.random(`${base}/think`),
    });
  }

  private generator(spec: AnySynthetic, place: Placement, base: string): PageGenerator {
    const sharedName = `${this.prefix}/shared${place.suffix}`;
    if (spec.kind === 'interleaved') {
      const { firsts, sizes } = interleavedSlices(spec, place);
      const random = (spec.order ?? 'round-robin') === 'random' ? this.rng(base) : undefined;
      return new InterleavedGenerator(Int32Array.from(firsts), Int32Array.from(sizes), spec.direction === 'backward', spec.burstLength ?? 1, random);
    }
    if (spec.kind === 'gemm') {
      const n = gemmMatrixSize(spec);
      const permutation = this.sharedValue(`${sharedName}/gemm`, () => gemmPermutation(n, spec.permutation ?? 'original', this.rng(`${sharedName}/gemm`)));
      const rows = splitSlice(n, place.thread, place.threadCount);
      return new GemmGenerator(0, n, permutation, rows.first, rows.first + rows.size, spec.pageSizeBytes ?? 4096, spec.initialize ?? true, spec.cUpdate === 'accumulate');
    }
    const { first, size } = slice(spec, place);
    switch (spec.kind) {
      case 'sequential':
        return new SequentialGenerator(first, size, spec.direction === 'backward');
      case 'strided':
        return new StridedGenerator(first, size, spec.stridePages);
      case 'uniform':
        return new UniformGenerator(first, size, this.rng(base));
      case 'zipfian': {
        const theta = spec.theta ?? 0.99;
        const zetaN = this.sharedValue(`zeta/${size}/${theta}`, () => zeta(size, theta));
        return new ZipfianPageGenerator(first, size, theta, spec.scrambled ?? false, zetaN, this.rng(base));
      }
      case 'hotspot':
        return new HotspotGenerator(first, size, hotPageCount(size, spec.hotPagePercent ?? 20), percentToPpm(spec.hotAccessPercent ?? 80), this.rng(base));
      case 'pointer-chase': {
        const random = this.rng(base);
        if ((spec.layout ?? 'shared') === 'shared') {
          const cycle = this.sharedValue(`${sharedName}/pointer-chase`, () => randomCycle(size, this.rng(`${sharedName}/pointer-chase`)));
          return new PointerChaseGenerator(first, cycle, random.intBelow(size));
        }
        const cycle = randomCycle(size, random);
        return new PointerChaseGenerator(first, cycle, random.intBelow(size));
      }
      case 'working-set-shift': {
        const { windowPages, shiftPages, shiftEvery } = windowOf(spec, size);
        return new WorkingSetShiftGenerator(first, size, windowPages, shiftPages, shiftEvery, this.rng(base));
      }
      case 'touch':
        return new TouchGenerator(first, size);
      default:
        throw new WorkloadError('invalid-workload', `Unknown workload kind ${(spec as { kind: string }).kind}.`);
    }
  }
}

/** The thread's slice of a (sub-)workload's pages, relative to the sub-workload's first page. */
function slice(spec: AnySynthetic, place: Placement): { first: number; size: number } {
  const layout = spec.kind === 'touch' ? 'split' : (spec as { layout?: string }).layout ?? (spec.kind === 'sequential' || spec.kind === 'strided' ? 'split' : 'shared');
  return layout === 'split' ? splitSlice(place.pageCount, place.thread, place.threadCount) : { first: 0, size: place.pageCount };
}

/** Stream slices of a thread of an interleaved spec. */
function interleavedSlices(spec: Extract<AnySynthetic, { kind: 'interleaved' }>, place: Placement): { firsts: number[]; sizes: number[] } {
  const streams = spec.streams ?? 4;
  const perThread = (spec.mixing ?? 'per-thread') === 'per-thread';
  const slices = perThread ? streams * place.threadCount : streams;
  const firsts: number[] = [];
  const sizes: number[] = [];
  for (let s = 0; s < slices; s++) {
    const mine = perThread ? Math.floor(s / streams) === place.thread : s % place.threadCount === place.thread;
    if (!mine) continue;
    const { first, size } = splitSlice(place.pageCount, s, slices);
    firsts.push(first);
    sizes.push(size);
  }
  return { firsts, sizes };
}

function windowOf(spec: Extract<AnySynthetic, { kind: 'working-set-shift' }>, span: number): { windowPages: number; shiftPages: number; shiftEvery: number } {
  const windowPages = Math.min(span, spec.windowPages ?? Math.max(1, Math.floor(span / 8)));
  const shiftPages = spec.shiftPages ?? Math.max(1, Math.floor(windowPages / 4));
  return { windowPages, shiftPages, shiftEvery: spec.shiftEvery ?? windowPages };
}

/** A one-line description: the kind and the fields given. */
function describe(spec: Exclude<WorkloadSpec, TraceSpec>): string {
  const fields = Object.entries(spec)
    .filter(([key]) => key !== 'kind' && key !== 'phases')
    .map(([key, value]) => `${key}=${String(value)}`);
  const kind = spec.kind === 'phases' ? `phases(${spec.phases.map((p) => p.kind).join(',')})` : spec.kind;
  if (spec.kind === 'gemm') fields.push(`N=${gemmMatrixSize(spec)}`);
  return [kind, ...fields].join(' ');
}
