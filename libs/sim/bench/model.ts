// Full-model benchmarks (imported by bench/engine.ts, which prints one JSON object):
//
// - modelEventsPerSecond: runScenario on a paging scenario (real PagingEngine + DvsRegion, the
//   NIC/fabric model, the simulated MMU, checkers and metrics): processed events per wall second.
//   Hotspot workload (90% of accesses to 10% of 100,000 pages), 4 threads, a quarter writes,
//   15% local memory, improved policies: about 30% of accesses fault (FIFO eviction).
// - traceAccessesPerSecond: simulated accesses per wall second replaying a 10 M-access workload
//   at about 10% miss ratio (hotspot 90/10 over 262,144 pages, 8 threads, 45% local memory), and
//   its wall time. Accesses that hit are processed in bulk; misses go through the whole model.

import { runScenario, type SimResult } from '../src/index.js';

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function timed(scenario: Record<string, unknown>): { result: SimResult; seconds: number } {
  const t0 = performance.now();
  const result = runScenario(scenario, { seed: 1 });
  return { result, seconds: (performance.now() - t0) / 1000 };
}

/** The scenario of modelEventsPerSecond. */
export function modelScenario(accesses: number): Record<string, unknown> {
  return {
    name: 'bench-model',
    memoryNodes: { count: 4, capacityBytes: 2 ** 36 },
    regions: [{
      workload: { kind: 'hotspot', pageCount: 100_000, threadCount: 4, accessesPerThread: accesses / 4, hotAccessPercent: 90, hotPagePercent: 10, writeNumerator: 1, writeDenominator: 4, thinkNs: 100 },
      localRatio: 0.15,
      policySet: 'improved',
    }],
  };
}

/** The scenario of traceAccessesPerSecond. */
export function traceScenario(accesses: number): Record<string, unknown> {
  return {
    name: 'bench-trace',
    memoryNodes: { count: 4, capacityBytes: 2 ** 36 },
    regions: [{
      workload: { kind: 'hotspot', pageCount: 262_144, threadCount: 8, accessesPerThread: accesses / 8, hotAccessPercent: 90, hotPagePercent: 10, writeNumerator: 1, writeDenominator: 4, thinkNs: 50 },
      localRatio: 0.45,
      policySet: 'improved',
    }],
  };
}

/** Measures the full model; `repetitions` runs of 1 M accesses after one warm-up of 200 k. */
export function measureModel(repetitions: number): Record<string, unknown> {
  timed(modelScenario(200_000));
  const runs: { eventsPerSecond: number; events: number; seconds: number; digest: string; missRatio: number }[] = [];
  for (let r = 0; r < repetitions; r++) {
    const { result, seconds } = timed(modelScenario(1_000_000));
    runs.push({
      eventsPerSecond: Math.round(result.run.events / seconds),
      events: result.run.events,
      seconds: Number(seconds.toFixed(3)),
      digest: result.digest,
      missRatio: Number((result.run.faults / result.run.accesses).toFixed(3)),
    });
  }
  if (new Set(runs.map((r) => r.digest)).size !== 1) throw new Error('model runs with the same seed gave different digests');
  return {
    modelEventsPerSecond: median(runs.map((r) => r.eventsPerSecond)),
    model: { scenario: 'hotspot 90/10, 100,000 pages, 4 threads, 15% local, improved, fdr56; 1 M accesses', runs },
  };
}

/** Replays a 10 M-access workload once; returns accesses per wall second and the wall time. */
export function measureTrace(accesses = 10_000_000): Record<string, unknown> {
  const { result, seconds } = timed(traceScenario(accesses));
  return {
    traceAccessesPerSecond: Math.round(result.run.accesses / seconds),
    trace: {
      scenario: 'hotspot 90/10, 262,144 pages, 8 threads, 45% local, improved, fdr56',
      accesses: result.run.accesses,
      wallSeconds: Number(seconds.toFixed(3)),
      missRatio: Number((result.run.faults / result.run.accesses).toFixed(4)),
      events: result.run.events,
      simulatedSeconds: Number((result.run.simulatedNs / 1e9).toFixed(3)),
      digest: result.digest,
    },
  };
}
