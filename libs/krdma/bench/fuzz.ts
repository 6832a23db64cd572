// Decoder fuzz command: runs random and mutated frames (1,000,000 by default) through fresh
// decoders fed in 1-3 chunks, and prints JSON {frames, errorsByCode, crashes, ms, ...}.
// Usage: npm run fuzz -w @rackmem/krdma [-- --frames N --seed S]
import { SMALL_LIMITS } from '../test/arbitraries.js';
import { runDecoderFuzz } from '../test/fuzz-run.js';
import { DEFAULT_WIRE_LIMITS, resolveWireLimits } from '../src/internal/wire/limits.js';

function arg(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
}

const frames = arg('frames', 1_000_000);
const seed = arg('seed', 1);
const runs = [
  { name: 'small-limits', limits: resolveWireLimits(SMALL_LIMITS), frames: Math.ceil(frames * 0.9) },
  { name: 'default-limits', limits: resolveWireLimits(DEFAULT_WIRE_LIMITS), frames: Math.floor(frames * 0.1) },
];
const started = performance.now();
const total = { frames: 0, decoded: 0, incomplete: 0, crashes: 0, errorsByCode: {} as Record<string, number>, crashSamples: [] as string[] };
const perRun: Record<string, unknown> = {};
for (const run of runs) {
  const t0 = performance.now();
  const result = runDecoderFuzz({ frames: run.frames, seed: seed + run.frames, limits: run.limits, baseFrames: 2000 });
  perRun[run.name] = {
    frames: result.frames,
    maxAllocationBytes: result.maxAllocationBytes,
    maxPayloadBytes: run.limits.maxPayloadBytes,
    ms: Math.round(performance.now() - t0),
  };
  if (result.maxAllocationBytes > run.limits.maxPayloadBytes) total.crashSamples.push(`allocation of ${result.maxAllocationBytes} bytes above the limit`);
  total.frames += result.frames;
  total.decoded += result.decoded;
  total.incomplete += result.incomplete;
  total.crashes += result.crashes;
  total.crashSamples.push(...result.crashSamples);
  for (const [code, count] of Object.entries(result.errorsByCode)) total.errorsByCode[code] = (total.errorsByCode[code] ?? 0) + count;
}
const sorted = Object.fromEntries(Object.entries(total.errorsByCode).sort((a, b) => b[1] - a[1]));
console.log(
  JSON.stringify(
    {
      frames: total.frames,
      decodedWhole: total.decoded,
      incomplete: total.incomplete,
      errorsByCode: sorted,
      crashes: total.crashes,
      crashSamples: total.crashSamples,
      ms: Math.round(performance.now() - started),
      seed,
      runs: perRun,
    },
    null,
    2,
  ),
);
if (total.crashes > 0 || total.crashSamples.length > 0) process.exitCode = 1;
