// The stream of one thread of a synthetic workload: a page generator plus the read/write mix and
// the think time. Pages, ops and think times draw from three separate named streams, so the
// sequence is the same however the MMU cuts it into batches.

import type { AccessBatch, RangeFillStream } from './access-batch.js';
import { checkFillArguments } from './access-batch.js';
import type { WorkloadRandom } from './random.js';

/** Produces the page sequence of one thread (endless: it cycles when its pattern ends). */
export interface PageGenerator {
  /** True when the generator sets `writes` itself (touch, gemm); otherwise the mix decides. */
  readonly decidesWrites: boolean;
  /** Writes `count` pages at pages[offset ..] (and writes[offset ..] when decidesWrites). */
  fillPages(pages: Int32Array, writes: Uint8Array, offset: number, count: number): void;
}

/** Read/write mix and think time of one thread. */
export interface MixOptions {
  writeNumerator: number;
  writeDenominator: number;
  thinkNs: number;
  thinkDistribution: 'constant' | 'exponential';
  /** Added to every generated page (a phase's position in its parent's region). */
  pageOffset: number;
  /** Draws the writes when 0 < writeNumerator < writeDenominator. */
  opRandom: () => WorkloadRandom;
  /** Draws exponential think times. */
  thinkRandom: () => WorkloadRandom;
}

/** A generator with a count limit, a read/write mix and think times. */
export class GeneratedStream implements RangeFillStream {
  private left: number;
  private opRandom: WorkloadRandom | undefined;
  private thinkRandom: WorkloadRandom | undefined;

  constructor(
    private readonly generator: PageGenerator,
    accesses: number,
    private readonly mix: MixOptions,
  ) {
    this.left = accesses;
  }

  get remaining(): number {
    return this.left;
  }

  fill(batch: AccessBatch, max: number): number {
    const limit = checkFillArguments(batch, max);
    const count = this.left < limit ? this.left : limit;
    if (count > 0) this.fillRange(batch, 0, count);
    return count;
  }

  fillRange(batch: AccessBatch, offset: number, count: number): void {
    this.left -= count;
    const { pages, writes, thinkNs } = batch;
    const end = offset + count;
    const mix = this.mix;
    this.generator.fillPages(pages, writes, offset, count);
    if (mix.pageOffset !== 0) for (let i = offset; i < end; i++) pages[i] += mix.pageOffset;
    if (!this.generator.decidesWrites) {
      const numerator = mix.writeNumerator;
      const denominator = mix.writeDenominator;
      if (numerator === 0) writes.fill(0, offset, end);
      else if (numerator === denominator) writes.fill(1, offset, end);
      else {
        const random = (this.opRandom ??= mix.opRandom());
        for (let i = offset; i < end; i++) writes[i] = random.intBelow(denominator) < numerator ? 1 : 0;
      }
    }
    if (mix.thinkDistribution === 'constant' || mix.thinkNs === 0) thinkNs.fill(mix.thinkNs, offset, end);
    else {
      const random = (this.thinkRandom ??= mix.thinkRandom());
      const mean = mix.thinkNs;
      for (let i = offset; i < end; i++) thinkNs[i] = random.exponentialNs(mean);
    }
  }
}

/** Cycles through sub-streams, switching every `switchEvery` accesses. */
export class PhasedStream implements RangeFillStream {
  private left: number;
  private current = 0;
  private inPhase = 0;

  constructor(
    private readonly phases: readonly RangeFillStream[],
    private readonly switchEvery: number,
    accesses: number,
  ) {
    this.left = accesses;
  }

  get remaining(): number {
    return this.left;
  }

  fill(batch: AccessBatch, max: number): number {
    const limit = checkFillArguments(batch, max);
    const count = this.left < limit ? this.left : limit;
    if (count > 0) this.fillRange(batch, 0, count);
    return count;
  }

  fillRange(batch: AccessBatch, offset: number, count: number): void {
    this.left -= count;
    while (count > 0) {
      const room = this.switchEvery - this.inPhase;
      const n = count < room ? count : room;
      this.phases[this.current].fillRange(batch, offset, n);
      offset += n;
      count -= n;
      this.inPhase += n;
      if (this.inPhase === this.switchEvery) {
        this.inPhase = 0;
        this.current = this.current + 1 === this.phases.length ? 0 : this.current + 1;
      }
    }
  }
}

/** The contiguous slice [first, first + size) of `pageCount` pages owned by thread t of n. */
export function splitSlice(pageCount: number, thread: number, threads: number): { first: number; size: number } {
  const first = Math.floor((thread * pageCount) / threads);
  const next = Math.floor(((thread + 1) * pageCount) / threads);
  return { first, size: next - first };
}
