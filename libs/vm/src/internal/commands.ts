import { VmError } from './errors.js';

/**
 * Commands the engine emits for a runtime to carry out. The runtime reports completions back as
 * events (`fetchDone`, `writebackDone`); every other command is carried out synchronously.
 */
export const Command = {
  /** Read page `page` from storage into frame `frame`; then call `fetchDone(page, ok)`. */
  Fetch: 1,
  /** Like Fetch, but speculative: nobody waits yet (a runtime may queue it behind demand reads). */
  Prefetch: 2,
  /** Fill frame `frame` with zeros (first touch; a recycled frame never leaks old data). */
  ZeroFill: 3,
  /** Install frame `frame` at page `page` and wake its waiters; `arg` = 1 maps write-protected. */
  Map: 4,
  /** Remove the mapping of `page` (keep the frame's contents); the next access faults. */
  Unmap: 5,
  /** Write the pages of batch `arg` (see `batchPages`) to storage; then `writebackDone(arg, ok)`. */
  Writeback: 6,
  /** Storage may forget its copy of `page` (it is stale or no longer needed). */
  Discard: 7,
  /** `page` cannot be restored: make every access fail (SIGBUS), never read as zeros. */
  Poison: 8,
  /** `page` is already mapped: wake the threads that faulted on it (collision). */
  Wake: 9,
  /** `page` became dirty: remove its write protection. */
  Unprotect: 10,
} as const;
export type CommandKind = (typeof Command)[keyof typeof Command];

/** Names for printing, indexed by command kind. */
export const COMMAND_NAMES = ['', 'fetch', 'prefetch', 'zero-fill', 'map', 'unmap', 'writeback', 'discard', 'poison', 'wake', 'unprotect'] as const;

const INITIAL_CAPACITY = 256;

/**
 * A FIFO of commands in typed arrays: no allocation per command. Drain it with
 * `while (q.next()) switch (q.kind) ...`; the fields `kind`, `page`, `frame`, `arg` then describe
 * the current command. A runtime may feed events back into the engine while draining (completions
 * that happen synchronously); new commands are appended and drained in the same loop.
 */
export class CommandQueue {
  /** Kind of the command loaded by the last successful `next()`. */
  kind = 0;
  /** Page of the current command (-1 when not applicable). */
  page = -1;
  /** Frame of the current command (-1 when not applicable). */
  frame = -1;
  /** Extra argument: batch id for Writeback, write-protect flag for Map. */
  arg = 0;

  private kinds = new Uint8Array(INITIAL_CAPACITY);
  private pages = new Int32Array(INITIAL_CAPACITY);
  private frames = new Int32Array(INITIAL_CAPACITY);
  private args = new Int32Array(INITIAL_CAPACITY);
  private head = 0;
  private tail = 0;

  /** @param maxCommands the bound; exceeding it means a runaway engine, reported as an error. */
  constructor(private readonly maxCommands: number) {}

  /** Number of commands not yet drained. */
  get size(): number {
    return this.tail - this.head;
  }

  /** Appends a command. */
  push(kind: number, page: number, frame: number, arg: number): void {
    if (this.tail === this.kinds.length) this.makeRoom();
    const i = this.tail++;
    this.kinds[i] = kind;
    this.pages[i] = page;
    this.frames[i] = frame;
    this.args[i] = arg;
  }

  /** Loads the oldest command into the public fields; false when the queue is empty. */
  next(): boolean {
    if (this.head === this.tail) {
      this.head = 0;
      this.tail = 0;
      return false;
    }
    const i = this.head++;
    this.kind = this.kinds[i];
    this.page = this.pages[i];
    this.frame = this.frames[i];
    this.arg = this.args[i];
    return true;
  }

  /** Drops every pending command (tests and teardown). */
  clear(): void {
    this.head = 0;
    this.tail = 0;
  }

  private makeRoom(): void {
    const live = this.tail - this.head;
    if (this.head > 0 && live <= this.kinds.length >>> 1) {
      // Compact in place: enough was drained to reuse the front.
      this.kinds.copyWithin(0, this.head, this.tail);
      this.pages.copyWithin(0, this.head, this.tail);
      this.frames.copyWithin(0, this.head, this.tail);
      this.args.copyWithin(0, this.head, this.tail);
    } else {
      const capacity = this.kinds.length * 2;
      if (capacity > this.maxCommands) {
        throw new VmError('command-queue-overflow', `more than ${this.maxCommands} undrained commands: drain engine.commands after every event`);
      }
      this.kinds = grow(this.kinds, capacity, this.head, this.tail);
      this.pages = grow(this.pages, capacity, this.head, this.tail);
      this.frames = grow(this.frames, capacity, this.head, this.tail);
      this.args = grow(this.args, capacity, this.head, this.tail);
    }
    this.tail = live;
    this.head = 0;
  }
}

function grow<T extends Uint8Array | Int32Array>(array: T, capacity: number, from: number, to: number): T {
  const next = new (array.constructor as new (n: number) => T)(capacity);
  next.set(array.subarray(from, to));
  return next;
}
