// The runner: builds the rack of a scenario (fabric, memory nodes, compute nodes with their
// registries and regions), schedules the faults, the heal phase and the sampler, runs the engine
// to the end, checks, and assembles the result. Pure and synchronous: the same scenario and seed
// give the same events, digest and result.

import { NodeRegistry } from '@rackmem/dvs';
import { VM_COUNTER_NAMES, VmError, type BuggifyHook, type BuggifySite } from '@rackmem/vm';
import { nodeMajorVersion } from '../../adapters/runtime-identity.js';
import type { EventHandler } from '../engine.js';
import { Simulation } from '../simulation.js';
import { SimCheckError, type RunIdentity, type SimCheckCode } from '../checks/errors.js';
import { Fabric } from '../model/fabric.js';
import { SimMemoryNode, SimRemoteBackend, STORAGE_SCALE, type ClassSelector } from '../model/memory-node.js';
import { NIC_PRESETS, type NicParams } from '../model/nic-presets.js';
import { SimRegion } from '../rack/sim-region.js';
import { scenarioDigest } from '../scenario/canonical.js';
import { FAULT_PATH_PRESETS, type FaultPathCosts, type FaultSpec, type Scenario } from '../scenario/scenario.js';
import { drawSwarmScenario } from '../scenario/swarm.js';
import { validateScenario } from '../scenario/validate-scenario.js';
import { createWorkload } from '../workloads/create-workload.js';
import type { ByteSource } from '../workloads/trace/records.js';
import { buildResult, type SimResult } from './result.js';
import { TimeSeries } from './time-series.js';

/** Progress of a running scenario (for a progress bar). */
export interface RunProgress {
  events: number;
  simulatedNs: number;
  accessesDone: number;
  /** Accesses of every workload together, when known in advance. */
  accessesTotal: number | undefined;
  threadsRunning: number;
}

/** Options of `runScenario`. */
export interface RunScenarioOptions {
  /** Root seed of the run. */
  seed: string | number;
  /** Called every `progressEveryEvents` events (default 1,000,000). */
  onProgress?: (progress: RunProgress) => void;
  progressEveryEvents?: number;
  /** Run simultaneous events in a seeded random order (explores interleavings). */
  perturbTies?: boolean;
  /** Opens the file of a `trace` workload (the CLI passes the file adapter's opener). */
  openTraceSource?: (path: string) => ByteSource;
  /** Recorded in the identity (default: the running Node's major version). */
  nodeMajor?: number;
}

/** Compute node of the rack. */
interface ComputeHost {
  name: string;
  host: number;
  registry: NodeRegistry;
  selector: ClassSelector;
}

/** Memory node of the rack with its failure-detector state. */
interface MemoryHost {
  node: SimMemoryNode;
  markedLost: boolean;
  unreachable: boolean;
}

/** One run of a scenario. Use `runScenario` unless you need to step it. */
export class ScenarioRun {
  /** The scenario as given (validated), and the one that ran (after swarm draws). */
  readonly scenario: Scenario;
  readonly effective: Scenario;
  readonly identity: RunIdentity;
  readonly sim: Simulation;
  readonly fabric: Fabric;
  readonly params: NicParams;
  readonly costs: FaultPathCosts;
  readonly regions: SimRegion[] = [];
  readonly regionNodes: string[] = [];
  readonly memory: MemoryHost[] = [];
  readonly computes: ComputeHost[] = [];
  readonly timeSeries: TimeSeries;
  readonly faultLog: { atNs: number; kind: string; target: string }[] = [];
  readonly strictReplication: boolean[] = [];
  readonly nodeMajor: number;
  private regionsRunning = 0;
  private healed = false;
  private readonly accessesTotal: number | undefined;
  private readonly options: RunScenarioOptions;
  private readonly actionHandler: EventHandler<() => void>;
  private readonly sampleHandler: EventHandler<undefined>;
  private sampling = true;
  private sampleEvent = -1;
  private deadlineEvent = -1;
  private readonly deadlineHandler: EventHandler<undefined> = { kindId: 0x44, onEvent: () => this.sim.engine.stop() };
  private finished = false;

  constructor(input: unknown, options: RunScenarioOptions) {
    this.options = options;
    this.scenario = validateScenario(input);
    this.nodeMajor = options.nodeMajor ?? nodeMajorVersion();
    this.sim = new Simulation({ seed: options.seed, perturbTies: options.perturbTies === true });
    this.identity = { seed: this.sim.seed, scenarioName: this.scenario.name, scenarioDigest: scenarioDigest(this.scenario) };
    const streams = this.sim.streams;
    this.effective = this.scenario.swarm ? validateScenario(drawSwarmScenario(this.scenario, streams.stream('swarm/config'))) : this.scenario;
    const sc = this.effective;
    const { preset, ...overrides } = sc.network;
    this.params = { ...NIC_PRESETS[preset], ...overrides };
    const { preset: costPreset, ...costOverrides } = sc.faultPath;
    this.costs = { ...FAULT_PATH_PRESETS[costPreset], ...costOverrides };
    this.fabric = new Fabric(this.sim.engine, this.params, streams.stream('faults/latency'));
    this.actionHandler = { kindId: 0x41, onEvent: (action) => action() };
    this.sampleHandler = { kindId: 0x53, onEvent: () => this.sample() };
    this.timeSeries = new TimeSeries(sc.run.sampleIntervalNs, sc.run.maxTimeSeriesRows);

    for (const m of sc.memoryNodes) {
      const host = this.fabric.addHost(m.name);
      this.memory.push({ node: new SimMemoryNode(m.name, host, Math.floor(m.capacityBytes / STORAGE_SCALE)), markedLost: false, unreachable: false });
    }
    const buggify = sc.buggify ? this.buggifyHook() : undefined;
    const faultedNodes = new Set(sc.faults.filter((f) => f.kind === 'crash' || f.kind === 'lost-connection').map((f) => (f as { node: string }).node));
    let total: number | undefined = 0;
    for (const c of sc.computeNodes) {
      const host = this.fabric.addHost(c.name);
      const selector: ClassSelector = { opClass: 0, issueAtNs: 0 };
      const registry = new NodeRegistry(this.memory.map((m) => new SimRemoteBackend(this.fabric, m.node, host, selector, this.sim.engine)));
      const compute: ComputeHost = { name: c.name, host, registry, selector };
      this.computes.push(compute);
      for (const spec of c.regions) {
        const workload = createWorkload(spec.workload, (name) => streams.stream(name), {
          streamPrefix: `workload/${spec.name}`,
          openTraceSource: options.openTraceSource,
          specPath: `${spec.name}.workload`,
        });
        if (total !== undefined) total = workload.totalAccesses === undefined ? undefined : total + workload.totalAccesses;
        const region = new SimRegion(spec, workload, {
          engine: this.sim.engine,
          registry,
          selector,
          costs: this.costs,
          quantumNs: sc.mmu.quantumNs,
          batchAccesses: sc.mmu.batchAccesses,
          hitCostNs: sc.mmu.hitCostNs,
          random: streams.stream(`dvs/${spec.name}/placement`),
          buggify,
          testOnly: sc.testOnly,
          fail: (code, detail) => this.fail(code, detail),
          onThreadsDone: () => this.onRegionDone(),
        });
        this.regions.push(region);
        this.regionNodes.push(c.name);
        this.strictReplication.push(spec.replication >= 2 && faultedNodes.size <= spec.replication - 1);
      }
    }
    this.accessesTotal = total;
    this.regionsRunning = this.regions.length;
    for (const f of sc.faults) this.scheduleFault(f);
    if (sc.healAtNs !== undefined) this.at(sc.healAtNs, () => this.heal());
    for (const region of this.regions) region.start();
    this.sampleEvent = this.sim.engine.schedule(sc.run.sampleIntervalNs, this.sampleHandler, undefined);
  }

  /** Threads still running in all regions. */
  get threadsRunning(): number {
    let n = 0;
    for (const r of this.regions) n += r.threadsRunning;
    return n;
  }

  /** Runs to the end (every thread done and every operation settled), checks, returns the result. */
  run(): SimResult {
    if (this.finished) throw new Error('this run already finished; create a new ScenarioRun');
    const engine = this.sim.engine;
    const every = this.options.progressEveryEvents ?? 1_000_000;
    const untilNs = this.effective.run.maxSimulatedNs;
    const onProgress = this.options.onProgress;
    // A deadline event stops the run at the liveness budget; it is cancelled when the last
    // thread finishes, so simulatedNs is the time of the last event, not the budget.
    this.deadlineEvent = engine.scheduleAt(Math.max(untilNs, engine.now()), this.deadlineHandler, undefined);
    for (;;) {
      const reason = engine.run({ maxEvents: every });
      if (onProgress !== undefined) onProgress(this.progress());
      if (reason !== 'max-events') break;
    }
    if (this.threadsRunning > 0) {
      const stuck = this.regions.filter((r) => r.threadsRunning > 0).map((r) => {
        const g = r.engine.gauges();
        const c = r.engine.counters.counts;
        return `${r.name}: ${r.threadsRunning} running, ${g.waiting_faults} faults waiting for a frame, ${g.writeback_queue} pages queued for write-back, ${c[VM_COUNTER_NAMES.indexOf('writeback_failed')]} failed write-back batches, ${this.fabric.opsInFlight} storage ops in flight`;
      });
      this.fail('liveness', `${this.threadsRunning} thread(s) did not finish within run.maxSimulatedNs = ${untilNs} ns (${stuck.join('; ')})`);
    }
    this.finished = true;
    this.finalChecks();
    return buildResult(this);
  }

  /** Current progress. */
  progress(): RunProgress {
    let accessesDone = 0;
    for (const r of this.regions) accessesDone += r.accessesDone;
    return {
      events: this.sim.engine.eventsProcessed,
      simulatedNs: this.sim.engine.now(),
      accessesDone,
      accessesTotal: this.accessesTotal,
      threadsRunning: this.threadsRunning,
    };
  }

  /** Throws the typed checker failure with the run's repro line. */
  fail(code: SimCheckCode, detail: string): never {
    throw new SimCheckError(code, detail, this.sim.engine.now(), this.identity);
  }

  // ------------------------------------------------------------------ checks

  private finalChecks(): void {
    this.regions.forEach((region, i) => {
      try {
        region.engine.checkInvariants();
      } catch (error) {
        if (error instanceof VmError) this.fail('engine-invariant', `region ${region.name}: ${error.message}`);
        throw error;
      }
      const g = region.engine.gauges();
      if (g.page_count > g.page_count_limit) this.fail('budget-exceeded', `region ${region.name}: ${g.page_count} resident pages over a budget of ${g.page_count_limit} once quiet`);
      region.checkResident();
      if (this.strictReplication[i]) {
        const lost = region.dvs.counters().pages_lost;
        if (region.poisonedCount > 0 || lost > 0) {
          this.fail('page-lost-despite-replication', `region ${region.name}: replication ${region.dvs.replication} with at most one failed node at a time, yet ${lost} page(s) lost and ${region.poisonedCount} poisoned`);
        }
      }
    });
  }

  private sample(): void {
    const engine = this.sim.engine;
    let resident = 0;
    let faults = 0;
    let accesses = 0;
    for (const region of this.regions) {
      region.tick();
      const g = region.engine.gauges();
      resident += g.page_count;
      faults += region.faults;
      accesses += region.accessesDone;
      if (g.page_count > g.page_count_limit && g.active_list_size + g.inactive_list_size > 0) {
        this.fail('budget-exceeded', `region ${region.name}: ${g.page_count} resident pages over a budget of ${g.page_count_limit} with evictable pages left`);
      }
    }
    let bytes = 0;
    for (let h = 0; h < this.fabric.hostNames.length; h++) bytes += this.fabric.egressBytes[h];
    this.timeSeries.record(engine.now(), faults, accesses, resident, bytes);
    if (this.sampling) this.sampleEvent = engine.schedule(this.timeSeries.intervalNs, this.sampleHandler, undefined);
  }

  private onRegionDone(): void {
    if (--this.regionsRunning === 0) {
      this.sampling = false;
      this.sim.engine.cancel(this.sampleEvent);
      this.sim.engine.cancel(this.deadlineEvent);
      // One last sample at the end of the application phase.
      this.at(this.sim.engine.now(), () => this.sample());
    }
  }

  // ------------------------------------------------------------------ faults

  private at(timeNs: number, action: () => void): void {
    this.sim.engine.scheduleAt(Math.max(timeNs, this.sim.engine.now()), this.actionHandler, action);
  }

  private memoryHost(name: string): MemoryHost {
    return this.memory.find((m) => m.node.nodeId === name) as MemoryHost;
  }

  private hostIndex(name: string): number {
    return this.fabric.hostNames.indexOf(name);
  }

  private log(kind: string, target: string): void {
    this.faultLog.push({ atNs: this.sim.engine.now(), kind, target });
  }

  private scheduleFault(f: FaultSpec): void {
    const detectNs = this.params.failureDetectNs;
    switch (f.kind) {
      case 'crash': {
        const m = this.memoryHost(f.node);
        this.at(f.atNs, () => {
          if (this.healed || m.node.down) return;
          this.log('crash', f.node);
          this.fabric.crash(m.node.host);
          m.node.crash();
          this.at(this.sim.engine.now() + detectNs, () => {
            if (m.node.down) this.markLost(m);
          });
        });
        if (f.restartAtNs !== undefined) this.at(f.restartAtNs, () => this.restart(m));
        break;
      }
      case 'lost-connection': {
        const m = this.memoryHost(f.node);
        this.at(f.fromNs, () => {
          if (this.healed || m.unreachable || m.node.down) return;
          this.log('lost-connection', f.node);
          m.unreachable = true;
          this.fabric.setUnreachable(m.node.host, true);
          this.at(this.sim.engine.now() + detectNs, () => {
            if (m.unreachable) this.markLost(m);
          });
        });
        this.at(f.untilNs, () => this.reconnect(m));
        break;
      }
      case 'slow-link': {
        const host = this.hostIndex(f.host);
        this.at(f.fromNs, () => {
          if (this.healed) return;
          this.log('slow-link', f.host);
          this.fabric.setLinkBandwidthFactor(host, f.bandwidthFactor);
        });
        this.at(f.untilNs, () => this.fabric.setLinkBandwidthFactor(host, 1));
        break;
      }
      case 'latency-spike': {
        const host = this.hostIndex(f.host);
        this.at(f.fromNs, () => {
          if (this.healed) return;
          this.log('latency-spike', f.host);
          this.fabric.setLatencySpike(host, f.extraMeanNs);
        });
        this.at(f.untilNs, () => this.fabric.setLatencySpike(host, 0));
        break;
      }
      case 'set-budget': {
        const region = this.regions.find((r) => r.name === f.region) as SimRegion;
        this.at(f.atNs, () => {
          this.log('set-budget', f.region);
          const pages = f.localPages ?? Math.max(1, Math.round((f.localRatio as number) * region.pageCount));
          region.setBudget(pages);
        });
        break;
      }
    }
  }

  private markLost(m: MemoryHost): void {
    if (m.markedLost) return;
    m.markedLost = true;
    for (const c of this.computes) c.registry.markLost(m.node.nodeId);
  }

  private restart(m: MemoryHost): void {
    if (!m.node.down) return;
    this.log('restart', m.node.nodeId);
    this.markLost(m);
    this.fabric.restart(m.node.host);
    m.node.restart();
    m.markedLost = false;
    for (const c of this.computes) c.registry.markHealthy(m.node.nodeId);
  }

  private reconnect(m: MemoryHost): void {
    if (!m.unreachable) return;
    this.log('reconnect', m.node.nodeId);
    m.unreachable = false;
    this.fabric.setUnreachable(m.node.host, false);
    if (m.markedLost) {
      // Declared dead while cut off: the rack treats it as a new, empty node.
      this.fabric.restart(m.node.host);
      m.node.restart();
      m.markedLost = false;
      for (const c of this.computes) c.registry.markHealthy(m.node.nodeId);
    }
  }

  private heal(): void {
    this.healed = true;
    this.log('heal', '*');
    for (const m of this.memory) {
      this.restart(m);
      this.reconnect(m);
    }
    for (let h = 0; h < this.fabric.hostNames.length; h++) {
      this.fabric.setLinkBandwidthFactor(h, 1);
      this.fabric.setLatencySpike(h, 0);
    }
  }

  /** The vm's buggify hook: each site is activated once per run with p = 1/2, then fires 1/4 of the time. */
  private buggifyHook(): BuggifyHook {
    const stream = this.sim.streams.stream('buggify');
    const active = new Map<BuggifySite, boolean>();
    return (site) => {
      let on = active.get(site);
      if (on === undefined) {
        on = stream.chance(1, 2);
        active.set(site, on);
      }
      return on && stream.chance(1, 4);
    };
  }
}

/**
 * Runs a scenario (validated first) with a seed and returns its result. Pure and synchronous: the
 * same scenario, seed, code and Node major give a byte-identical `JSON.stringify(result)`.
 * Checker failures throw a `SimCheckError` carrying a one-line repro.
 */
export function runScenario(scenario: unknown, options: RunScenarioOptions): SimResult {
  return new ScenarioRun(scenario, options).run();
}
