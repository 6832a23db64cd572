// Named, seeded random streams with an integer-first API. A stream named `name` under the root
// seed `rootSeed` is `seedrandom.alea(rootSeed + "/" + name)`, so adding a consumer never shifts
// another's draws. Every raw 32-bit draw is mixed into the simulation's digest.

import seedrandom from 'seedrandom';
import { Digest, fnv1a32String } from './digest.js';
import { SimError } from './errors.js';

const TWO_POW_32 = 4294967296;
const TWO_POW_53 = 9007199254740992;
const TWO_POW_MINUS_53 = 1.1102230246251565e-16;

/** The structural interface the storage layer needs from a random source. */
export interface RandomSource {
  /** An integer in [0, bound), uniformly distributed. */
  intBelow(bound: number): number;
}

/** One named random stream. Obtain it from `RandomStreams.stream(name)`. */
export class RandomStream implements RandomSource {
  /** The stream's name (without the root seed). */
  readonly name: string;
  /** 32-bit FNV-1a of the name; identifies this stream's draws in the digest. */
  readonly streamId: number;
  private readonly next: () => number;
  private readonly digest: Digest;
  private draws = 0;
  private cachedBound = Number.NaN; // never equal to a bound, so the first call validates
  private cachedLimit = 0;

  /** Use `RandomStreams.stream(name)`; this constructor is for the streams registry. */
  constructor(rootSeed: string, name: string, digest: Digest) {
    this.name = name;
    this.streamId = fnv1a32String(name);
    this.next = seedrandom.alea(`${rootSeed}/${name}`);
    this.digest = digest;
  }

  /** Number of raw 32-bit draws taken from this stream. */
  get drawCount(): number {
    return this.draws;
  }

  /** A uniformly distributed integer in [0, 2^32). */
  nextUint32(): number {
    const value = this.next() * TWO_POW_32;
    this.draws++;
    this.digest.mixDraw(this.streamId, value);
    return value;
  }

  /** A uniformly distributed double in [0, 1) with 53 random bits (two draws). */
  nextDouble(): number {
    const high = this.nextUint32() >>> 11;
    return (high * TWO_POW_32 + this.nextUint32()) * TWO_POW_MINUS_53;
  }

  /** An unbiased integer in [0, bound) by rejection; `bound` is an integer in [1, 2^53]. */
  intBelow(bound: number): number {
    if (bound !== this.cachedBound) this.setBound(bound);
    const limit = this.cachedLimit;
    if (bound <= TWO_POW_32) {
      let value = this.nextUint32();
      while (value >= limit) value = this.nextUint32();
      return value % bound;
    }
    let value = (this.nextUint32() >>> 11) * TWO_POW_32 + this.nextUint32();
    while (value >= limit) value = (this.nextUint32() >>> 11) * TWO_POW_32 + this.nextUint32();
    return value % bound;
  }

  /** An unbiased integer in [min, max]; both ends are safe integers. */
  intInclusive(min: number, max: number): number {
    if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || max < min || max - min + 1 > TWO_POW_53) {
      throw new SimError('invalid-argument', `intInclusive needs safe integers min <= max with a span of at most 2^53, got [${min}, ${max}].`);
    }
    return min + this.intBelow(max - min + 1);
  }

  /** True with probability numerator / denominator (always takes one draw). */
  chance(numerator: number, denominator: number): boolean {
    if (!Number.isSafeInteger(numerator) || !Number.isSafeInteger(denominator) || denominator < 1 || numerator < 0 || numerator > denominator) {
      throw new SimError('invalid-argument', `chance needs integers 0 <= numerator <= denominator, denominator >= 1; got ${numerator}/${denominator}.`);
    }
    return this.intBelow(denominator) < numerator;
  }

  /** An exponentially distributed duration with mean `meanNs`, rounded once to an integer. */
  exponentialNs(meanNs: number): number {
    if (!(meanNs >= 0) || !Number.isFinite(meanNs)) {
      throw new SimError('invalid-argument', `exponentialNs needs a finite mean >= 0, got ${meanNs}.`);
    }
    // u in (0, 1]: 1 - nextDouble() never reaches 0, so the logarithm is finite.
    return Math.round(-meanNs * Math.log(1 - this.nextDouble()));
  }

  /** A uniformly chosen element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new SimError('invalid-argument', 'pick needs a non-empty array.');
    return items[this.intBelow(items.length)];
  }

  /** Shuffles `items` in place (Fisher–Yates) and returns it. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.intBelow(i + 1);
      const held = items[i];
      items[i] = items[j];
      items[j] = held;
    }
    return items;
  }

  private setBound(bound: number): void {
    if (!Number.isSafeInteger(bound) && bound !== TWO_POW_53) {
      throw new SimError('invalid-argument', `intBelow needs an integer bound in [1, 2^53], got ${bound}.`);
    }
    if (bound < 1 || bound > TWO_POW_53) {
      throw new SimError('invalid-argument', `intBelow needs an integer bound in [1, 2^53], got ${bound}.`);
    }
    const range = bound <= TWO_POW_32 ? TWO_POW_32 : TWO_POW_53;
    this.cachedLimit = range - (range % bound);
    this.cachedBound = bound;
  }
}

/**
 * The registry of named streams of one simulation. `stream(name)` returns the same stream object
 * for the same name; its sequence depends only on the root seed and the name.
 */
export class RandomStreams {
  /** The root seed as a string ("42" and 42 are the same seed). */
  readonly rootSeed: string;
  /** The digest every draw of every stream is mixed into. */
  readonly digest: Digest;
  private readonly streams = new Map<string, RandomStream>();

  constructor(rootSeed: string | number, digest: Digest = new Digest()) {
    if (typeof rootSeed === 'number' && (!Number.isSafeInteger(rootSeed) || rootSeed < 0)) {
      throw new SimError('invalid-argument', `A numeric root seed must be a non-negative safe integer, got ${rootSeed}.`);
    }
    this.rootSeed = String(rootSeed);
    this.digest = digest;
  }

  /** The stream called `name` (created on first use). */
  stream(name: string): RandomStream {
    let stream = this.streams.get(name);
    if (stream === undefined) {
      if (name.length === 0) throw new SimError('invalid-argument', 'A random stream needs a non-empty name.');
      stream = new RandomStream(this.rootSeed, name, this.digest);
      this.streams.set(name, stream);
    }
    return stream;
  }

  /** Names of the streams created so far, in creation order. */
  names(): string[] {
    return [...this.streams.keys()];
  }

  /**
   * The "unseed": one draw from a dedicated stream seeded with the root seed and the current
   * digest, so it differs whenever the run's events or draws differ (a plain named stream would
   * depend on the seed only). Does not change the digest.
   */
  unseed(): number {
    return seedrandom.alea(`${this.rootSeed}/unseed/${this.digest.hex()}`)() * TWO_POW_32;
  }
}
