/**
 * @rackmem/sim: the deterministic discrete-event simulator. This slice holds its core: the
 * event engine (integer-nanosecond clock, (time, sequence)-ordered heap, lazy cancellation,
 * seeded tie-break mode), named seeded random streams with integer-first helpers, YCSB zipfian
 * generators, and the determinism digest.
 *
 * @packageDocumentation
 */

export { SimError } from './internal/errors.js';
export type { SimErrorCode } from './internal/errors.js';
export { Digest } from './internal/digest.js';
export { Engine } from './internal/engine.js';
export type {
  EngineOptions,
  EventCallback,
  EventHandler,
  EventId,
  Handler,
  RunOptions,
  RunStopReason,
  TieBreakSource,
} from './internal/engine.js';
export { RandomStream, RandomStreams } from './internal/random-stream.js';
export type { RandomSource } from './internal/random-stream.js';
export { ScrambledZipfianGenerator, ZipfianGenerator, zeta } from './internal/zipfian.js';
export type { UnitIntervalSource, ZipfianOptions } from './internal/zipfian.js';
export { Simulation, TIE_BREAK_STREAM } from './internal/simulation.js';
export type { SimulationOptions } from './internal/simulation.js';
