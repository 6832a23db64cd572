// Built-in scenarios (the CLI lists them by name) and the study grid definitions it sweeps.

import type { PolicySetName } from '@rackmem/vm';

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

/** A built-in scenario: a plain object that validateScenario accepts. */
export interface BuiltinScenario {
  readonly name: string;
  readonly description: string;
  readonly scenario: Record<string, unknown>;
}

function scenario(name: string, description: string, body: Record<string, unknown>): BuiltinScenario {
  return { name, description, scenario: { name, description, ...body } };
}

/** The built-in scenarios, by name. */
export const builtinScenarios: Readonly<Record<string, BuiltinScenario>> = {
  touch: scenario(
    'touch',
    "The original's rack_vm_test: write then read every page of a 128 MiB region with an 8,192-page (32 MiB) budget, fdr56, rackmem2021.",
    {
      network: 'fdr56',
      memoryNodes: { count: 2, capacityBytes: 64 * GIB },
      regions: [{ name: 'touch', workload: { kind: 'touch', pageCount: 32_768 }, localRatio: 0.25, policySet: 'rackmem2021' }],
    },
  ),
  gemm: scenario(
    'gemm',
    "The original's rack_vm_matmul: GEMM of 64-bit ints with randomly permuted indices (N = 128) at 50% local memory, fdr56, rackmem2021.",
    {
      network: 'fdr56',
      memoryNodes: { count: 2, capacityBytes: 64 * GIB },
      regions: [{ name: 'gemm', workload: { kind: 'gemm', matrixSize: 128, thinkNs: 2 }, localRatio: 0.5, policySet: 'rackmem2021' }],
    },
  ),
  zipf: scenario(
    'zipf',
    'YCSB zipfian (theta 0.99, scrambled) over 16,384 pages, 4 threads, a third writes, 50% local memory, improved policies.',
    {
      network: 'fdr56',
      memoryNodes: { count: 2, capacityBytes: 64 * GIB },
      regions: [{
        name: 'zipf',
        workload: { kind: 'zipfian', pageCount: 16_384, threadCount: 4, accessesPerThread: 50_000, scrambled: true, writeNumerator: 1, writeDenominator: 3, thinkNs: 200, thinkDistribution: 'exponential' },
        localRatio: 0.5,
        policySet: 'improved',
      }],
    },
  ),
  seq: scenario(
    'seq',
    'Two sequential passes over 8,192 pages at 25% local memory with read-ahead prefetch (improved policies).',
    {
      network: 'fdr56',
      memoryNodes: { count: 2, capacityBytes: 64 * GIB },
      regions: [{
        name: 'seq',
        workload: { kind: 'sequential', pageCount: 8192, passes: 2, thinkNs: 500 },
        localRatio: 0.25,
        policySet: 'improved',
        vm: { prefetch: 'readahead' },
      }],
    },
  ),
  swarm: scenario(
    'swarm',
    'Swarm mode: the configuration (budget, policies, batch sizes, threads, memory nodes, replication) and the fault mix are drawn from the seed, then the rack heals and must converge.',
    {
      network: 'fdr56',
      memoryNodes: { count: 3, capacityBytes: 64 * GIB },
      regions: [{ name: 'swarm', workload: { kind: 'uniform', pageCount: 2048 }, localRatio: 0.5 }],
      swarm: true,
      healAtNs: 20_000_000,
      run: { maxSimulatedNs: 60_000_000_000 },
    },
  ),
};

/** Names of the built-in scenarios, in listing order. */
export const BUILTIN_SCENARIO_NAMES: readonly string[] = Object.keys(builtinScenarios);

/** A study: base scenarios crossed with values of scenario fields (paths as in `setScenarioField`). */
export interface StudyDefinition {
  readonly name: string;
  readonly description: string;
  /** Built-in scenario names (one per workload). */
  readonly scenarios: readonly string[];
  /** Field path to the values it takes; the grid is the cross product. */
  readonly vary: Readonly<Record<string, readonly (string | number | boolean)[]>>;
}

const POLICY_SETS: readonly PolicySetName[] = ['rackmem2021', 'improved'];

/** The study grid of issue 3: the original's policies against the improved set, 100/75/50/25% local, fdr56. */
export const builtinStudies: Readonly<Record<string, StudyDefinition>> = {
  rackmem2021: {
    name: 'rackmem2021',
    description: "rackmem2021 (the original's policies) against improved, at 100/75/50/25% local memory, on each workload, fdr56.",
    scenarios: ['touch', 'gemm', 'zipf', 'seq'],
    vary: {
      'computeNodes[0].regions[0].policySet': POLICY_SETS,
      'computeNodes[0].regions[0].localRatio': [1, 0.75, 0.5, 0.25],
      'network.preset': ['fdr56'],
    },
  },
};
