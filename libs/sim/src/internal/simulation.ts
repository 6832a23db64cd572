// One simulation's shared core: a digest, the named random streams and the engine, wired so
// that every processed event and every random draw lands in the same digest.

import { Digest } from './digest.js';
import { Engine } from './engine.js';
import { RandomStreams } from './random-stream.js';

/** Name of the stream that drives the seeded tie-break in perturbation mode. */
export const TIE_BREAK_STREAM = 'sim/tie-break';

/** Options of a simulation core. */
export interface SimulationOptions {
  /** Root seed: a string, or a non-negative integer (printed in decimal). */
  seed: string | number;
  /** Run simultaneous events in a seeded random order instead of FIFO. */
  perturbTies?: boolean;
  /** Bound on pending events in the engine. */
  maxPendingEvents?: number;
}

/** Engine, streams and digest of one simulation. */
export class Simulation {
  /** The root seed as a string. */
  readonly seed: string;
  /** The digest shared by the engine and the streams. */
  readonly digest: Digest;
  /** The named random streams. */
  readonly streams: RandomStreams;
  /** The event engine. */
  readonly engine: Engine;

  constructor(options: SimulationOptions) {
    this.digest = new Digest();
    this.streams = new RandomStreams(options.seed, this.digest);
    this.seed = this.streams.rootSeed;
    this.engine = new Engine({
      digest: this.digest,
      tieBreak: options.perturbTies === true ? this.streams.stream(TIE_BREAK_STREAM) : undefined,
      maxPendingEvents: options.maxPendingEvents,
    });
  }

  /** The digest so far as 8 hex characters. */
  digestHex(): string {
    return this.digest.hex();
  }

  /** The unseed (see `RandomStreams.unseed`). */
  unseed(): number {
    return this.streams.unseed();
  }
}
