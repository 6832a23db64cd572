// Engine throughput benchmark (hold model). Prints one JSON object.
//
// Hold model: `pending` events are in the queue; each handled event schedules one new event at
// now + a delay from a cheap deterministic generator (xorshift32, delays 1..2000 ns), so the
// queue size stays constant. The same loop runs over a minimal plain binary heap of
// { timeNs, seq } records (pop, then push) as the reference measured in the same process.
// Both must end at the same simulated time, which checks that they processed the same events in
// the same order. Repetitions are interleaved; medians are reported.

import { Engine, RandomStreams, Simulation, ZipfianGenerator } from '../src/index.js';
import { measureModel, measureTrace } from './model.js';

const DELAY_SPAN_NS = 2000;
const EVENTS_PER_RUN = 2_000_000;
const REPETITIONS = Number(process.env['BENCH_REPETITIONS'] ?? 5);
const PENDING_SIZES = [1000, 10000];

/** xorshift32: the cheap deterministic delay generator shared by both loops. */
function makeDelays(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return 1 + ((x >>> 0) % DELAY_SPAN_NS);
  };
}

interface RunMeasure {
  eventsPerSecond: number;
  endTimeNs: number;
}

function engineHold(pending: number, events: number, perturb: boolean): RunMeasure {
  const engine = perturb ? new Simulation({ seed: 1, perturbTies: true }).engine : new Engine();
  const nextDelay = makeDelays(12345);
  const handler = {
    kindId: 1,
    onEvent(): void {
      engine.schedule(nextDelay(), handler, undefined);
    },
  };
  for (let i = 0; i < pending; i++) engine.schedule(nextDelay(), handler, undefined);
  const started = performance.now();
  engine.run({ maxEvents: events });
  const elapsedMs = performance.now() - started;
  return { eventsPerSecond: (events / elapsedMs) * 1000, endTimeNs: engine.now() };
}

interface ReferenceEvent {
  timeNs: number;
  seq: number;
}

/** A minimal plain binary heap ordered by (timeNs, seq), one object per event. */
class ReferenceHeap {
  private readonly items: ReferenceEvent[] = [];

  get size(): number {
    return this.items.length;
  }

  push(event: ReferenceEvent): void {
    const items = this.items;
    let pos = items.length;
    items.push(event);
    while (pos > 0) {
      const parent = (pos - 1) >> 1;
      const p = items[parent];
      if (p.timeNs < event.timeNs || (p.timeNs === event.timeNs && p.seq < event.seq)) break;
      items[pos] = p;
      pos = parent;
    }
    items[pos] = event;
  }

  pop(): ReferenceEvent {
    const items = this.items;
    const top = items[0];
    const last = items.pop() as ReferenceEvent;
    const size = items.length;
    if (size > 0) {
      let pos = 0;
      for (;;) {
        let child = 2 * pos + 1;
        if (child >= size) break;
        const right = child + 1;
        if (right < size) {
          const a = items[child];
          const b = items[right];
          if (b.timeNs < a.timeNs || (b.timeNs === a.timeNs && b.seq < a.seq)) child = right;
        }
        const c = items[child];
        if (last.timeNs < c.timeNs || (last.timeNs === c.timeNs && last.seq < c.seq)) break;
        items[pos] = c;
        pos = child;
      }
      items[pos] = last;
    }
    return top;
  }
}

function referenceHold(pending: number, events: number): RunMeasure {
  const heap = new ReferenceHeap();
  const nextDelay = makeDelays(12345);
  let seq = 0;
  let nowNs = 0;
  for (let i = 0; i < pending; i++) heap.push({ timeNs: nextDelay(), seq: seq++ });
  const started = performance.now();
  for (let i = 0; i < events; i++) {
    const event = heap.pop();
    nowNs = event.timeNs;
    heap.push({ timeNs: nowNs + nextDelay(), seq: seq++ });
  }
  const elapsedMs = performance.now() - started;
  return { eventsPerSecond: (events / elapsedMs) * 1000, endTimeNs: nowNs };
}

/** Draws per second of the stream helpers (each draw also updates the digest). */
function drawsPerSecond(kind: 'intBelow' | 'exponentialNs' | 'zipfian', draws: number): number {
  const stream = new RandomStreams(1).stream('bench');
  const zipf = new ZipfianGenerator(stream, 100000);
  let sink = 0;
  const started = performance.now();
  if (kind === 'intBelow') for (let i = 0; i < draws; i++) sink += stream.intBelow(1000);
  else if (kind === 'exponentialNs') for (let i = 0; i < draws; i++) sink += stream.exponentialNs(1000);
  else for (let i = 0; i < draws; i++) sink += zipf.next();
  const elapsedMs = performance.now() - started;
  if (sink < 0) throw new Error('unreachable');
  return (draws / elapsedMs) * 1000;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function round(value: number): number {
  return Math.round(value);
}

// Warm up both loops so that the first measured repetition is optimised code.
engineHold(1000, 200_000, false);
engineHold(1000, 200_000, true);
referenceHold(1000, 200_000);

const detail: Record<string, unknown> = {};
let bare10k = 0;
let reference10k = 0;
for (const pending of PENDING_SIZES) {
  const bare: number[] = [];
  const perturbed: number[] = [];
  const reference: number[] = [];
  for (let r = 0; r < REPETITIONS; r++) {
    const e = engineHold(pending, EVENTS_PER_RUN, false);
    const ref = referenceHold(pending, EVENTS_PER_RUN);
    const p = engineHold(pending, EVENTS_PER_RUN, true);
    if (e.endTimeNs !== ref.endTimeNs) {
      throw new Error(`engine and reference diverged: ${e.endTimeNs} vs ${ref.endTimeNs} ns`);
    }
    bare.push(e.eventsPerSecond);
    reference.push(ref.eventsPerSecond);
    perturbed.push(p.eventsPerSecond);
  }
  const bareMedian = median(bare);
  const referenceMedian = median(reference);
  detail[`pending${pending}`] = {
    bareEventsPerSecond: round(bareMedian),
    referenceHeapEventsPerSecond: round(referenceMedian),
    ratio: Number((bareMedian / referenceMedian).toFixed(3)),
    perturbedTieBreakEventsPerSecond: round(median(perturbed)),
    bareRuns: bare.map(round),
    referenceRuns: reference.map(round),
  };
  if (pending === 10000) {
    bare10k = bareMedian;
    reference10k = referenceMedian;
  }
}

const drawKinds = ['intBelow', 'exponentialNs', 'zipfian'] as const;
const randomDrawsPerSecond: Record<string, number> = {};
for (const kind of drawKinds) {
  drawsPerSecond(kind, 200_000);
  const runs: number[] = [];
  for (let r = 0; r < REPETITIONS; r++) runs.push(drawsPerSecond(kind, 2_000_000));
  randomDrawsPerSecond[kind] = round(median(runs));
}

const MODEL_REPETITIONS = Number(process.env['BENCH_MODEL_REPETITIONS'] ?? 3);
const model = measureModel(MODEL_REPETITIONS);
const trace = measureTrace(Number(process.env['BENCH_TRACE_ACCESSES'] ?? 10_000_000));

console.log(
  JSON.stringify(
    {
      benchmark: 'sim-engine-hold-model',
      node: process.version,
      eventsPerRun: EVENTS_PER_RUN,
      repetitions: REPETITIONS,
      delayNs: `uniform 1..${DELAY_SPAN_NS} (xorshift32)`,
      bareEventsPerSecond: round(bare10k),
      referenceHeapEventsPerSecond: round(reference10k),
      ratio: Number((bare10k / reference10k).toFixed(3)),
      modelEventsPerSecond: model['modelEventsPerSecond'],
      traceAccessesPerSecond: trace['traceAccessesPerSecond'],
      traceWallSeconds: (trace['trace'] as { wallSeconds: number }).wallSeconds,
      detail,
      randomDrawsPerSecond,
      model: model['model'],
      trace: trace['trace'],
    },
    null,
    2,
  ),
);
