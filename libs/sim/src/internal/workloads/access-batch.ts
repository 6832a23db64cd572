// The interface between workloads and the simulated MMU: a reusable struct-of-arrays batch of
// accesses, and one closed-loop access stream per workload thread.

import { WorkloadError } from './errors.js';

/** A reusable batch of accesses, struct of arrays (no object per access). */
export class AccessBatch {
  /** Page number of each access, within the region (0 .. pageCount - 1). */
  readonly pages: Int32Array;
  /** 1 for a write, 0 for a read. */
  readonly writes: Uint8Array;
  /** Compute time in integer nanoseconds spent by the thread before the access. */
  readonly thinkNs: Float64Array;
  /** Number of accesses the batch can hold. */
  readonly capacity: number;

  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1 || capacity > 1 << 26) {
      throw new WorkloadError('invalid-argument', `An AccessBatch needs an integer capacity in [1, 2^26], got ${capacity}.`);
    }
    this.capacity = capacity;
    this.pages = new Int32Array(capacity);
    this.writes = new Uint8Array(capacity);
    this.thinkNs = new Float64Array(capacity);
  }
}

/**
 * The access stream of one workload thread: a closed loop (the next access is issued when the
 * previous one completes). The sequence does not depend on how it is cut into batches.
 */
export interface AccessStream {
  /**
   * Writes the next accesses into `batch` from index 0, at most `max` (>= 1) and at most the
   * batch's capacity, and returns how many; 0 means this thread is done.
   */
  fill(batch: AccessBatch, max: number): number;
}

/** A workload: a region of `pageCount` pages accessed by `threadCount` closed-loop threads. */
export interface Workload {
  /** A short description of the workload (its kind and main parameters). */
  readonly name: string;
  /** Pages of the region the workload addresses (pages are 0 .. pageCount - 1). */
  readonly pageCount: number;
  /** Number of threads; `stream(t)` exists for t in 0 .. threadCount - 1. */
  readonly threadCount: number;
  /** Accesses of all threads together, when known in advance. */
  readonly totalAccesses: number | undefined;
  /**
   * The access stream of thread `thread`. Call it once per thread and run: streams draw from
   * named random streams, so a second call continues those draws rather than restarting them.
   */
  stream(thread: number): AccessStream;
  /** Releases what the workload holds open (trace files); a no-op for synthetic workloads. */
  close(): void;
}

/** Internal: a stream that can fill a range of a batch (used to compose streams). */
export interface RangeFillStream extends AccessStream {
  /** Accesses left (Infinity for an endless stream). */
  readonly remaining: number;
  /** Writes exactly `count` (<= remaining) accesses at batch indices offset .. offset + count - 1. */
  fillRange(batch: AccessBatch, offset: number, count: number): void;
}

/** Checks fill's `max` (>= 1) and returns how many accesses fit: min(max, capacity). */
export function checkFillArguments(batch: AccessBatch, max: number): number {
  if (!(max >= 1)) throw new WorkloadError('invalid-argument', `fill needs max >= 1, got ${max}.`);
  return max < batch.capacity ? Math.floor(max) : batch.capacity;
}
