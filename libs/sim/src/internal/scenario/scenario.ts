// Scenario: the JSON-serialisable description of one simulated rack and what happens to it. The
// CLI reads YAML or JSON into a plain object and passes it to validateScenario, which fills the
// defaults and names the bad field in every error (`computeNodes[0].regions[1].localRatio: ...`).

import type { VmConfig } from '@rackmem/vm';
import type { WorkloadSpec } from '../workloads/spec.js';
import type { NicParams, NicPresetName } from '../model/nic-presets.js';

/** Fault-path CPU costs of the pager (integer ns). */
export interface FaultPathCosts {
  /** From the faulting access to the pager handling the fault (trap + message + handler wake-up). */
  trapNs: number;
  /** Copying 4 KiB into place when a page is mapped (UFFDIO_COPY), per 4 KiB of the page. */
  copyNsPer4KiB: number;
  /** Installing the mapping (page-table update), per Map. */
  mapNs: number;
  /** Removing a mapping (UFFDIO_MOVE / zap + TLB shootdown), per Unmap. */
  unmapNs: number;
  /** Write-protect mode: a write to a write-protected (clean) page, from the access to the pager handling it (a fault message like a miss). */
  wpFaultNs: number;
  /** Asynchronous mode (WP_ASYNC): the same write, resolved by the kernel itself; the thread pays it and goes on. */
  wpAsyncNs: number;
  /** Asynchronous mode: the pager's dirty probe of one page before a clean page leaves (PAGEMAP_SCAN). */
  dirtyScanNs: number;
  /** Waking a thread that waited for its page. */
  wakeNs: number;
}

/** Names of the fault-path cost presets. */
export type FaultPathPresetName = 'userfaultfd' | 'kernel';

/** One region of a compute node. */
export interface RegionSpec {
  /** Name used in results (default `<node>/r<i>`). */
  name: string;
  /** The access pattern (a workload spec of the workloads module). */
  workload: WorkloadSpec;
  /** Local budget as a share of the region's pages, in (0, 1]; ignored when localPages is set. */
  localRatio: number;
  /** Local budget in pages (overrides localRatio). */
  localPages?: number;
  /** The vm policy set (default rackmem2021). */
  policySet: 'rackmem2021' | 'improved';
  /** Overrides of the vm configuration (any VmConfig field except pageCount, pageSizeBytes, localPages). */
  vm: Partial<Omit<VmConfig, 'pageCount' | 'pageSizeBytes' | 'localPages'>>;
  /** 4 KiB pages per paging block (block paging; page size = 4096 x blockPages; default 1). */
  blockPages: number;
  /** Copies of each page on distinct memory nodes (default 1). */
  replication: number;
  /** Slab placement (default round-robin). */
  placement: 'round-robin' | 'two-choices';
  /** Real slab size in bytes (default 64 MiB). */
  slabSizeBytes: number;
  /**
   * How writes to clean pages are found under dirty tracking (default false: write-protect
   * faults). True: WP_ASYNC + the engine's dirty probe (a PAGEMAP_SCAN per clean victim).
   */
  asyncDirtyTracking: boolean;
}

/** A compute node and its regions. */
export interface ComputeNodeSpec {
  name: string;
  regions: RegionSpec[];
}

/** A memory node. */
export interface MemoryNodeSpec {
  name: string;
  /** Real bytes it donates. */
  capacityBytes: number;
}

/** A fault injected at a simulated time. Hosts are named by their node names. */
export type FaultSpec =
  | { kind: 'crash'; node: string; atNs: number; restartAtNs?: number }
  | { kind: 'lost-connection'; node: string; fromNs: number; untilNs: number }
  | { kind: 'slow-link'; host: string; fromNs: number; untilNs: number; bandwidthFactor: number }
  | { kind: 'latency-spike'; host: string; fromNs: number; untilNs: number; extraMeanNs: number }
  | { kind: 'set-budget'; region: string; atNs: number; localRatio?: number; localPages?: number };

/** The network: a preset and overrides of any of its parameters. */
export type NetworkSpec = { preset: NicPresetName } & Partial<Omit<NicParams, 'preset'>>;

/** Simulated-MMU parameters. */
export interface MmuSpec {
  /** A thread processes hits in bulk for at most this much simulated time per event (default 20 us). */
  quantumNs: number;
  /** Accesses fetched from a workload stream at once (default 256). */
  batchAccesses: number;
  /** CPU time of one access that hits (added to the workload's think time; default 5 ns). */
  hitCostNs: number;
}

/** Run control. */
export interface RunSpec {
  /** Interval of the time series and of the sampled checks (default 1 ms). */
  sampleIntervalNs: number;
  /** Liveness budget: every thread must finish before this simulated time (default 600 s). */
  maxSimulatedNs: number;
  /** Rows of the time series kept at most; the interval doubles when exceeded (default 2000). */
  maxTimeSeriesRows: number;
}

/**
 * Deliberate bugs, for tests of the checkers only: never set these in a study.
 * `ackWritebackWithoutStoreEvery`: every Nth page write-back is acknowledged 'ok' without being
 * stored. `mapBeforeFetch`: a demand fetch is reported done at once, before its data arrived.
 */
export interface TestOnlyBugs {
  ackWritebackWithoutStoreEvery?: number;
  mapBeforeFetch?: boolean;
}

/** A validated scenario with every default filled in. */
export interface Scenario {
  name: string;
  description: string;
  network: NetworkSpec;
  faultPath: { preset: FaultPathPresetName } & Partial<FaultPathCosts>;
  memoryNodes: MemoryNodeSpec[];
  computeNodes: ComputeNodeSpec[];
  mmu: MmuSpec;
  faults: FaultSpec[];
  /** At this time every fault is switched off and crashed nodes restart (heal phase). */
  healAtNs?: number;
  /** Activate the vm's buggify sites from a seeded stream. */
  buggify: boolean;
  /** Draw the configuration and the fault mix from the seed (see README, swarm mode). */
  swarm: boolean;
  run: RunSpec;
  testOnly?: TestOnlyBugs;
}

/** Fault-path cost presets (sources in the README). */
export const FAULT_PATH_PRESETS: Readonly<Record<FaultPathPresetName, FaultPathCosts>> = {
  // User-space pager (peers.md §4.1, same-vCPU figures): MISSING + UFFDIO_COPY p50 ~8 us in
  // all, of which the copy ~1.5 us; UFFDIO_MOVE ~1 us per page; a write-protect fault is a
  // message like a miss; WP_ASYNC write fault 0.66 us; PAGEMAP_SCAN of one page ~1 us (measured).
  userfaultfd: { trapNs: 4000, copyNsPer4KiB: 1500, mapNs: 200, unmapNs: 1000, wpFaultNs: 4000, wpAsyncNs: 700, dirtyScanNs: 1000, wakeNs: 2000 },
  // The original's in-kernel fault handler: a kernel fault ~1.3 us (peers.md §4.1 baseline),
  // remapping a vmalloc buffer without a copy, PTE zap; no cross-thread wake-up. [est]
  kernel: { trapNs: 1300, copyNsPer4KiB: 0, mapNs: 300, unmapNs: 500, wpFaultNs: 700, wpAsyncNs: 700, dirtyScanNs: 300, wakeNs: 0 },
};
