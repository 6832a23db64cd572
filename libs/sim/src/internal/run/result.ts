// The result of a run: a plain JSON-serialisable object with a stable key order, integers and
// ratios rounded to 4 decimals, byte-identical for the same inputs.

import type { DvsCounters } from '@rackmem/dvs';
import type { VmCounterName, VmGauges } from '@rackmem/vm';
import type { HistogramSummary } from '../metrics/histogram.js';
import type { SimMemoryNode } from '../model/memory-node.js';
import { FAULT_CLASS_NAMES, type FaultClassName } from '../rack/sim-region.js';
import type { Scenario } from '../scenario/scenario.js';
import type { ScenarioRun } from './scenario-run.js';
import { TIME_SERIES_COLUMNS } from './time-series.js';

/** Simulator version recorded in results. */
export const SIMULATOR_VERSION = 'rackmem-sim/0.1.0';

/** Per-region results. */
export interface RegionResult {
  name: string;
  computeNode: string;
  policySet: string;
  pageCount: number;
  pageSizeBytes: number;
  localPages: number;
  replication: number;
  threads: number;
  accesses: number;
  faults: number;
  sigbus: number;
  poisonedPages: number;
  lostPagesReported: number;
  /** Time from the threads' start (after the rack's connections are up) until the last thread finished. */
  appTimeNs: number;
  /** The same access streams with every access a hit (think + hit cost), slowest thread. */
  allLocalTimeNs: number;
  /** appTimeNs / allLocalTimeNs. */
  slowdown: number;
  faultLatencyNs: { all: HistogramSummary; byClass: Record<FaultClassName, HistogramSummary> };
  prefetch: { issued: number; useful: number; late: number; wasted: number; accuracy: number; timeliness: number };
  writebackBatchPages: HistogramSummary;
  vm: Record<VmCounterName, number>;
  dvs: DvsCounters;
  gauges: VmGauges;
}

/** The result of one run. */
export interface SimResult {
  identity: { simulator: string; seed: string; scenarioName: string; scenarioDigest: string; nodeMajor: number; swarm: boolean };
  run: { simulatedNs: number; events: number; randomDraws: number; accesses: number; faults: number; sigbus: number };
  regions: RegionResult[];
  network: {
    preset: string;
    links: { host: string; egressBytes: number; ingressBytes: number }[];
    ops: { reads: number; writes: number; rpcs: number; failed: number; readBytes: number; writeBytes: number; maxQueuedAtQueuePair: number };
  };
  memoryNodes: { name: string; usedBytes: number; slabs: number; down: boolean }[];
  faults: { atNs: number; kind: string; target: string }[];
  checks: { shadowMemory: 'ok'; strictReplication: boolean[]; invariants: 'ok'; budgets: 'ok' };
  timeSeries: { intervalNs: number; columns: readonly string[]; rows: number[][] };
  /** The scenario as given (validated): `runScenario(result.scenario, { seed: result.identity.seed })` replays the run. */
  scenario: Scenario;
  /** Swarm runs only: the configuration and faults the seed drew. */
  drawnScenario?: Scenario;
  digest: string;
  unseed: number;
}

function ratio(value: number): number {
  return Number.isFinite(value) ? Math.round(value * 10_000) / 10_000 : 0;
}

/** Assembles the result of a finished run. */
export function buildResult(run: ScenarioRun): SimResult {
  const engine = run.sim.engine;
  const regions: RegionResult[] = run.regions.map((region, i) => {
    const vm = region.engine.counters.snapshot();
    let allLocal = 0;
    for (const t of region.threads) if (t.localNs > allLocal) allLocal = t.localNs;
    const byClass = {} as Record<FaultClassName, HistogramSummary>;
    FAULT_CLASS_NAMES.forEach((name, c) => {
      byClass[name] = region.latencyByClass[c].summary();
    });
    let lost = 0;
    for (let p = 0; p < region.pageCount; p++) lost += region.lostReported[p];
    return {
      name: region.name,
      computeNode: run.regionNodes[i],
      policySet: run.effective.computeNodes.flatMap((c) => c.regions)[i].policySet,
      pageCount: region.pageCount,
      pageSizeBytes: region.pageSizeBytes,
      localPages: region.engine.localPages,
      replication: region.dvs.replication,
      threads: region.threads.length,
      accesses: region.accessesDone,
      faults: region.faults,
      sigbus: region.sigbus,
      poisonedPages: region.poisonedCount,
      lostPagesReported: lost,
      appTimeNs: region.finishNs - region.startNs,
      allLocalTimeNs: allLocal,
      slowdown: ratio(allLocal > 0 ? (region.finishNs - region.startNs) / allLocal : 0),
      faultLatencyNs: { all: region.latency.summary(), byClass },
      prefetch: {
        issued: vm.prefetch_issued,
        useful: vm.prefetch_useful,
        late: vm.prefetch_late,
        wasted: vm.prefetch_wasted,
        accuracy: ratio(vm.prefetch_issued > 0 ? vm.prefetch_useful / vm.prefetch_issued : 0),
        timeliness: ratio(vm.prefetch_useful > 0 ? vm.prefetch_late / vm.prefetch_useful : 0),
      },
      writebackBatchPages: region.writebackBatchPages.summary(),
      vm,
      dvs: region.dvs.counters(),
      gauges: region.engine.gauges(),
    };
  });
  const nic = run.nic;
  const c = nic.counters;
  const digest = run.sim.digestHex();
  return {
    identity: {
      simulator: SIMULATOR_VERSION,
      seed: run.identity.seed,
      scenarioName: run.identity.scenarioName,
      scenarioDigest: run.identity.scenarioDigest,
      nodeMajor: run.nodeMajor,
      swarm: run.scenario.swarm,
    },
    run: {
      simulatedNs: engine.now(),
      events: engine.eventsProcessed,
      randomDraws: run.sim.digest.drawCount,
      accesses: regions.reduce((n, r) => n + r.accesses, 0),
      faults: regions.reduce((n, r) => n + r.faults, 0),
      sigbus: regions.reduce((n, r) => n + r.sigbus, 0),
    },
    regions,
    network: {
      preset: run.params.preset,
      links: nic.hostNames.map((host, h) => ({ host, egressBytes: nic.egressBytes[h], ingressBytes: nic.ingressBytes[h] })),
      ops: {
        reads: c.reads, writes: c.writes, rpcs: c.rpcs, failed: c.failedOps + run.network.failedLocally(), readBytes: c.readBytes, writeBytes: c.writeBytes,
        maxQueuedAtQueuePair: c.maxQueuedAtQp,
      },
    },
    memoryNodes: run.memoryNodes.map((m) => {
      const donor = m.donor as SimMemoryNode;
      return { name: donor.nodeId, usedBytes: donor.usedRealBytes, slabs: donor.slabs.size, down: donor.down };
    }),
    faults: run.faultLog.map((f) => ({ atNs: f.atNs, kind: f.kind, target: f.target })),
    checks: { shadowMemory: 'ok', strictReplication: [...run.strictReplication], invariants: 'ok', budgets: 'ok' },
    timeSeries: { intervalNs: run.timeSeries.intervalNs, columns: TIME_SERIES_COLUMNS, rows: run.timeSeries.rows.map((r) => [...r]) },
    scenario: run.scenario,
    ...(run.scenario.swarm ? { drawnScenario: run.effective } : {}),
    digest,
    unseed: run.sim.unseed(),
  };
}
