import { KrdmaError } from './errors.js';

/** How a lost peer is redialled: exponential backoff, bounded, with jitter. */
export interface BackoffPolicy {
  /** Delay before the first redial (default 100 ms). */
  readonly initialDelayNs: number;
  /** Largest delay between redials (default 10 s). */
  readonly maxDelayNs: number;
  /** Redials before giving up (0: never give up; default 0). */
  readonly maxAttempts: number;
  /** A random number in [0, 1) for jitter, from the runtime's (or a seeded) source. */
  readonly random: () => number;
}

const MS_NS = 1_000_000;

/** Default policy without its random source. */
export const DEFAULT_BACKOFF: Omit<BackoffPolicy, 'random'> = Object.freeze({ initialDelayNs: 100 * MS_NS, maxDelayNs: 10_000 * MS_NS, maxAttempts: 0 });

/** Checks a policy; throws KrdmaError `invalid-options`. */
export function checkBackoff(policy: BackoffPolicy): BackoffPolicy {
  const { initialDelayNs, maxDelayNs, maxAttempts } = policy;
  if (!(Number.isFinite(initialDelayNs) && initialDelayNs > 0 && Number.isFinite(maxDelayNs) && maxDelayNs >= initialDelayNs)) {
    throw new KrdmaError('invalid-options', `reconnect delays must satisfy 0 < initialDelayNs <= maxDelayNs, got ${initialDelayNs} and ${maxDelayNs}`);
  }
  if (!(Number.isSafeInteger(maxAttempts) && maxAttempts >= 0)) throw new KrdmaError('invalid-options', `reconnect maxAttempts must be a non-negative integer, got ${maxAttempts}`);
  return policy;
}

/**
 * Delay before redial number `attempt` (0-based): `initial * 2^attempt` capped at `max`, with
 * "equal jitter" (half fixed, half random), so it lies in [cap / 2, cap] and peers that lost the
 * same node do not redial in lockstep. Integer nanoseconds.
 */
export function backoffDelayNs(attempt: number, policy: BackoffPolicy): number {
  const exponent = Math.min(Math.max(0, attempt), 52);
  const cap = Math.min(policy.maxDelayNs, policy.initialDelayNs * 2 ** exponent);
  const r = policy.random();
  const unit = r >= 0 && r < 1 ? r : 0;
  return Math.floor(cap / 2 + (cap / 2) * unit);
}
