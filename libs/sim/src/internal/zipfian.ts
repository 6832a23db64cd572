// YCSB's zipfian generator (Gray et al., "Quickly generating billion-record synthetic
// databases", SIGMOD'94): constant time per draw after an O(n) precomputation of zeta(n, theta).
// The scrambled variant spreads the popular ranks over the item space with 32-bit FNV-1a.

import { fnv1a32Integer } from './digest.js';
import { SimError } from './errors.js';

/** A source of uniform doubles in [0, 1) (a `RandomStream` is one). */
export interface UnitIntervalSource {
  /** A double in [0, 1). */
  nextDouble(): number;
}

/** Options of a zipfian generator. */
export interface ZipfianOptions {
  /** Skew in (0, 1); YCSB's default is 0.99. */
  theta?: number;
  /** Precomputed zeta(itemCount, theta), to skip the O(itemCount) sum for huge item counts. */
  zetaN?: number;
}

/** zeta(n, theta) = sum over i = 1..n of 1 / i^theta, summed in increasing i. */
export function zeta(itemCount: number, theta: number): number {
  let sum = 0;
  for (let i = 1; i <= itemCount; i++) sum += 1 / Math.pow(i, theta);
  return sum;
}

/** Draws ranks in [0, itemCount); rank 0 is the most popular. */
export class ZipfianGenerator {
  /** Number of items (ranks are 0 .. itemCount - 1). */
  readonly itemCount: number;
  /** The skew. */
  readonly theta: number;
  /** zeta(itemCount, theta). */
  readonly zetaN: number;
  private readonly source: UnitIntervalSource;
  private readonly alpha: number;
  private readonly eta: number;
  private readonly secondThreshold: number;

  constructor(source: UnitIntervalSource, itemCount: number, options: ZipfianOptions = {}) {
    const theta = options.theta ?? 0.99;
    if (!Number.isSafeInteger(itemCount) || itemCount < 1) {
      throw new SimError('invalid-argument', `A zipfian generator needs an integer itemCount >= 1, got ${itemCount}.`);
    }
    if (!(theta > 0 && theta < 1)) {
      throw new SimError('invalid-argument', `A zipfian generator needs 0 < theta < 1, got ${theta}.`);
    }
    this.source = source;
    this.itemCount = itemCount;
    this.theta = theta;
    this.zetaN = options.zetaN ?? zeta(itemCount, theta);
    const zeta2 = zeta(2, theta);
    this.alpha = 1 / (1 - theta);
    this.eta = (1 - Math.pow(2 / itemCount, 1 - theta)) / (1 - zeta2 / this.zetaN);
    this.secondThreshold = 1 + Math.pow(0.5, theta);
  }

  /** The next rank, in [0, itemCount). */
  next(): number {
    const u = this.source.nextDouble();
    const uz = u * this.zetaN;
    if (uz < 1) return 0;
    if (uz < this.secondThreshold) return Math.min(1, this.itemCount - 1);
    const rank = Math.floor(this.itemCount * Math.pow(this.eta * u - this.eta + 1, this.alpha));
    return Math.min(rank, this.itemCount - 1);
  }
}

/** YCSB's scrambled zipfian: zipfian ranks hashed with FNV-1a so hot items are spread out. */
export class ScrambledZipfianGenerator {
  /** Number of items (values are 0 .. itemCount - 1). */
  readonly itemCount: number;
  private readonly ranks: ZipfianGenerator;

  constructor(source: UnitIntervalSource, itemCount: number, options: ZipfianOptions = {}) {
    if (!Number.isSafeInteger(itemCount) || itemCount < 1 || itemCount > 4294967296) {
      throw new SimError('invalid-argument', `A scrambled zipfian generator needs an integer itemCount in [1, 2^32], got ${itemCount}.`);
    }
    this.itemCount = itemCount;
    this.ranks = new ZipfianGenerator(source, itemCount, options);
  }

  /** The next item, in [0, itemCount). */
  next(): number {
    return fnv1a32Integer(this.ranks.next()) % this.itemCount;
  }
}
