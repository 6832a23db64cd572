// Small scenarios shared by the runner's tests (kept out of the public surface).

import { builtinScenarios } from '../scenario/builtin-scenarios.js';
import { setScenarioField } from '../scenario/scenario-fields.js';
import type { Scenario } from '../scenario/scenario.js';
import { validateScenario } from '../scenario/validate-scenario.js';

/** A small random workload: uniform, 2 threads, half writes, 25% local, three memory nodes. */
export function smallUniform(region: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'small-uniform',
    memoryNodes: { count: 3, capacityBytes: 1 << 30 },
    regions: [{
      workload: { kind: 'uniform', pageCount: 1024, threadCount: 2, accessesPerThread: 6000, writeNumerator: 1, writeDenominator: 2, thinkNs: 200, thinkDistribution: 'exponential' },
      localRatio: 0.25,
      slabSizeBytes: 1 << 20,
      ...region,
    }],
    ...extra,
  };
}

/** The canonical built-in scenarios at test sizes. */
export function smallBuiltins(): Record<string, Scenario> {
  const shrink = (name: string, fields: Record<string, unknown>): Scenario => {
    let s = validateScenario(builtinScenarios[name].scenario);
    for (const [path, value] of Object.entries(fields)) s = setScenarioField(s, path, value);
    return s;
  };
  const r = 'computeNodes[0].regions[0]';
  return {
    touch: shrink('touch', { [`${r}.workload.pageCount`]: 2048 }),
    gemm: shrink('gemm', { [`${r}.workload.matrixSize`]: 24 }),
    zipf: shrink('zipf', { [`${r}.workload.pageCount`]: 2048, [`${r}.workload.accessesPerThread`]: 3000 }),
    seq: shrink('seq', { [`${r}.workload.pageCount`]: 1024 }),
    swarm: shrink('swarm', { [`${r}.workload.pageCount`]: 512 }),
  };
}
