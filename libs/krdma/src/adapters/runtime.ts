// Runtime pieces that touch the process (ambient scheduling, crypto randomness, the real clock).
// They live in adapters/ because the determinism rule keeps them out of the cores.
import { randomFillSync } from 'node:crypto';
import { hostname } from 'node:os';
import type { Clock, NonceSource, Scheduler } from '../internal/session/ports.js';

/** A scheduler running deferred work as microtasks (FIFO). */
export const microtaskScheduler: Scheduler = { defer: (fn) => queueMicrotask(fn) };

/** A scheduler running deferred work with setImmediate (FIFO; lets I/O interleave). */
export const immediateScheduler: Scheduler = { defer: (fn) => void setImmediate(fn) };

/** Nonces from the operating system's CSPRNG. */
export const cryptoNonceSource: NonceSource = (into) => void randomFillSync(into);

/**
 * The process's monotonic clock in integer nanoseconds (from `performance.now()`, which is
 * monotonic and, unlike `process.hrtime.bigint()`, allocates nothing per call).
 */
export const monotonicClock: Clock = { nowNs: () => Math.floor(performance.now() * 1e6) };

/** The default node name: the host name (as the original krdma). */
export function defaultNodeName(): string {
  return hostname();
}
