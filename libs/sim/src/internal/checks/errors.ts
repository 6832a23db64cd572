// Typed checker failures. Every failure carries a one-line repro (seed + scenario digest) and the
// simulated time at which it was detected.

/** What a checker found. */
export type SimCheckCode =
  /** A read returned a version other than the last one written (shadow memory). */
  | 'shadow-mismatch'
  /** A page was poisoned (SIGBUS) although storage never reported it lost. */
  | 'poisoned-without-loss'
  /** A page was lost or poisoned although replication should have kept it. */
  | 'page-lost-despite-replication'
  /** Resident pages exceed the local budget while the region is quiet. */
  | 'budget-exceeded'
  /** Threads did not finish within the simulated-time budget. */
  | 'liveness'
  /** The paging engine's own bookkeeping check failed. */
  | 'engine-invariant';

/** Identity of the run a failure belongs to (for the repro line). */
export interface RunIdentity {
  seed: string;
  scenarioName: string;
  scenarioDigest: string;
}

/** A checker failure: `code`, the simulated time, and `repro`, one line that reproduces it. */
export class SimCheckError extends Error {
  readonly code: SimCheckCode;
  readonly simulatedNs: number;
  readonly repro: string;
  readonly seed: string;
  readonly scenarioDigest: string;

  constructor(code: SimCheckCode, detail: string, simulatedNs: number, identity: RunIdentity) {
    const repro = `repro: rackmem-sim run ${identity.scenarioName} --seed ${identity.seed}  # scenario ${identity.scenarioDigest}, ${code} at ${simulatedNs} ns`;
    super(`${code} at ${simulatedNs} ns: ${detail}\n${repro}`);
    this.name = 'SimCheckError';
    this.code = code;
    this.simulatedNs = simulatedNs;
    this.repro = repro;
    this.seed = identity.seed;
    this.scenarioDigest = identity.scenarioDigest;
  }
}
