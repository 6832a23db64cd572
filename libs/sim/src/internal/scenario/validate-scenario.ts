// validateScenario: checks a parsed JSON/YAML value and returns a Scenario with every default
// filled in. Errors name the bad field; unknown fields are errors, so a typo never silently
// becomes a default.

import { WorkloadError } from '../workloads/errors.js';
import { validateWorkloadSpec } from '../workloads/validate.js';
import type { WorkloadSpec } from '../workloads/spec.js';
import { NIC_PRESET_NAMES, type NicPresetName } from '../model/nic-presets.js';
import {
  FAULT_PATH_PRESETS, type ComputeNodeSpec, type FaultPathPresetName, type FaultSpec, type MemoryNodeSpec,
  type RegionSpec, type Scenario,
} from './scenario.js';

/** A scenario field is invalid: `field` names it, the message says what is expected. */
export class ScenarioError extends Error {
  readonly code = 'invalid-scenario';
  constructor(readonly field: string, problem: string) {
    super(`${field}: ${problem}`);
    this.name = 'ScenarioError';
  }
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fail(field: string, problem: string): never {
  throw new ScenarioError(field, problem);
}

function only(o: Obj, path: string, allowed: readonly string[]): void {
  for (const key of Object.keys(o)) {
    if (!allowed.includes(key)) fail(path === '' ? key : `${path}.${key}`, `unknown field; expected one of ${allowed.join(', ')}`);
  }
}

function at(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function int(o: Obj, path: string, key: string, min: number, max: number, dflt?: number): number {
  const v = o[key];
  if (v === undefined) {
    if (dflt === undefined) fail(at(path, key), `is required (an integer in [${min}, ${max}])`);
    return dflt;
  }
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) fail(at(path, key), `must be an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
  return v;
}

function optInt(o: Obj, path: string, key: string, min: number, max: number): number | undefined {
  return o[key] === undefined ? undefined : int(o, path, key, min, max);
}

function num(o: Obj, path: string, key: string, check: (v: number) => boolean, expected: string, dflt?: number): number {
  const v = o[key];
  if (v === undefined) {
    if (dflt === undefined) fail(at(path, key), `is required (${expected})`);
    return dflt;
  }
  if (typeof v !== 'number' || !Number.isFinite(v) || !check(v)) fail(at(path, key), `must be ${expected}, got ${JSON.stringify(v)}`);
  return v;
}

function str(o: Obj, path: string, key: string, dflt?: string): string {
  const v = o[key];
  if (v === undefined) {
    if (dflt === undefined) fail(at(path, key), 'is required (a string)');
    return dflt;
  }
  if (typeof v !== 'string' || v.length === 0) fail(at(path, key), `must be a non-empty string, got ${JSON.stringify(v)}`);
  return v;
}

function oneOf<T extends string>(o: Obj, path: string, key: string, allowed: readonly T[], dflt: T): T {
  const v = o[key];
  if (v === undefined) return dflt;
  if (!allowed.includes(v as T)) fail(at(path, key), `must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
  return v as T;
}

function bool(o: Obj, path: string, key: string, dflt: boolean): boolean {
  const v = o[key];
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') fail(at(path, key), `must be true or false, got ${JSON.stringify(v)}`);
  return v;
}

function arr(o: Obj, path: string, key: string): unknown[] {
  const v = o[key];
  if (!Array.isArray(v)) fail(at(path, key), 'must be an array');
  return v;
}

const MAX_NS = 2 ** 52;
const GIB = 1024 ** 3;

const VM_OVERRIDE_FIELDS: Record<string, 'int' | 'bool' | readonly string[]> = {
  reclaim: ['none', 'background', 'watermark'],
  backgroundTriggerPermyriad: 'int',
  backgroundBatchPermyriad: 'int',
  watermarkLowPermille: 'int',
  watermarkHighPermille: 'int',
  watermarkMaxPagesPerEvent: 'int',
  writebackMode: ['sync', 'async'],
  writebackBatchPages: 'int',
  writebackMaxInFlightBatches: 'int',
  dirtyTracking: 'bool',
  prefetch: ['none', 'readahead', 'leap', 'adaptive'],
  prefetchWindowPages: 'int',
  prefetchMaxWindowPages: 'int',
  prefetchMaxInFlight: 'int',
  prefetchMapped: 'bool',
  maxQueuedCommands: 'int',
};

const NETWORK_INT_FIELDS = [
  'mtuBytes', 'headerBytes', 'requestExtraBytes', 'rpcBytes', 'pcieNs', 'nicProcNs', 'propNs', 'postNs', 'pollNs',
  'inlineMaxBytes', 'rpcHandlerNs', 'qpMaxOutstandingReads', 'qpMaxOutstandingWrites', 'opTimeoutNs', 'failureDetectNs',
] as const;
const NETWORK_RATE_FIELDS = ['linkGbps', 'pcieGbps', 'nicMsgRateMps'] as const;
const FAULT_PATH_FIELDS = ['trapNs', 'copyNsPer4KiB', 'mapNs', 'unmapNs', 'wpFaultNs', 'wpAsyncNs', 'dirtyScanNs', 'wakeNs'] as const;

/**
 * Validates a scenario value (parsed JSON or YAML) and returns it with every default filled in.
 * Shorthands: `regions: [...]` for one compute node `c0`; `memoryNodes: { count, capacityBytes }`.
 */
export function validateScenario(value: unknown): Scenario {
  if (!isObj(value)) fail('scenario', 'must be an object');
  const o = value;
  only(o, '', ['name', 'description', 'network', 'faultPath', 'memoryNodes', 'computeNodes', 'regions', 'mmu', 'faults', 'healAtNs', 'buggify', 'swarm', 'run', 'testOnly']);

  const network = validateNetwork(o['network']);
  const faultPath = validateFaultPath(o['faultPath']);
  const memoryNodes = validateMemoryNodes(o['memoryNodes']);

  let computeRaw: unknown = o['computeNodes'];
  const shorthand = o['regions'] !== undefined;
  if (shorthand) {
    if (computeRaw !== undefined) fail('regions', 'give either regions (one compute node) or computeNodes, not both');
    computeRaw = [{ name: 'c0', regions: o['regions'] }];
  }
  if (!Array.isArray(computeRaw) || computeRaw.length === 0) fail('computeNodes', 'must be a non-empty array (or give regions for one compute node)');
  const names = new Set(memoryNodes.map((m) => m.name));
  const computeNodes: ComputeNodeSpec[] = computeRaw.map((c, i) => validateComputeNode(c, `computeNodes[${i}]`, i, names, shorthand ? 'regions' : undefined));

  const mmuRaw = o['mmu'] ?? {};
  if (!isObj(mmuRaw)) fail('mmu', 'must be an object');
  only(mmuRaw, 'mmu', ['quantumNs', 'batchAccesses', 'hitCostNs']);
  const mmu = {
    quantumNs: int(mmuRaw, 'mmu', 'quantumNs', 1, 1e12, 20_000),
    batchAccesses: int(mmuRaw, 'mmu', 'batchAccesses', 1, 1 << 20, 256),
    hitCostNs: int(mmuRaw, 'mmu', 'hitCostNs', 0, 1e9, 5),
  };

  const runRaw = o['run'] ?? {};
  if (!isObj(runRaw)) fail('run', 'must be an object');
  only(runRaw, 'run', ['sampleIntervalNs', 'maxSimulatedNs', 'maxTimeSeriesRows']);
  const run = {
    sampleIntervalNs: int(runRaw, 'run', 'sampleIntervalNs', 1000, MAX_NS, 1_000_000),
    maxSimulatedNs: int(runRaw, 'run', 'maxSimulatedNs', 1, MAX_NS, 600_000_000_000),
    maxTimeSeriesRows: int(runRaw, 'run', 'maxTimeSeriesRows', 2, 1_000_000, 2000),
  };

  const regionNames = new Set<string>();
  for (const c of computeNodes) for (const r of c.regions) {
    if (regionNames.has(r.name)) fail('computeNodes', `region name '${r.name}' appears twice; names must be unique`);
    regionNames.add(r.name);
  }
  const hostNames = new Set([...names, ...computeNodes.map((c) => c.name)]);
  for (const c of computeNodes) if (names.has(c.name)) fail('computeNodes', `node name '${c.name}' is used by a memory node too`);
  const faults = o['faults'] === undefined ? [] : arr(o, '', 'faults').map((f, i) => validateFault(f, `faults[${i}]`, names, hostNames, regionNames));

  const scenario: Scenario = {
    name: str(o, '', 'name', 'scenario'),
    description: typeof o['description'] === 'string' ? o['description'] : o['description'] === undefined ? '' : fail('description', 'must be a string'),
    network,
    faultPath,
    memoryNodes,
    computeNodes,
    mmu,
    faults,
    buggify: bool(o, '', 'buggify', false),
    swarm: bool(o, '', 'swarm', false),
    run,
  };
  const heal = optInt(o, '', 'healAtNs', 0, MAX_NS);
  if (heal !== undefined) scenario.healAtNs = heal;
  if (o['testOnly'] !== undefined) {
    const t = o['testOnly'];
    if (!isObj(t)) fail('testOnly', 'must be an object');
    only(t, 'testOnly', ['ackWritebackWithoutStoreEvery', 'mapBeforeFetch']);
    const bugs: Scenario['testOnly'] = {};
    const every = optInt(t, 'testOnly', 'ackWritebackWithoutStoreEvery', 1, 1e9);
    if (every !== undefined) bugs.ackWritebackWithoutStoreEvery = every;
    if (t['mapBeforeFetch'] !== undefined) bugs.mapBeforeFetch = bool(t, 'testOnly', 'mapBeforeFetch', false);
    scenario.testOnly = bugs;
  }
  return scenario;
}

function validateNetwork(raw: unknown): Scenario['network'] {
  if (raw === undefined) return { preset: 'fdr56' };
  if (typeof raw === 'string') raw = { preset: raw };
  if (!isObj(raw)) fail('network', 'must be a preset name or an object { preset, ...overrides }');
  only(raw, 'network', ['preset', ...NETWORK_INT_FIELDS, ...NETWORK_RATE_FIELDS, 'oneSided']);
  const out: Scenario['network'] = { preset: oneOf<NicPresetName>(raw, 'network', 'preset', NIC_PRESET_NAMES, 'fdr56') };
  const target = out as unknown as Record<string, unknown>;
  for (const key of NETWORK_INT_FIELDS) {
    if (raw[key] !== undefined) target[key] = int(raw, 'network', key, key.startsWith('qp') || key === 'mtuBytes' ? 1 : 0, 1e12);
  }
  for (const key of NETWORK_RATE_FIELDS) {
    if (raw[key] !== undefined) target[key] = num(raw, 'network', key, (v) => v > 0 && v <= 1e6, 'a positive number');
  }
  if (raw['oneSided'] !== undefined) target['oneSided'] = bool(raw, 'network', 'oneSided', true);
  return out;
}

function validateFaultPath(raw: unknown): Scenario['faultPath'] {
  if (raw === undefined) return { preset: 'userfaultfd' };
  if (typeof raw === 'string') raw = { preset: raw };
  if (!isObj(raw)) fail('faultPath', 'must be a preset name or an object { preset, ...overrides }');
  only(raw, 'faultPath', ['preset', ...FAULT_PATH_FIELDS]);
  const out: Scenario['faultPath'] = {
    preset: oneOf<FaultPathPresetName>(raw, 'faultPath', 'preset', Object.keys(FAULT_PATH_PRESETS) as FaultPathPresetName[], 'userfaultfd'),
  };
  for (const key of FAULT_PATH_FIELDS) if (raw[key] !== undefined) out[key] = int(raw, 'faultPath', key, 0, 1e12);
  return out;
}

function validateMemoryNodes(raw: unknown): MemoryNodeSpec[] {
  if (raw === undefined) raw = { count: 2 };
  if (isObj(raw)) {
    only(raw, 'memoryNodes', ['count', 'capacityBytes']);
    const count = int(raw, 'memoryNodes', 'count', 1, 1024);
    const capacityBytes = int(raw, 'memoryNodes', 'capacityBytes', 1, 2 ** 53, 64 * GIB);
    return Array.from({ length: count }, (_, i) => ({ name: `m${i}`, capacityBytes }));
  }
  if (!Array.isArray(raw) || raw.length === 0) fail('memoryNodes', 'must be a non-empty array or { count, capacityBytes }');
  const seen = new Set<string>();
  return raw.map((m, i) => {
    const path = `memoryNodes[${i}]`;
    if (!isObj(m)) fail(path, 'must be an object { name, capacityBytes }');
    only(m, path, ['name', 'capacityBytes']);
    const name = str(m, path, 'name', `m${i}`);
    if (seen.has(name)) fail(`${path}.name`, `'${name}' appears twice; node names must be unique`);
    seen.add(name);
    return { name, capacityBytes: int(m, path, 'capacityBytes', 1, 2 ** 53, 64 * GIB) };
  });
}

function validateComputeNode(raw: unknown, path: string, index: number, memoryNames: Set<string>, regionsPath?: string): ComputeNodeSpec {
  if (!isObj(raw)) fail(path, 'must be an object { name, regions }');
  only(raw, path, ['name', 'regions']);
  const name = str(raw, path, 'name', `c${index}`);
  if (memoryNames.has(name)) fail(`${path}.name`, `'${name}' is already a memory node's name`);
  const rp = regionsPath ?? `${path}.regions`;
  if (!Array.isArray(raw['regions'])) fail(rp, 'must be an array');
  const regions = raw['regions'] as unknown[];
  if (regions.length === 0) fail(rp, 'must hold at least one region');
  return { name, regions: regions.map((r, i) => validateRegion(r, `${rp}[${i}]`, `${name}/r${i}`)) };
}

function validateRegion(raw: unknown, path: string, defaultName: string): RegionSpec {
  if (!isObj(raw)) fail(path, 'must be an object');
  only(raw, path, ['name', 'workload', 'localRatio', 'localPages', 'policySet', 'vm', 'blockPages', 'replication', 'placement', 'slabSizeBytes', 'asyncDirtyTracking']);
  let workload: WorkloadSpec;
  try {
    workload = validateWorkloadSpec(raw['workload'], `${path}.workload`);
  } catch (error) {
    if (error instanceof WorkloadError) throw new ScenarioError(error.field ?? `${path}.workload`, error.message.replace(/^[^:]*: /, ''));
    throw error;
  }
  const localRatio = num(raw, path, 'localRatio', (v) => v > 0 && v <= 1, 'in (0, 1]', 0.5);
  const vmRaw = raw['vm'] ?? {};
  if (!isObj(vmRaw)) fail(`${path}.vm`, 'must be an object of vm config overrides');
  const vm: Record<string, unknown> = {};
  for (const key of Object.keys(vmRaw)) {
    const kind = VM_OVERRIDE_FIELDS[key];
    if (kind === undefined) fail(`${path}.vm.${key}`, `unknown vm field; expected one of ${Object.keys(VM_OVERRIDE_FIELDS).join(', ')}`);
    if (kind === 'int') vm[key] = int(vmRaw, `${path}.vm`, key, 1, 2 ** 31);
    else if (kind === 'bool') vm[key] = bool(vmRaw, `${path}.vm`, key, false);
    else vm[key] = oneOf(vmRaw, `${path}.vm`, key, kind, kind[0]);
  }
  const region: RegionSpec = {
    name: str(raw, path, 'name', defaultName),
    workload,
    localRatio,
    policySet: oneOf(raw, path, 'policySet', ['rackmem2021', 'improved'] as const, 'rackmem2021'),
    vm: vm as RegionSpec['vm'],
    blockPages: int(raw, path, 'blockPages', 1, 512, 1),
    replication: int(raw, path, 'replication', 1, 8, 1),
    placement: oneOf(raw, path, 'placement', ['round-robin', 'two-choices'] as const, 'round-robin'),
    slabSizeBytes: int(raw, path, 'slabSizeBytes', 4096, 2 ** 40, 64 * 1024 * 1024),
    asyncDirtyTracking: bool(raw, path, 'asyncDirtyTracking', false),
  };
  const localPages = optInt(raw, path, 'localPages', 1, 2 ** 31);
  if (localPages !== undefined) region.localPages = localPages;
  if (region.slabSizeBytes % (4096 * region.blockPages) !== 0) fail(`${path}.slabSizeBytes`, `must be a multiple of the page size (4096 x blockPages = ${4096 * region.blockPages})`);
  return region;
}

function validateFault(raw: unknown, path: string, memory: Set<string>, hosts: Set<string>, regions: Set<string>): FaultSpec {
  if (!isObj(raw)) fail(path, 'must be an object with a kind');
  const kind = oneOf(raw, path, 'kind', ['crash', 'lost-connection', 'slow-link', 'latency-spike', 'set-budget'] as const, 'crash');
  if (raw['kind'] === undefined) fail(`${path}.kind`, 'is required: crash, lost-connection, slow-link, latency-spike or set-budget');
  const node = (): string => {
    const n = str(raw, path, 'node');
    if (!memory.has(n)) fail(`${path}.node`, `'${n}' is not a memory node (${[...memory].join(', ')})`);
    return n;
  };
  const host = (): string => {
    const n = str(raw, path, 'host');
    if (!hosts.has(n)) fail(`${path}.host`, `'${n}' is not a node of the rack (${[...hosts].join(', ')})`);
    return n;
  };
  const window = (): { fromNs: number; untilNs: number } => {
    const fromNs = int(raw, path, 'fromNs', 0, MAX_NS);
    const untilNs = int(raw, path, 'untilNs', 0, MAX_NS);
    if (untilNs <= fromNs) fail(`${path}.untilNs`, `must be after fromNs (${fromNs})`);
    return { fromNs, untilNs };
  };
  switch (kind) {
    case 'crash': {
      only(raw, path, ['kind', 'node', 'atNs', 'restartAtNs']);
      const f: FaultSpec = { kind, node: node(), atNs: int(raw, path, 'atNs', 0, MAX_NS) };
      const restart = optInt(raw, path, 'restartAtNs', 0, MAX_NS);
      if (restart !== undefined) {
        if (restart <= f.atNs) fail(`${path}.restartAtNs`, `must be after atNs (${f.atNs})`);
        f.restartAtNs = restart;
      }
      return f;
    }
    case 'lost-connection':
      only(raw, path, ['kind', 'node', 'fromNs', 'untilNs']);
      return { kind, node: node(), ...window() };
    case 'slow-link':
      only(raw, path, ['kind', 'host', 'fromNs', 'untilNs', 'bandwidthFactor']);
      return { kind, host: host(), ...window(), bandwidthFactor: num(raw, path, 'bandwidthFactor', (v) => v > 0 && v <= 1, 'in (0, 1]') };
    case 'latency-spike':
      only(raw, path, ['kind', 'host', 'fromNs', 'untilNs', 'extraMeanNs']);
      return { kind, host: host(), ...window(), extraMeanNs: int(raw, path, 'extraMeanNs', 1, 1e12) };
    case 'set-budget': {
      only(raw, path, ['kind', 'region', 'atNs', 'localRatio', 'localPages']);
      const region = str(raw, path, 'region');
      if (!regions.has(region)) fail(`${path}.region`, `'${region}' is not a region name (${[...regions].join(', ')})`);
      const f: FaultSpec = { kind, region, atNs: int(raw, path, 'atNs', 0, MAX_NS) };
      if (raw['localPages'] !== undefined) f.localPages = int(raw, path, 'localPages', 1, 2 ** 31);
      else f.localRatio = num(raw, path, 'localRatio', (v) => v > 0 && v <= 1, 'in (0, 1]');
      return f;
    }
  }
}

