/** Operations main sends to the pager over the control ring. */
export const PagerOp = {
  /** Evict pages `[first, first + count)`; `arg` is the method (see {@link EvictMethod}). */
  Evict: 1,
  /** Poison pages: later accesses get SIGBUS. */
  Poison: 2,
  /** Fill pages nobody waits on yet (several contiguous pages per UFFDIO_COPY). */
  Prefetch: 3,
  /** Does nothing; completes when every earlier command has (a barrier). */
  Barrier: 4,
} as const;

/** How pages are evicted. */
export const EvictMethod = {
  /** UFFDIO_MOVE into the store area: atomic, zero-copy (private anonymous memory only). */
  Move: 0,
  /** Write-protect, copy out, MADV_DONTNEED: works where MOVE does not (e.g. shared memory). */
  CopyOut: 1,
} as const;

interface AtomicsWaitAsync {
  waitAsync(ta: Int32Array, index: number, value: number, timeoutMs: number): { async: boolean; value: Promise<string> | string };
}

const HEAD = 0; // next entry the consumer reads (written by the pager)
const TAIL = 1; // next entry the producer writes (written by main)
const DONE = 2; // commands completed (written by the pager; main waits on it)
const HEADER_INTS = 4;
const ENTRY_INTS = 4;

/** Default bound on commands in flight. */
export const DEFAULT_RING_CAPACITY = 256;

/** Thrown when the ring is full: the pager has not completed `capacity` earlier commands. */
export class ControlRingFullError extends Error {
  readonly code = 'control-ring-full';
  constructor(capacity: number) {
    super(`the pager has ${capacity} commands in flight: wait for earlier commands to complete before sending more`);
    this.name = 'ControlRingFullError';
  }
}

/**
 * A single-producer (main), single-consumer (pager) ring of commands in a SharedArrayBuffer.
 * Each entry is {op, firstPage, count, arg}; sequence numbers count from 1. The pager stores a
 * result per command (0 or a negative error code) before it advances DONE, so main can wait for
 * `done >= seq` (Atomics.wait / waitAsync on the DONE slot) and then read `result(seq)`.
 * Bounded: `push` throws {@link ControlRingFullError} when `capacity` commands are unfinished.
 */
export class ControlRing {
  readonly ints: Int32Array;
  readonly capacity: number;

  constructor(readonly sab: SharedArrayBuffer) {
    this.ints = new Int32Array(sab);
    this.capacity = (this.ints.length - HEADER_INTS) / (ENTRY_INTS + 1);
  }

  /** Allocates the shared memory for a ring of `capacity` entries. */
  static create(capacity = DEFAULT_RING_CAPACITY): ControlRing {
    return new ControlRing(new SharedArrayBuffer((HEADER_INTS + capacity * (ENTRY_INTS + 1)) * 4));
  }

  /** Producer: appends a command; returns its sequence number. */
  push(op: number, firstPage: number, count: number, arg: number): number {
    const tail = Atomics.load(this.ints, TAIL);
    if (tail - Atomics.load(this.ints, DONE) >= this.capacity) throw new ControlRingFullError(this.capacity);
    const e = HEADER_INTS + (tail % this.capacity) * ENTRY_INTS;
    this.ints[e] = op;
    this.ints[e + 1] = firstPage;
    this.ints[e + 2] = count;
    this.ints[e + 3] = arg;
    Atomics.store(this.ints, TAIL, tail + 1);
    return tail + 1;
  }

  /** Commands completed so far (the last completed sequence number). */
  get done(): number {
    return Atomics.load(this.ints, DONE);
  }

  /** Result of command `seq` (valid once `done >= seq`, until `capacity` later commands complete). */
  result(seq: number): number {
    return Atomics.load(this.ints, this.resultIndex(seq));
  }

  /** Blocks the calling thread until `done >= seq` or the timeout; true when done. Never use from the pager. */
  waitSync(seq: number, timeoutMs: number): boolean {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const done = Atomics.load(this.ints, DONE);
      if (done >= seq) return true;
      const left = deadline - performance.now();
      if (left <= 0) return false;
      Atomics.wait(this.ints, DONE, done, left);
    }
  }

  /** Waits without blocking the event loop until `done >= seq` or the timeout; true when done. */
  async wait(seq: number, timeoutMs: number): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const done = Atomics.load(this.ints, DONE);
      if (done >= seq) return true;
      const left = deadline - performance.now();
      if (left <= 0) return false;
      // Atomics.waitAsync exists on Node 20 (V8) but is ES2024, beyond the ES2022 lib we compile against.
      const w = (Atomics as unknown as AtomicsWaitAsync).waitAsync(this.ints, DONE, done, left);
      if (w.async) await w.value;
    }
  }

  /** Consumer: commands waiting. */
  get pending(): number {
    return Atomics.load(this.ints, TAIL) - Atomics.load(this.ints, HEAD);
  }

  /**
   * Consumer: runs `execute(op, firstPage, count, arg)` for every pending command, in order,
   * storing its result and completing it. Returns how many ran.
   */
  drain(execute: (op: number, firstPage: number, count: number, arg: number) => number): number {
    let head = Atomics.load(this.ints, HEAD);
    const tail = Atomics.load(this.ints, TAIL);
    const ran = tail - head;
    while (head < tail) {
      const e = HEADER_INTS + (head % this.capacity) * ENTRY_INTS;
      const result = execute(this.ints[e], this.ints[e + 1], this.ints[e + 2], this.ints[e + 3]);
      head++;
      Atomics.store(this.ints, this.resultIndex(head), result);
      Atomics.store(this.ints, HEAD, head);
      Atomics.store(this.ints, DONE, head);
      Atomics.notify(this.ints, DONE);
    }
    return ran;
  }

  private resultIndex(seq: number): number {
    return HEADER_INTS + this.capacity * ENTRY_INTS + (seq % this.capacity);
  }
}
