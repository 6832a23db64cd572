// The runner: builds the rack of a scenario (the NIC model, memory nodes and compute nodes as
// SimFabric nodes of a SimNetwork), boots it (every compute node connects to every memory node
// and asks its capacity, through krdma's Fabric port), then gives each compute node a dvs
// NodeRegistry of production `remote` backends (createRemoteBackend) fed by the fabric's peer
// events, builds the regions, schedules the faults, the heal phase and the sampler, runs the
// engine to the end, checks, and assembles the result. Pure and synchronous: the same scenario
// and seed give the same events, digest and result.

import { createRemoteBackend, NodeRegistry, type Backend } from '@rackmem/dvs';
import { VM_COUNTER_NAMES, VmError, type BuggifyHook, type BuggifySite } from '@rackmem/vm';
import { nodeMajorVersion } from '../../adapters/runtime-identity.js';
import type { EventHandler } from '../engine.js';
import { Simulation } from '../simulation.js';
import { SimCheckError, type RunIdentity, type SimCheckCode } from '../checks/errors.js';
import { STORAGE_SCALE } from '../model/memory-node.js';
import { NicModel } from '../model/nic-model.js';
import { NIC_PRESETS, type NicParams } from '../model/nic-presets.js';
import { SIM_DEFAULT_PORT, type SimFabric } from '../model/sim-fabric.js';
import { SimNetwork } from '../model/sim-network.js';
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
  fabric: SimFabric;
  registry: NodeRegistry;
}

/** One run of a scenario. Use `runScenario` unless you need to step it. */
export class ScenarioRun {
  /** The scenario as given (validated), and the one that ran (after swarm draws). */
  readonly scenario: Scenario;
  readonly effective: Scenario;
  readonly identity: RunIdentity;
  readonly sim: Simulation;
  /** The NIC / link timing model, and the rack's nodes over it (krdma's Fabric port per node). */
  readonly nic: NicModel;
  readonly network: SimNetwork;
  readonly params: NicParams;
  readonly costs: FaultPathCosts;
  readonly regions: SimRegion[] = [];
  readonly regionNodes: string[] = [];
  readonly memoryNodes: SimFabric[] = [];
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
    this.nic = new NicModel(this.sim.engine, this.params, streams.stream('faults/latency'));
    this.network = new SimNetwork(this.sim.engine, this.nic, { storageScale: STORAGE_SCALE });
    this.actionHandler = { kindId: 0x41, onEvent: (action) => action() };
    this.sampleHandler = { kindId: 0x53, onEvent: () => this.sample() };
    this.timeSeries = new TimeSeries(sc.run.sampleIntervalNs, sc.run.maxTimeSeriesRows);

    for (const m of sc.memoryNodes) {
      this.memoryNodes.push(this.network.addNode({ nodeName: m.name, donorCapacityBytes: Math.floor(m.capacityBytes / STORAGE_SCALE) }));
    }
    const computeFabrics = sc.computeNodes.map((c) => this.network.addNode({ nodeName: c.name }));
    const backends = this.boot(computeFabrics);
    const buggify = sc.buggify ? this.buggifyHook() : undefined;
    const faultedNodes = new Set(sc.faults.filter((f) => f.kind === 'crash' || f.kind === 'lost-connection').map((f) => (f as { node: string }).node));
    let total: number | undefined = 0;
    sc.computeNodes.forEach((c, ci) => {
      const fabric = computeFabrics[ci];
      const registry = new NodeRegistry(backends[ci]);
      // Peer events feed the registry, as the production runtime does (apps/node remote-storage).
      fabric.onPeerEvent((event) => {
        const name = event.peer.nodeName;
        if (name === null || registry.indexOf(name) < 0) return;
        if (event.kind === 'lost' || event.kind === 'closed') registry.markLost(name);
        else if (event.kind === 'up') registry.markHealthy(name);
      });
      this.computes.push({ name: c.name, fabric, registry });
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
          fabric,
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
    });
    this.accessesTotal = total;
    this.regionsRunning = this.regions.length;
    for (const f of sc.faults) this.scheduleFault(f);
    if (sc.healAtNs !== undefined) this.at(sc.healAtNs, () => this.heal());
    for (const region of this.regions) region.start();
    this.sampleEvent = this.sim.engine.schedule(sc.run.sampleIntervalNs, this.sampleHandler, undefined);
  }

  /**
   * Boots the rack before the application starts: every compute node connects to every memory
   * node (the handshake's round trips) and asks its capacity (a stats RPC), as the production
   * runtime does before it opens remote storage; returns each compute node's remote backends.
   */
  private boot(computeFabrics: SimFabric[]): Backend[][] {
    const failures: string[] = [];
    const backends: Backend[][] = computeFabrics.map(() => []);
    computeFabrics.forEach((fabric, ci) => {
      this.memoryNodes.forEach((memory, mi) => {
        const name = memory.identity.nodeName;
        fabric.connect({ host: name, port: SIM_DEFAULT_PORT }, (status, peer, reason) => {
          if (status !== 'ok' || peer.id === null) {
            failures.push(`${fabric.identity.nodeName} -> ${name}: ${status} (${reason ?? ''})`);
            return;
          }
          const peerId = peer.id;
          fabric.stats(peerId, (statsStatus, stats, statsReason) => {
            if (statsStatus !== 'ok' || stats === null) {
              failures.push(`${fabric.identity.nodeName} stats of ${name}: ${statsStatus} (${statsReason ?? ''})`);
              return;
            }
            const capacityBytes = stats.capacityBytes - stats.usedBytes + stats.peerUsedBytes;
            backends[ci][mi] = createRemoteBackend({ fabric, peer: peerId, nodeId: name, capacityBytes });
          });
        });
      });
    });
    this.sim.engine.run();
    if (failures.length > 0) throw new Error(`the simulated rack did not boot: ${failures.join('; ')}`);
    return backends;
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
        return `${r.name}: ${r.threadsRunning} running, ${g.waiting_faults} faults waiting for a frame, ${g.writeback_queue} pages queued for write-back, ${c[VM_COUNTER_NAMES.indexOf('writeback_failed')]} failed write-back batches, ${this.nic.opsInFlight} storage ops in flight`;
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
    for (let h = 0; h < this.nic.hostNames.length; h++) bytes += this.nic.egressBytes[h];
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

  private hostIndex(name: string): number {
    return this.nic.hostNames.indexOf(name);
  }

  private log(kind: string, target: string): void {
    this.faultLog.push({ atNs: this.sim.engine.now(), kind, target });
  }

  private scheduleFault(f: FaultSpec): void {
    switch (f.kind) {
      case 'crash': {
        const node = this.network.node(f.node);
        this.at(f.atNs, () => {
          if (this.healed || node.down) return;
          this.log('crash', f.node);
          this.network.crash(f.node);
        });
        if (f.restartAtNs !== undefined) this.at(f.restartAtNs, () => this.restart(node));
        break;
      }
      case 'lost-connection': {
        const node = this.network.node(f.node);
        this.at(f.fromNs, () => {
          if (this.healed || node.cutOff || node.down) return;
          this.log('lost-connection', f.node);
          this.network.setReachable(f.node, false);
        });
        this.at(f.untilNs, () => this.reconnect(node));
        break;
      }
      case 'slow-link': {
        const host = this.hostIndex(f.host);
        this.at(f.fromNs, () => {
          if (this.healed) return;
          this.log('slow-link', f.host);
          this.nic.setLinkBandwidthFactor(host, f.bandwidthFactor);
        });
        this.at(f.untilNs, () => this.nic.setLinkBandwidthFactor(host, 1));
        break;
      }
      case 'latency-spike': {
        const host = this.hostIndex(f.host);
        this.at(f.fromNs, () => {
          if (this.healed) return;
          this.log('latency-spike', f.host);
          this.nic.setLatencySpike(host, f.extraMeanNs);
        });
        this.at(f.untilNs, () => this.nic.setLatencySpike(host, 0));
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

  private restart(node: SimFabric): void {
    if (!node.down) return;
    this.log('restart', node.identity.nodeName);
    this.network.restart(node.identity.nodeName);
  }

  private reconnect(node: SimFabric): void {
    if (!node.cutOff) return;
    this.log('reconnect', node.identity.nodeName);
    this.network.setReachable(node.identity.nodeName, true);
  }

  private heal(): void {
    this.healed = true;
    this.log('heal', '*');
    for (const node of this.memoryNodes) {
      this.restart(node);
      this.reconnect(node);
    }
    for (let h = 0; h < this.nic.hostNames.length; h++) {
      this.nic.setLinkBandwidthFactor(h, 1);
      this.nic.setLatencySpike(h, 0);
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
