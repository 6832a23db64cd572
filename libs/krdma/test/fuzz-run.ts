// The decoder fuzz loop shared by src/internal/wire/fuzz.test.ts (a bounded run) and
// bench/fuzz.ts (a million frames). Seeded: the same seed gives the same frames.
import fc from 'fast-check';
import seedrandom from 'seedrandom';
import { ProtocolError } from '../src/internal/errors.js';
import { FrameDecoder } from '../src/internal/wire/decode.js';
import { encodeFrameBytes } from '../src/internal/wire/encode.js';
import type { WireLimits } from '../src/internal/wire/limits.js';
import { frameArbitrary } from './arbitraries.js';
import { mutateFrame } from './fuzz-frames.js';

/** Results of a fuzz run. */
export interface FuzzResult {
  frames: number;
  /** Inputs that decoded into at least one whole frame without error. */
  decoded: number;
  /** Inputs that ended mid-frame without error (a truncated stream, waiting for more bytes). */
  incomplete: number;
  /** Typed protocol errors by code. */
  errorsByCode: Record<string, number>;
  /** Exceptions thrown by the decoder, or errors that were not ProtocolErrors. */
  crashes: number;
  crashSamples: string[];
  /** Largest single allocation the decoder asked for. */
  maxAllocationBytes: number;
  /** Largest number of messages one input produced. */
  maxFramesPerInput: number;
}

/** Runs `frames` random and mutated frames, each through a fresh decoder fed in 1-3 chunks. */
export function runDecoderFuzz(options: { frames: number; seed: number; limits: WireLimits; baseFrames?: number }): FuzzResult {
  const { frames, seed, limits } = options;
  const rng = seedrandom(String(seed));
  const random = (bound: number): number => Math.floor(rng() * bound);
  const bases = fc
    .sample(frameArbitrary(limits), { numRuns: options.baseFrames ?? 2000, seed })
    .map(({ requestId, message }) => encodeFrameBytes(requestId, message));
  const result: FuzzResult = {
    frames: 0,
    decoded: 0,
    incomplete: 0,
    errorsByCode: {},
    crashes: 0,
    crashSamples: [],
    maxAllocationBytes: 0,
    maxFramesPerInput: 0,
  };
  const allocate = (sizeBytes: number): Uint8Array => {
    if (sizeBytes > result.maxAllocationBytes) result.maxAllocationBytes = sizeBytes;
    return new Uint8Array(sizeBytes);
  };
  let produced = 0;
  const sink = (): void => {
    produced++;
  };
  for (let i = 0; i < frames; i++) {
    const input = mutateFrame(bases[random(bases.length)], bases[random(bases.length)], random);
    result.frames++;
    produced = 0;
    try {
      const decoder = new FrameDecoder({ limits, allocate });
      const cuts = random(3);
      let error: ProtocolError | null = null;
      let from = 0;
      for (let c = 0; c <= cuts && error === null; c++) {
        const to = c === cuts ? input.length : from + random(input.length - from + 1);
        error = decoder.feed(input.subarray(from, to), sink);
        from = to;
      }
      if (error !== null) {
        if (!(error instanceof ProtocolError)) throw new Error(`untyped error ${String(error)}`);
        result.errorsByCode[error.code] = (result.errorsByCode[error.code] ?? 0) + 1;
      } else if (decoder.bufferedBytes > 0) result.incomplete++;
      else if (produced > 0) result.decoded++;
      else result.incomplete++; // empty input
      if (produced > result.maxFramesPerInput) result.maxFramesPerInput = produced;
    } catch (error) {
      result.crashes++;
      if (result.crashSamples.length < 5) result.crashSamples.push(`${String(error)} on ${Buffer.from(input).toString('hex').slice(0, 200)}`);
    }
  }
  return result;
}
