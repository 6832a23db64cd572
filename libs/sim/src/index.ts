/**
 * @rackmem/sim: the deterministic discrete-event simulator. The event engine (integer-nanosecond
 * clock, (time, sequence)-ordered heap, lazy cancellation, seeded tie-break mode), named seeded
 * random streams and the determinism digest; the NIC model with its presets and `SimFabric`,
 * krdma's Fabric port over it, with simulated memory nodes; the rack (dvs's production remote
 * backend over SimFabric) and the simulated MMU that drive the real `@rackmem/vm` paging engine
 * and `@rackmem/dvs` storage; workloads and traces; fault injection, checkers, results; and
 * `runScenario`, the pure and deterministic runner the `rackmem-sim` CLI is built on.
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

// ---- the runner and its scenarios ----------------------------------------------------------

/** Run a scenario (`runScenario`), or step one with progress (`ScenarioRun`). */
export { runScenario, ScenarioRun } from './internal/run/scenario-run.js';
/** Options and progress of a run. */
export type { RunProgress, RunScenarioOptions } from './internal/run/scenario-run.js';
/** The result of a run and its parts. */
export type { RegionResult, SimResult } from './internal/run/result.js';
/** Version string recorded in results. */
export { SIMULATOR_VERSION } from './internal/run/result.js';
/** Column names of the time series. */
export { TIME_SERIES_COLUMNS } from './internal/run/time-series.js';
/** Scenario validation (errors name the bad field). */
export { ScenarioError, validateScenario } from './internal/scenario/validate-scenario.js';
/** Scenario types. */
export type {
  ComputeNodeSpec, FaultPathCosts, FaultPathPresetName, FaultSpec, MemoryNodeSpec, MmuSpec, NetworkSpec, RegionSpec, RunSpec,
  Scenario, TestOnlyBugs,
} from './internal/scenario/scenario.js';
/** Fault-path CPU cost presets (`userfaultfd`, `kernel`). */
export { FAULT_PATH_PRESETS } from './internal/scenario/scenario.js';
/** Built-in scenarios and study grids. */
export { BUILTIN_SCENARIO_NAMES, builtinScenarios, builtinStudies } from './internal/scenario/builtin-scenarios.js';
/** Built-in scenario and study shapes. */
export type { BuiltinScenario, StudyDefinition } from './internal/scenario/builtin-scenarios.js';
/** Field paths (`--set`), and study grids. */
export { parseFieldPath, parseFieldValue, setScenarioField, studyGrid } from './internal/scenario/scenario-fields.js';
/** A point of a study grid. */
export type { StudyPoint } from './internal/scenario/scenario-fields.js';
/** Canonical JSON and the scenario digest. */
export { canonicalJson, scenarioDigest, sortKeys } from './internal/scenario/canonical.js';
/** Swarm mode's draw of a configuration and fault mix. */
export { drawSwarmScenario } from './internal/scenario/swarm.js';
/** Checker failures (with a one-line repro). */
export { SimCheckError } from './internal/checks/errors.js';
/** Checker failure codes and the run identity in a repro. */
export type { RunIdentity, SimCheckCode } from './internal/checks/errors.js';

// ---- models --------------------------------------------------------------------------------

/** NIC / fabric presets and their sources. */
export { NIC_PRESET_NAMES, NIC_PRESET_SOURCES, NIC_PRESETS } from './internal/model/nic-presets.js';
/** NIC parameters and preset names. */
export type { NicParams, NicPresetName } from './internal/model/nic-presets.js';
/** The NIC / link timing model itself (for NIC-level experiments). */
export { NicModel, NicOp, OpClass, OpKind } from './internal/model/nic-model.js';
/** NIC counters, statuses and the op callbacks. */
export type { FabricCounters, NicStatus, OpCompletion, RemoteEffect } from './internal/model/nic-model.js';
/** krdma's Fabric port over the NIC model (one per node), the rack's nodes and their failures. */
export { SIM_DEFAULT_PORT, SimConnection, SimFabric, simNodeHash } from './internal/model/sim-fabric.js';
/** SimFabric's options and counters. */
export type { SimFabricCounters, SimNetworkPort, SimNodeOptions } from './internal/model/sim-fabric.js';
/** The simulated rack network: nodes, crash / restart / cut-off and the failure detector. */
export { SimNetwork } from './internal/model/sim-network.js';
/** SimNetwork's options. */
export type { SimNetworkNodeOptions, SimNetworkOptions } from './internal/model/sim-network.js';
/** Simulated memory nodes (the donor behind a SimFabric) and the storage scaling. */
export { CONTENT_BYTES, SimMemoryNode, STORAGE_SCALE } from './internal/model/memory-node.js';
/** A memory node's slabs, vector entries and usage figures. */
export type { SimDonorStats, SimSlab, SimVectorEntry } from './internal/model/memory-node.js';
/** Latency classes of faults. */
export { FAULT_CLASS_NAMES } from './internal/rack/sim-region.js';
/** One latency class. */
export type { FaultClassName } from './internal/rack/sim-region.js';
/** The log-linear histogram used for latencies and batch sizes. */
export { LogLinearHistogram } from './internal/metrics/histogram.js';
/** Its summary. */
export type { HistogramSummary } from './internal/metrics/histogram.js';

// ---- workloads and traces -------------------------------------------------------------------

/** Workload streams: the batch, creation and validation. */
export { AccessBatch } from './internal/workloads/access-batch.js';
/** A workload and its per-thread streams. */
export type { AccessStream, Workload } from './internal/workloads/access-batch.js';
/** Builds a workload from a spec. */
export { createWorkload } from './internal/workloads/create-workload.js';
/** Options of createWorkload. */
export type { CreateWorkloadOptions } from './internal/workloads/create-workload.js';
/** Validates a workload spec. */
export { validateWorkloadSpec } from './internal/workloads/validate.js';
/** Workload spec kinds. */
export { WORKLOAD_KINDS } from './internal/workloads/spec.js';
/** Workload spec types. */
export type { WorkloadKind, WorkloadSpec } from './internal/workloads/spec.js';
/** Workload errors. */
export { WorkloadError } from './internal/workloads/errors.js';
/** Trace byte sources (in memory). */
export { memoryByteSource } from './internal/workloads/trace/records.js';
/** A source of trace bytes. */
export type { ByteSource } from './internal/workloads/trace/records.js';
/** Trace files: workloads over files, writing and converting (Node file I/O). */
export { convertTraceFile, createFileWorkload, writeTraceFile } from './adapters/traces/trace-files.js';
/** Opens trace files for `runScenario`'s `openTraceSource`. */
export { traceFileOpener } from './adapters/traces/file-source.js';
