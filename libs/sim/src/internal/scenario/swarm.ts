// Swarm mode (TigerBeetle's options_swarm, Groce et al.'s swarm testing): the configuration and
// the fault mix are drawn from the seed. Each fault kind is switched on or off per seed (random
// feature omission), so different seeds exercise different combinations. Everything is drawn
// from one named stream, `swarm/config`, so the draws are part of the digest.

import type { RandomStream } from '../random-stream.js';
import type { FaultSpec, RegionSpec, Scenario } from './scenario.js';
import type { WorkloadSpec } from '../workloads/spec.js';

/** Default end of the fault phase of a swarm run when the scenario gives no healAtNs. */
export const SWARM_DEFAULT_HEAL_NS = 20_000_000;

/** The scenario a swarm seed stands for: `base` with its configuration and faults drawn. */
export function drawSwarmScenario(base: Scenario, rng: RandomStream): Scenario {
  const healAtNs = base.healAtNs ?? SWARM_DEFAULT_HEAL_NS;
  const baseRegion = base.computeNodes[0].regions[0];
  const pageCount = Math.max(64, (baseRegion.workload as { pageCount?: number }).pageCount ?? 4096);
  const nodeCount = rng.intInclusive(2, 5);
  const replication = rng.intInclusive(1, Math.min(3, nodeCount));
  const threadCount = rng.intInclusive(1, 8);
  const totalAccesses = pageCount * 8;
  const kinds = ['uniform', 'zipfian', 'sequential', 'hotspot', 'working-set-shift'] as const;
  const kind = rng.pick(kinds);
  const workload = {
    kind,
    pageCount,
    threadCount,
    accessesPerThread: Math.max(1, Math.floor(totalAccesses / threadCount)),
    writeNumerator: rng.intInclusive(0, 2),
    writeDenominator: 3,
    thinkNs: rng.pick([0, 50, 500]),
    thinkDistribution: 'exponential',
  } as unknown as WorkloadSpec;
  if (kind === 'sequential') {
    delete (workload as { accessesPerThread?: number }).accessesPerThread;
    (workload as { passes?: number }).passes = 4;
    (workload as { layout?: string }).layout = 'split';
  }
  const region: RegionSpec = {
    ...baseRegion,
    name: baseRegion.name,
    workload,
    localRatio: rng.pick([0.1, 0.25, 0.5, 0.75]),
    policySet: rng.pick(['rackmem2021', 'improved'] as const),
    vm: {
      reclaim: rng.pick(['none', 'background', 'watermark'] as const),
      writebackMode: rng.pick(['sync', 'async'] as const),
      writebackBatchPages: rng.intInclusive(1, 64),
      writebackMaxInFlightBatches: rng.intInclusive(1, 8),
      dirtyTracking: rng.chance(1, 2),
      prefetch: rng.pick(['none', 'readahead', 'leap', 'adaptive'] as const),
    },
    replication,
    placement: rng.pick(['round-robin', 'two-choices'] as const),
    slabSizeBytes: rng.pick([1, 4, 64]) * 1024 * 1024,
  };
  delete region.localPages;
  const memoryNodes = Array.from({ length: nodeCount }, (_, i) => ({ name: `m${i}`, capacityBytes: 64 * 1024 ** 3 }));
  const hosts = [...memoryNodes.map((m) => m.name), base.computeNodes[0].name];
  const faults: FaultSpec[] = [];
  const at = (): number => rng.intInclusive(Math.floor(healAtNs / 10), Math.floor(healAtNs / 2));
  const span = (): number => rng.intInclusive(Math.floor(healAtNs / 20), Math.floor(healAtNs / 4));
  if (rng.chance(1, 2)) {
    const atNs = at();
    faults.push({ kind: 'crash', node: rng.pick(memoryNodes).name, atNs, restartAtNs: atNs + span() });
  }
  if (rng.chance(1, 2)) {
    const fromNs = at();
    faults.push({ kind: 'lost-connection', node: rng.pick(memoryNodes).name, fromNs, untilNs: fromNs + span() });
  }
  if (rng.chance(1, 2)) {
    const fromNs = at();
    faults.push({ kind: 'slow-link', host: rng.pick(hosts), fromNs, untilNs: fromNs + span(), bandwidthFactor: rng.pick([0.05, 0.1, 0.25, 0.5]) });
  }
  if (rng.chance(1, 2)) {
    const fromNs = at();
    faults.push({ kind: 'latency-spike', host: rng.pick(hosts), fromNs, untilNs: fromNs + span(), extraMeanNs: rng.pick([2000, 20_000, 200_000]) });
  }
  if (rng.chance(1, 2)) faults.push({ kind: 'set-budget', region: region.name, atNs: at(), localRatio: rng.pick([0.1, 0.25, 0.5, 0.75]) });
  return {
    ...base,
    name: base.name,
    memoryNodes,
    computeNodes: [{ name: base.computeNodes[0].name, regions: [region] }],
    mmu: { ...base.mmu, batchAccesses: rng.pick([1, 16, 256]) },
    faults,
    healAtNs,
    buggify: true,
    swarm: false,
  };
}
