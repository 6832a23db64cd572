// Seeded random numbers and YCSB's zipfian key chooser (Gray et al., "Quickly generating
// billion-record synthetic databases", SIGMOD'94, as in YCSB's ZipfianGenerator), scrambled by a
// seeded permutation so hot keys are spread over the key space (and over the region's pages)
// instead of sitting next to each other.

/** A seeded source of uniform numbers in [0, 1) (mulberry32: small, fast, good enough for load generation). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** YCSB's default zipfian constant. */
export const YCSB_ZIPFIAN_THETA = 0.99;

/** Draws ranks in [0, n) with P(rank i) proportional to 1 / (i + 1)^theta. */
export class ZipfianGenerator {
  private readonly zetaN: number;
  private readonly alpha: number;
  private readonly eta: number;
  private readonly halfPowTheta: number;

  constructor(readonly n: number, readonly theta: number, private readonly random: () => number) {
    if (!Number.isSafeInteger(n) || n < 2) throw new RangeError(`zipfian item count ${n} must be an integer of at least 2`);
    if (!(theta > 0 && theta < 1)) throw new RangeError(`zipfian theta ${theta} must be in (0, 1)`);
    this.zetaN = zeta(n, theta);
    const zeta2 = zeta(2, theta);
    this.alpha = 1 / (1 - theta);
    this.eta = (1 - Math.pow(2 / n, 1 - theta)) / (1 - zeta2 / this.zetaN);
    this.halfPowTheta = 1 + Math.pow(0.5, theta);
  }

  /** Probability of rank `i` (tests). */
  probability(i: number): number {
    return 1 / Math.pow(i + 1, this.theta) / this.zetaN;
  }

  /** The next rank. */
  next(): number {
    const u = this.random();
    const uz = u * this.zetaN;
    if (uz < 1) return 0;
    if (uz < this.halfPowTheta) return 1;
    return Math.min(this.n - 1, Math.floor(this.n * Math.pow(this.eta * u - this.eta + 1, this.alpha)));
  }
}

function zeta(n: number, theta: number): number {
  let sum = 0;
  for (let i = 1; i <= n; i++) sum += 1 / Math.pow(i, theta);
  return sum;
}

/** Zipfian ranks mapped to key indices through a seeded permutation of [0, n). */
export class ScrambledZipfian {
  private readonly ranks: ZipfianGenerator;
  private readonly permutation: Uint32Array;

  constructor(n: number, theta: number, seed: number) {
    const random = seededRandom(seed);
    this.permutation = new Uint32Array(n);
    for (let i = 0; i < n; i++) this.permutation[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      const t = this.permutation[i];
      this.permutation[i] = this.permutation[j];
      this.permutation[j] = t;
    }
    this.ranks = new ZipfianGenerator(n, theta, random);
  }

  /** The key index of rank `rank` (rank 0 is the hottest). */
  keyOfRank(rank: number): number {
    return this.permutation[rank];
  }

  /** The next key index. */
  next(): number {
    return this.permutation[this.ranks.next()];
  }
}
