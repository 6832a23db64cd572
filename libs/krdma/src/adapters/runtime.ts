// Runtime pieces that touch the process (ambient scheduling, crypto randomness, the real clock).
// They live in adapters/ because the determinism rule keeps them out of the cores.
import { randomFillSync } from 'node:crypto';
import { hostname } from 'node:os';
import type { Clock, NonceSource, Scheduler } from '../internal/session/ports.js';

const resolved = Promise.resolve();

/**
 * Runs `fn` as a microtask, FIFO with every other microtask, like `queueMicrotask` but without its
 * per-call async-context wrapper (an AsyncResource and a bound function): ~150 ns against ~250-350
 * ns per call on the development VM, and it is called for every request on the paging path. A
 * throw inside `fn` surfaces as an unhandled rejection, which Node raises as an uncaught exception.
 */
export function deferMicrotask(fn: () => void): void {
  void resolved.then(fn);
}

/** A scheduler running deferred work as microtasks (FIFO). */
export const microtaskScheduler: Scheduler = { defer: deferMicrotask };

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
