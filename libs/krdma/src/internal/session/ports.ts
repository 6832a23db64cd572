/**
 * Runs work later, in FIFO order, never from inside the calling function (the loopback's and the
 * session's way to deliver completions asynchronously). Tests may use queueMicrotask or
 * setImmediate (see the adapters); the simulator uses its event queue.
 */
export interface Scheduler {
  defer(fn: () => void): void;
}

/** The current time in integer nanoseconds, from the runtime (real clock or simulated). */
export interface Clock {
  nowNs(): number;
}

/** Fills `into` with fresh random bytes (nonces); from the runtime's random source. */
export type NonceSource = (into: Uint8Array) => void;

/** Timeouts of a connection, in nanoseconds. Every wait has one. */
export interface SessionTimeouts {
  /** A request without an answer by then completes `timeout` (default 5 s). */
  readonly requestTimeoutNs: number;
  /** Authentication must finish by then, or the connection is dropped (default 5 s). */
  readonly handshakeTimeoutNs: number;
  /** After this long without a frame from the peer, ping it (default 1 s). */
  readonly heartbeatIntervalNs: number;
  /** After this long without a frame from the peer, declare it lost (default 5 s). */
  readonly peerDeadAfterNs: number;
}

const SECOND_NS = 1_000_000_000;

/** Default timeouts. */
export const DEFAULT_SESSION_TIMEOUTS: SessionTimeouts = Object.freeze({
  requestTimeoutNs: 5 * SECOND_NS,
  handshakeTimeoutNs: 5 * SECOND_NS,
  heartbeatIntervalNs: SECOND_NS,
  peerDeadAfterNs: 5 * SECOND_NS,
});
