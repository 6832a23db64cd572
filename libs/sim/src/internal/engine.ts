// The discrete-event engine: an integer-nanosecond clock and a binary heap of pending events
// ordered by (time, insertion sequence). The heap is a struct of arrays: time, order key and
// payload slot per heap position (moved by the sift loops), and the payload itself (handler,
// argument, two integers, generation, state) per slot, so sifting moves three numbers and no
// object is allocated per event. Cancellation is lazy (tombstones with a live count, compaction
// once tombstones exceed half the heap). While a handler runs, the event it came from stays at
// the root; the first event the handler schedules replaces the root with one sift-down, which
// makes the common "handle one, schedule one" pattern a single heap operation.

import { Digest } from './digest.js';
import { SimError } from './errors.js';

/** A function handler; an optional `kindId` property is mixed into the digest. */
export type EventCallback<A> = ((arg: A, i0: number, i1: number) => void) & { readonly kindId?: number };

/** An object handler: `onEvent` is called with the event's argument and its two integers. */
export interface EventHandler<A> {
  /** Integer id of this kind of event, mixed into the determinism digest (0 when absent). */
  readonly kindId?: number;
  /** Handles one event. `i0` and `i1` are the integers given when it was scheduled. */
  onEvent(arg: A, i0: number, i1: number): void;
}

/** Either form of handler. */
export type Handler<A> = EventCallback<A> | EventHandler<A>;

/** Identifies a scheduled event for `cancel`. Never reused while the event is pending. */
export type EventId = number;

/** A source of 32-bit draws for the seeded tie-break (perturbation) mode. */
export interface TieBreakSource {
  /** An integer in [0, 2^32). */
  nextUint32(): number;
}

/** Options of an engine. */
export interface EngineOptions {
  /** Digest that every processed event is mixed into (a fresh one when absent). */
  digest?: Digest;
  /** When given, events with equal times run in a seeded random order instead of FIFO. */
  tieBreak?: TieBreakSource;
  /** Bound on pending events (including cancelled ones not yet compacted); at most 2^23. */
  maxPendingEvents?: number;
}

/** Limits of one `run` call. */
export interface RunOptions {
  /** Process events with time <= untilNs, then set the clock to untilNs. */
  untilNs?: number;
  /** Process at most this many events. */
  maxEvents?: number;
}

/** Why `run` returned. */
export type RunStopReason = 'idle' | 'until' | 'max-events' | 'stopped';

type AnyHandler = Handler<unknown>;

const SLOT_LIMIT = 8388608; // 2^23 slots; an id is generation * 2^23 + slot
const GENERATION_MASK = 0x3fffffff; // generations wrap at 2^30, so ids stay below 2^53
const PERTURB_SEQ_MASK = 0x1fffff; // low 21 bits of the sequence under a 32-bit random key
const PERTURB_SCALE = 2097152; // 2^21
const INITIAL_CAPACITY = 1024;

const SLOT_FREE = 0;
const SLOT_PENDING = 1;
const SLOT_CANCELLED = 2;

/** The discrete-event engine. See the file comment for the data layout. */
export class Engine {
  /** The digest every processed event is mixed into. */
  readonly digest: Digest;

  private nowNs = 0;
  private seq = 0;
  private processed = 0;
  private live = 0;
  private tombstones = 0;
  private running = false;
  private stopRequested = false;
  /** The root holds the event being handled; the next insert replaces it, else it is popped. */
  private rootConsumed = false;
  private readonly tieBreak: TieBreakSource | null;
  private readonly maxPending: number;

  private capacity: number;
  private size = 0;
  private heapTime: Float64Array<ArrayBuffer>;
  private heapKey: Float64Array<ArrayBuffer>;
  private heapSlot: Int32Array<ArrayBuffer>;

  private readonly slotHandler: (AnyHandler | undefined)[];
  private readonly slotArg: unknown[];
  private slotI0: Float64Array<ArrayBuffer>;
  private slotI1: Float64Array<ArrayBuffer>;
  private slotGeneration: Int32Array<ArrayBuffer>;
  private slotState: Uint8Array<ArrayBuffer>;
  private freeSlots: Int32Array<ArrayBuffer>;
  private freeCount = 0;
  private slotsCreated = 0;

  constructor(options: EngineOptions = {}) {
    this.digest = options.digest ?? new Digest();
    this.tieBreak = options.tieBreak ?? null;
    const maxPending = options.maxPendingEvents ?? SLOT_LIMIT;
    if (!Number.isSafeInteger(maxPending) || maxPending < 1 || maxPending > SLOT_LIMIT) {
      throw new SimError('invalid-argument', `maxPendingEvents must be an integer in [1, ${SLOT_LIMIT}], got ${maxPending}.`);
    }
    this.maxPending = maxPending;
    const capacity = Math.min(INITIAL_CAPACITY, maxPending);
    this.capacity = capacity;
    this.heapTime = new Float64Array(capacity);
    this.heapKey = new Float64Array(capacity);
    this.heapSlot = new Int32Array(capacity);
    this.slotHandler = new Array<AnyHandler | undefined>(capacity).fill(undefined);
    this.slotArg = new Array<unknown>(capacity).fill(undefined);
    this.slotI0 = new Float64Array(capacity);
    this.slotI1 = new Float64Array(capacity);
    this.slotGeneration = new Int32Array(capacity);
    this.slotState = new Uint8Array(capacity);
    this.freeSlots = new Int32Array(capacity);
  }

  /** Current simulated time in integer nanoseconds. */
  now(): number {
    return this.nowNs;
  }

  /** Number of events processed since the engine was created. */
  get eventsProcessed(): number {
    return this.processed;
  }

  /** Number of scheduled events that are neither processed nor cancelled. */
  get pendingCount(): number {
    return this.live;
  }

  /** Number of cancelled events still occupying heap positions (removed lazily). */
  get tombstoneCount(): number {
    return this.tombstones;
  }

  /** Whether events with equal times run in a seeded random order. */
  get perturbed(): boolean {
    return this.tieBreak !== null;
  }

  /** Schedules `handler` to run `delayNs` (a non-negative integer) after now. */
  schedule(delayNs: number, handler: Handler<undefined>): EventId;
  /** Schedules `handler(arg, i0, i1)` to run `delayNs` (a non-negative integer) after now. */
  schedule<A>(delayNs: number, handler: Handler<A>, arg: A, i0?: number, i1?: number): EventId;
  schedule(delayNs: number, handler: AnyHandler, arg?: unknown, i0 = 0, i1 = 0): EventId {
    const timeNs = this.nowNs + delayNs;
    if (!(delayNs >= 0) || !Number.isSafeInteger(delayNs) || !Number.isSafeInteger(timeNs)) {
      throwBadDelay(delayNs, this.nowNs);
    }
    return this.insert(timeNs, handler, arg, i0, i1);
  }

  /** Schedules `handler` at the absolute time `timeNs` (an integer, not before now). */
  scheduleAt(timeNs: number, handler: Handler<undefined>): EventId;
  /** Schedules `handler(arg, i0, i1)` at the absolute time `timeNs` (an integer, not before now). */
  scheduleAt<A>(timeNs: number, handler: Handler<A>, arg: A, i0?: number, i1?: number): EventId;
  scheduleAt(timeNs: number, handler: AnyHandler, arg?: unknown, i0 = 0, i1 = 0): EventId {
    if (!(timeNs >= this.nowNs) || !Number.isSafeInteger(timeNs)) {
      throwBadTime(timeNs, this.nowNs);
    }
    return this.insert(timeNs, handler, arg, i0, i1);
  }

  /**
   * Cancels a pending event. Returns false when the id is unknown, already processed, already
   * cancelled, or is the event currently being handled.
   */
  cancel(id: EventId): boolean {
    if (!Number.isSafeInteger(id) || id < 0) return false;
    const slot = id % SLOT_LIMIT;
    const generation = (id - slot) / SLOT_LIMIT;
    if (slot >= this.slotsCreated || this.slotState[slot] !== SLOT_PENDING || this.slotGeneration[slot] !== generation) {
      return false;
    }
    this.slotState[slot] = SLOT_CANCELLED;
    this.slotHandler[slot] = undefined;
    this.slotArg[slot] = undefined;
    this.live--;
    this.tombstones++;
    if (this.tombstones * 2 > this.size) this.compact();
    return true;
  }

  /** Time of the earliest pending event, or undefined when none is pending. */
  nextEventTimeNs(): number | undefined {
    this.settleRoot();
    this.dropCancelledRoots();
    return this.size > 0 ? this.heapTime[0] : undefined;
  }

  /** Asks a running `run` to return after the current event. */
  stop(): void {
    this.stopRequested = true;
  }

  /** Processes the earliest pending event. Returns false when none is pending. */
  step(): boolean {
    if (this.running) throwReentrant();
    this.running = true;
    try {
      this.settleRoot();
      this.dropCancelledRoots();
      if (this.size === 0) return false;
      this.dispatchRoot();
      return true;
    } finally {
      this.running = false;
    }
  }

  /**
   * Processes events in (time, sequence) order until none is pending, the next one is later than
   * `untilNs`, `maxEvents` were processed, or `stop()` was called. With `untilNs`, the clock ends
   * at `untilNs` unless the run stopped early for another reason.
   */
  run(options: RunOptions = {}): RunStopReason {
    const untilNs = options.untilNs ?? Infinity;
    const maxEvents = options.maxEvents ?? Infinity;
    if (options.untilNs !== undefined && (!Number.isSafeInteger(untilNs) || untilNs < this.nowNs)) {
      throwBadTime(untilNs, this.nowNs);
    }
    if (!(maxEvents >= 0)) {
      throw new SimError('invalid-argument', `maxEvents must be a non-negative number, got ${maxEvents}.`);
    }
    if (this.running) throwReentrant();
    this.running = true;
    this.stopRequested = false;
    let reason: RunStopReason;
    try {
      this.settleRoot();
      let count = 0;
      for (;;) {
        this.dropCancelledRoots();
        if (this.size === 0) {
          reason = 'idle';
          break;
        }
        if (this.heapTime[0] > untilNs) {
          reason = 'until';
          break;
        }
        if (count >= maxEvents) {
          reason = 'max-events';
          break;
        }
        this.dispatchRoot();
        count++;
        if (this.stopRequested) {
          reason = 'stopped';
          break;
        }
      }
      if (options.untilNs !== undefined && (reason === 'idle' || reason === 'until')) this.nowNs = untilNs;
    } finally {
      this.running = false;
      this.stopRequested = false;
    }
    return reason;
  }

  // ---- internals -------------------------------------------------------------------------

  private insert(timeNs: number, handler: AnyHandler, arg: unknown, i0: number, i1: number): EventId {
    const seq = this.seq++;
    const key = this.tieBreak === null ? seq : this.tieBreak.nextUint32() * PERTURB_SCALE + (seq & PERTURB_SEQ_MASK);
    if (!this.rootConsumed && this.size === this.capacity) this.makeRoom();
    const slot = this.freeCount > 0 ? this.freeSlots[--this.freeCount] : this.slotsCreated++;
    this.slotHandler[slot] = handler;
    this.slotArg[slot] = arg;
    this.slotI0[slot] = i0;
    this.slotI1[slot] = i1;
    this.slotState[slot] = SLOT_PENDING;
    this.live++;
    if (this.rootConsumed) {
      this.rootConsumed = false;
      this.siftDown(0, timeNs, key, slot, this.size);
    } else {
      this.siftUp(this.size++, timeNs, key, slot);
    }
    return this.slotGeneration[slot] * SLOT_LIMIT + slot;
  }

  private dispatchRoot(): void {
    const slot = this.heapSlot[0];
    const timeNs = this.heapTime[0];
    const handler = this.slotHandler[slot] as AnyHandler;
    const arg = this.slotArg[slot];
    const i0 = this.slotI0[slot];
    const i1 = this.slotI1[slot];
    this.releaseSlot(slot);
    this.nowNs = timeNs;
    this.live--;
    this.processed++;
    this.rootConsumed = true;
    this.digest.mixEvent(timeNs, handler.kindId ?? 0, i0, i1);
    if (typeof handler === 'function') handler(arg, i0, i1);
    else handler.onEvent(arg, i0, i1);
    if (this.rootConsumed) {
      this.rootConsumed = false;
      this.popRoot();
    }
  }

  private releaseSlot(slot: number): void {
    this.slotState[slot] = SLOT_FREE;
    this.slotHandler[slot] = undefined;
    this.slotArg[slot] = undefined;
    this.slotGeneration[slot] = (this.slotGeneration[slot] + 1) & GENERATION_MASK;
    this.freeSlots[this.freeCount++] = slot;
  }

  /** Completes a deferred pop (after a handler threw, or before restructuring the heap). */
  private settleRoot(): void {
    if (this.rootConsumed) {
      this.rootConsumed = false;
      this.popRoot();
    }
  }

  private dropCancelledRoots(): void {
    while (this.size > 0 && this.slotState[this.heapSlot[0]] === SLOT_CANCELLED) {
      this.releaseSlot(this.heapSlot[0]);
      this.tombstones--;
      this.popRoot();
    }
  }

  private popRoot(): void {
    const last = --this.size;
    if (last > 0) this.siftDown(0, this.heapTime[last], this.heapKey[last], this.heapSlot[last], last);
  }

  private siftUp(position: number, timeNs: number, key: number, slot: number): void {
    const times = this.heapTime;
    const keys = this.heapKey;
    const slots = this.heapSlot;
    let pos = position;
    while (pos > 0) {
      const parent = (pos - 1) >> 1;
      const parentTime = times[parent];
      if (parentTime < timeNs || (parentTime === timeNs && keys[parent] < key)) break;
      times[pos] = parentTime;
      keys[pos] = keys[parent];
      slots[pos] = slots[parent];
      pos = parent;
    }
    times[pos] = timeNs;
    keys[pos] = key;
    slots[pos] = slot;
  }

  private siftDown(position: number, timeNs: number, key: number, slot: number, size: number): void {
    const times = this.heapTime;
    const keys = this.heapKey;
    const slots = this.heapSlot;
    const half = size >> 1;
    let pos = position;
    while (pos < half) {
      let child = 2 * pos + 1;
      let childTime = times[child];
      let childKey = keys[child];
      const right = child + 1;
      if (right < size) {
        const rightTime = times[right];
        if (rightTime < childTime || (rightTime === childTime && keys[right] < childKey)) {
          child = right;
          childTime = rightTime;
          childKey = keys[right];
        }
      }
      if (timeNs < childTime || (timeNs === childTime && key <= childKey)) break;
      times[pos] = childTime;
      keys[pos] = childKey;
      slots[pos] = slots[child];
      pos = child;
    }
    times[pos] = timeNs;
    keys[pos] = key;
    slots[pos] = slot;
  }

  /** Removes every tombstone and rebuilds the heap (Floyd's method). Pop order is unchanged. */
  private compact(): void {
    this.settleRoot();
    const times = this.heapTime;
    const keys = this.heapKey;
    const slots = this.heapSlot;
    let kept = 0;
    for (let i = 0; i < this.size; i++) {
      const slot = slots[i];
      if (this.slotState[slot] === SLOT_CANCELLED) {
        this.releaseSlot(slot);
      } else {
        times[kept] = times[i];
        keys[kept] = keys[i];
        slots[kept] = slot;
        kept++;
      }
    }
    this.size = kept;
    this.tombstones = 0;
    for (let i = (kept >> 1) - 1; i >= 0; i--) this.siftDown(i, times[i], keys[i], slots[i], kept);
  }

  /** Grows the arrays (doubling) or, at the bound, compacts; throws when still full. */
  private makeRoom(): void {
    if (this.capacity >= this.maxPending) {
      if (this.tombstones > 0) this.compact();
      if (this.size >= this.maxPending) {
        throw new SimError(
          'queue-full',
          `The engine holds ${this.size} pending events, its bound (maxPendingEvents = ${this.maxPending}); raise the bound or schedule fewer events.`,
        );
      }
      return;
    }
    const capacity = Math.min(this.capacity * 2, this.maxPending);
    this.heapTime = grownFloat64(this.heapTime, capacity);
    this.heapKey = grownFloat64(this.heapKey, capacity);
    this.heapSlot = grownInt32(this.heapSlot, capacity);
    this.slotI0 = grownFloat64(this.slotI0, capacity);
    this.slotI1 = grownFloat64(this.slotI1, capacity);
    this.slotGeneration = grownInt32(this.slotGeneration, capacity);
    this.freeSlots = grownInt32(this.freeSlots, capacity);
    const state = new Uint8Array(capacity);
    state.set(this.slotState);
    this.slotState = state;
    for (let i = this.capacity; i < capacity; i++) {
      this.slotHandler.push(undefined);
      this.slotArg.push(undefined);
    }
    this.capacity = capacity;
  }
}

function grownFloat64(array: Float64Array<ArrayBuffer>, capacity: number): Float64Array<ArrayBuffer> {
  const grown = new Float64Array(capacity);
  grown.set(array);
  return grown;
}

function grownInt32(array: Int32Array<ArrayBuffer>, capacity: number): Int32Array<ArrayBuffer> {
  const grown = new Int32Array(capacity);
  grown.set(array);
  return grown;
}

function throwBadDelay(delayNs: number, nowNs: number): never {
  if (delayNs < 0) {
    throw new SimError('schedule-in-past', `Cannot schedule ${delayNs} ns from now (${nowNs} ns): delays must be >= 0.`);
  }
  throw new SimError(
    'invalid-time',
    `Delay ${delayNs} ns at now = ${nowNs} ns is not a non-negative integer with a safe-integer sum; round model costs to integer ns once.`,
  );
}

function throwBadTime(timeNs: number, nowNs: number): never {
  if (timeNs < nowNs) {
    throw new SimError('schedule-in-past', `Time ${timeNs} ns is before now (${nowNs} ns); the clock never goes back.`);
  }
  throw new SimError('invalid-time', `Time ${timeNs} ns is not a safe integer number of nanoseconds.`);
}

function throwReentrant(): never {
  throw new SimError('reentrant-run', 'run() or step() was called from inside an event handler; schedule an event instead.');
}
