// The random source a workload draws from, structurally: a `RandomStream` of this package is one.
// Workloads receive a function from a stream name to a source, so each thread (and each purpose
// within a thread) has its own named stream and adding one never shifts another's draws.

/** The integer-first helpers a workload needs from a named random stream. */
export interface WorkloadRandom {
  /** An unbiased integer in [0, bound). */
  intBelow(bound: number): number;
  /** A double in [0, 1). */
  nextDouble(): number;
  /** True with probability numerator / denominator. */
  chance(numerator: number, denominator: number): boolean;
  /** An exponentially distributed integer duration with mean `meanNs`. */
  exponentialNs(meanNs: number): number;
}

/** Maps a stream name to its random source (e.g. `(name) => streams.stream(name)`). */
export type WorkloadRandomFactory = (streamName: string) => WorkloadRandom;

/**
 * A random cyclic permutation (Sattolo's algorithm): `next[p]` is the page after p, and following
 * `next` from any page visits every page exactly once before returning.
 */
export function randomCycle(size: number, random: WorkloadRandom): Int32Array {
  const order = new Int32Array(size);
  for (let i = 0; i < size; i++) order[i] = i;
  for (let i = size - 1; i > 0; i--) {
    const j = random.intBelow(i); // j < i: Sattolo, a single cycle
    const held = order[i];
    order[i] = order[j];
    order[j] = held;
  }
  // As a mapping i -> order[i], Sattolo's result is a single cycle of length `size`.
  return order;
}
