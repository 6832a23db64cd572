/** Names of the pager counters, in SharedArrayBuffer slot order. */
export const PAGER_COUNTER_NAMES = [
  'faults', 'writeFaults', 'wpFaults', 'zeroFills', 'storeFills', 'collisionWakes', 'unprotects',
  'evictedPages', 'prefetchedPages', 'poisonedPages', 'commands', 'failedCommands',
  'messagesRead', 'reads', 'maxMessagesPerRead', 'unexpectedEvents', 'errors', 'moveFallbacks',
  'multiPageFills', 'multiPageFillPages', 'dirtyScans', 'dirtyRaces', 'rescueWrites',
  /** Socket reads of storage replies done in the pager's own poll, not the event loop (FaultLinger). */
  'storageReceives',
  /** Waits for a storage reply that began by polling without sleeping, and those that ended in a sleep (FaultLinger spinUs). */
  'storageSpins', 'storageSpinMisses',
] as const;

/** One pager counter name. */
export type PagerCounterName = (typeof PAGER_COUNTER_NAMES)[number];

/** The counter that is a high-water mark, not a count (exported as a gauge). */
export const PAGER_HIGH_WATER_COUNTER: PagerCounterName = 'maxMessagesPerRead';

/** A snapshot of the pager counters. */
export type PagerStats = Record<PagerCounterName, number>;

/** Slot index of each counter. */
export const PAGER_COUNTER: Readonly<Record<PagerCounterName, number>> = Object.fromEntries(
  PAGER_COUNTER_NAMES.map((name, i) => [name, i]),
) as Record<PagerCounterName, number>;

/**
 * Counters in a SharedArrayBuffer of float64 slots: written by the pager thread only (plain
 * stores, no Atomics: one writer, and a reader tolerates a value one update old), read by main.
 */
export class PagerCounters {
  readonly slots: Float64Array;

  constructor(readonly sab: SharedArrayBuffer = new SharedArrayBuffer(PAGER_COUNTER_NAMES.length * 8)) {
    this.slots = new Float64Array(sab);
  }

  /** Adds `n` to a counter (pager thread). */
  add(index: number, n = 1): void {
    this.slots[index] += n;
  }

  /** Raises a high-water counter (pager thread). */
  max(index: number, value: number): void {
    if (value > this.slots[index]) this.slots[index] = value;
  }

  /** A snapshot of every counter (main thread). */
  snapshot(): PagerStats {
    const out = {} as PagerStats;
    PAGER_COUNTER_NAMES.forEach((name, i) => (out[name] = this.slots[i]));
    return out;
  }
}
