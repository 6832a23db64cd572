import { describe, expect, it } from 'vitest';
import { SimCheckError } from '../checks/errors.js';
import { builtinStudies } from '../scenario/builtin-scenarios.js';
import { setScenarioField, studyGrid } from '../scenario/scenario-fields.js';
import { validateScenario } from '../scenario/validate-scenario.js';
import { runScenario, ScenarioRun } from './scenario-run.js';
import { smallBuiltins, smallUniform } from './test-scenarios.js';

/** Golden digests at seed 42 of the built-in scenarios at test sizes (Node 20). A model change
 * changes them; update deliberately, in the same commit as the change, and say why. Last
 * change: the rack runs dvs's production remote backend over SimFabric (krdma's Fabric port),
 * with a boot phase (handshakes, stats) and the donor's allocation at the memory node. */
const GOLDEN: Record<string, string> = {
  touch: '392d37f9',
  gemm: 'd0a02a4e',
  zipf: 'ac2ff454',
  seq: '83610f72',
  swarm: '0a5405e6',
};

describe('runScenario: determinism', () => {
  it('the same seed twice gives the same digest and a byte-identical result', () => {
    const a = runScenario(smallUniform(), { seed: 7 });
    const b = runScenario(smallUniform(), { seed: 7 });
    expect(a.digest).toBe(b.digest);
    expect(a.unseed).toBe(b.unseed);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(a.run.accesses).toBe(12_000);
    expect(a.regions[0].faults).toBeGreaterThan(1000);
  });

  it('a result replays from its own scenario and seed (swarm included)', () => {
    for (const scenario of [smallUniform(), smallBuiltins()['swarm']]) {
      const first = runScenario(scenario, { seed: 12 });
      const replay = runScenario(JSON.parse(JSON.stringify(first.scenario)), { seed: first.identity.seed });
      expect(JSON.stringify(replay)).toBe(JSON.stringify(first));
    }
  });

  it('async dirty tracking (WP_ASYNC + the dirty probe) keeps every read right and replaces write-protect faults by probes', () => {
    const sync = runScenario(smallUniform({ policySet: 'improved' }), { seed: 5 });
    const async = runScenario(smallUniform({ policySet: 'improved', asyncDirtyTracking: true }), { seed: 5 });
    for (const result of [sync, async]) expect(result.regions[0].accesses).toBe(12_000); // the shadow checker saw every read
    const wpFaults = (result: typeof sync): number => result.regions[0].faultLatencyNs.byClass.writeProtect.count;
    expect(wpFaults(sync)).toBeGreaterThan(0);
    expect(sync.regions[0].vm.dirty_probe_hits).toBe(0);
    expect(wpFaults(async)).toBe(0); // writes to clean pages went through
    expect(async.regions[0].vm.dirty_probe_hits).toBeGreaterThan(0); // and the probe found them before eviction
    expect(async.digest).not.toBe(sync.digest);
    expect(runScenario(smallUniform({ policySet: 'improved', asyncDirtyTracking: true }), { seed: 5 }).digest).toBe(async.digest);
  });

  it('a different seed changes the digest of a random workload', () => {
    const a = runScenario(smallUniform(), { seed: 7 });
    const b = runScenario(smallUniform(), { seed: 8 });
    expect(a.digest).not.toBe(b.digest);
    expect(a.identity.scenarioDigest).toBe(b.identity.scenarioDigest);
  });

  it.each(Object.keys(GOLDEN))('golden digest of the built-in %s scenario at seed 42', (name) => {
    const result = runScenario(smallBuiltins()[name], { seed: 42 });
    expect(result.identity.nodeMajor).toBe(20);
    expect(result.digest).toBe(GOLDEN[name]);
  });

  it('results are plain JSON with integers and 4-decimal ratios, and progress is reported', () => {
    const progress: number[] = [];
    const run = new ScenarioRun(smallUniform(), { seed: 3, onProgress: (p) => progress.push(p.accessesDone), progressEveryEvents: 5000 });
    const result = run.run();
    expect(progress.length).toBeGreaterThan(3);
    expect(progress[progress.length - 1]).toBe(12_000);
    const text = JSON.stringify(result);
    expect(JSON.parse(text)).toEqual(result);
    expect(Number.isInteger(result.regions[0].appTimeNs)).toBe(true);
    expect(String(result.regions[0].slowdown)).toMatch(/^\d+(\.\d{1,4})?$/);
    expect(result.timeSeries.rows.length).toBeGreaterThan(2);
    expect(result.timeSeries.rows.reduce((n, row) => n + row[2], 0)).toBe(12_000);
    const region = result.regions[0];
    expect(region.vm.pgfault).toBe(region.faults);
    expect(region.appTimeNs).toBeGreaterThan(region.allLocalTimeNs);
    expect(result.network.links.find((l) => l.host === 'c0')?.ingressBytes).toBeGreaterThan(region.vm.io_read * 4096);
  });
});

describe('checkers', () => {
  it('catch a write-back acknowledged without being stored, with a repro line that reproduces it', () => {
    const broken = smallUniform({}, { testOnly: { ackWritebackWithoutStoreEvery: 7 } });
    let first: SimCheckError | undefined;
    try {
      runScenario(broken, { seed: 1 });
    } catch (error) {
      first = error as SimCheckError;
    }
    expect(first).toBeInstanceOf(SimCheckError);
    const failure = first as SimCheckError;
    expect(['shadow-mismatch', 'poisoned-without-loss']).toContain(failure.code);
    expect(failure.repro).toMatch(/^repro: rackmem-sim run small-uniform --seed 1 {2}# scenario [0-9a-f]{8}, [a-z-]+ at \d+ ns$/);
    expect(failure.message).toContain(failure.repro);
    expect(() => runScenario(broken, { seed: 1 })).toThrow(failure.message);
  });

  it('catch a page mapped before its fetch completed', () => {
    expect(() => runScenario(smallUniform({}, { testOnly: { mapBeforeFetch: true } }), { seed: 1 })).toThrowError(/shadow-mismatch at \d+ ns/);
  });

  it('catch threads that cannot finish within the simulated-time budget', () => {
    expect(() => runScenario(smallUniform({}, { run: { maxSimulatedNs: 1_000_000 } }), { seed: 1 })).toThrowError(/liveness/);
  });
});

describe('fault injection', () => {
  const crash = { faults: [{ kind: 'crash', node: 'm0', atNs: 20_000_000, restartAtNs: 30_000_000 }] };

  it('crash and restart with r = 2 loses nothing and every thread finishes', () => {
    const result = runScenario(smallUniform({ replication: 2 }, crash), { seed: 5 });
    const region = result.regions[0];
    expect(result.faults.map((f) => f.kind)).toEqual(['crash', 'restart']);
    expect(result.checks.strictReplication).toEqual([true]);
    expect(region.accesses).toBe(12_000);
    expect(region.sigbus).toBe(0);
    expect(region.poisonedPages).toBe(0);
    expect(region.dvs.pages_lost).toBe(0);
    expect(region.dvs.replica_lost).toBeGreaterThan(0);
    expect(region.dvs.repair_completed).toBeGreaterThan(0);
  });

  it('with r = 1 the loss is reported and only reported pages are poisoned', () => {
    const result = runScenario(smallUniform({ replication: 1 }, crash), { seed: 5 });
    const region = result.regions[0];
    expect(result.checks.strictReplication).toEqual([false]);
    expect(region.lostPagesReported).toBeGreaterThan(0);
    expect(region.poisonedPages).toBeGreaterThan(0);
    expect(region.poisonedPages).toBeLessThanOrEqual(region.lostPagesReported);
    expect(region.sigbus).toBeGreaterThan(0);
    expect(region.accesses).toBe(12_000 - region.sigbus);
  });

  it('a lost connection with r = 2 loses nothing; heal restores everything', () => {
    const result = runScenario(
      smallUniform({ replication: 2 }, { faults: [{ kind: 'lost-connection', node: 'm1', fromNs: 1_000_000, untilNs: 4_000_000 }], healAtNs: 3_000_000 }),
      { seed: 6 },
    );
    expect(result.faults.map((f) => f.kind)).toEqual(['lost-connection', 'heal', 'reconnect']);
    expect(result.regions[0].poisonedPages).toBe(0);
    expect(result.network.ops.failed).toBeGreaterThan(0);
  });

  it('a slow link and latency spikes slow the run measurably', () => {
    const base = runScenario(smallUniform(), { seed: 2 }).regions[0].appTimeNs;
    const slow = runScenario(smallUniform({}, { faults: [{ kind: 'slow-link', host: 'c0', fromNs: 0, untilNs: 1e9, bandwidthFactor: 0.05 }] }), { seed: 2 }).regions[0].appTimeNs;
    const spikes = runScenario(smallUniform({}, { faults: [{ kind: 'latency-spike', host: 'm1', fromNs: 0, untilNs: 1e9, extraMeanNs: 20_000 }] }), { seed: 2 }).regions[0].appTimeNs;
    expect(slow).toBeGreaterThan(base * 1.5);
    expect(spikes).toBeGreaterThan(base * 1.2);
  });

  it('buggify and swarm seeds run their checkers clean', () => {
    const buggified = runScenario(smallUniform({ policySet: 'improved' }, { buggify: true }), { seed: 9 });
    expect(buggified.regions[0].accesses).toBe(12_000);
    for (const seed of [1, 2, 3]) {
      const result = runScenario(smallBuiltins()['swarm'], { seed });
      expect(result.identity.swarm).toBe(true);
      expect(result.scenario.swarm).toBe(true);
      expect(result.drawnScenario?.swarm).toBe(false);
      expect(result.regions[0].threads).toBeGreaterThan(0);
    }
  });
});

describe('the model', () => {
  it('orders the original latency classes: soft < miss with a clean victim < miss needing an active victim', () => {
    const workload = { kind: 'uniform', pageCount: 1024, accessesPerThread: 8000, writeNumerator: 1, writeDenominator: 2, thinkNs: 5000 };
    // Background reclaim with a larger trigger and batch keeps ~5-10% of the budget inactive.
    const vm = { reclaim: 'background', backgroundTriggerPermyriad: 500, backgroundBatchPermyriad: 1000 };
    const background = runScenario(smallUniform({ workload, vm, localRatio: 0.5 }), { seed: 4 }).regions[0];
    const plain = runScenario(smallUniform({ workload, localRatio: 0.5 }), { seed: 4 }).regions[0];
    const soft = background.faultLatencyNs.byClass.soft;
    const clean = background.faultLatencyNs.byClass.miss;
    const active = plain.faultLatencyNs.byClass.missActiveVictim;
    const first = plain.faultLatencyNs.byClass.firstTouch;
    expect(soft.count).toBeGreaterThan(50);
    expect(clean.count).toBeGreaterThan(50);
    expect(active.count).toBeGreaterThan(50);
    expect(soft.p50).toBeLessThan(clean.p50);
    expect(first.p50).toBeLessThan(clean.p50);
    expect(clean.p50).toBeLessThan(active.p50);
    // The active-victim miss pays a synchronous write on top of the read.
    expect(active.p50 - clean.p50).toBeGreaterThan(2000);
  });

  it('prefetch improves the application time of a sequential workload', () => {
    // A prefetched page still costs a soft fault (it lands on the inactive list), so the gain is
    // at most the network part of a miss.
    const workload = { kind: 'sequential', pageCount: 2048, passes: 2, thinkNs: 500 };
    for (const faultPath of ['kernel', 'userfaultfd']) {
      const none = runScenario(smallUniform({ workload, policySet: 'improved', vm: { prefetch: 'none' } }, { faultPath }), { seed: 1 }).regions[0];
      const leap = runScenario(smallUniform({ workload, policySet: 'improved', vm: { prefetch: 'leap' } }, { faultPath }), { seed: 1 }).regions[0];
      expect(leap.prefetch.issued).toBeGreaterThan(1000);
      expect(leap.prefetch.accuracy).toBeGreaterThan(0.9);
      // Bounded by the one outstanding READ per queue pair: a scan reads one page per READ latency.
      expect(leap.appTimeNs).toBeLessThan(none.appTimeNs * 0.9);
    }
  });

  it('the improved policy set beats the original on a zipfian workload with writes', () => {
    const workload = { kind: 'zipfian', pageCount: 2048, threadCount: 2, accessesPerThread: 6000, writeNumerator: 1, writeDenominator: 4, thinkNs: 500, scrambled: true };
    const original = runScenario(smallUniform({ workload, policySet: 'rackmem2021' }), { seed: 1 }).regions[0];
    const improved = runScenario(smallUniform({ workload, policySet: 'improved' }), { seed: 1 }).regions[0];
    expect(improved.appTimeNs).toBeLessThan(original.appTimeNs);
    expect(improved.vm.writeback_skipped_clean).toBeGreaterThan(0);
  });
});

describe('the rack', () => {
  it('runs two compute nodes with two regions each over shared memory nodes, each with its own budget and policies', () => {
    const region = (name: string, policySet: string, localRatio: number, kind: string) => ({
      name, policySet, localRatio, slabSizeBytes: 1 << 20,
      workload: { kind, pageCount: 512, threadCount: 2, accessesPerThread: 1500, writeNumerator: 1, writeDenominator: 3, thinkNs: 300 },
    });
    const result = runScenario({
      name: 'rack',
      network: 'edr100',
      memoryNodes: [{ name: 'mem-a', capacityBytes: 1 << 30 }, { name: 'mem-b', capacityBytes: 1 << 30 }],
      computeNodes: [
        { name: 'cn-1', regions: [region('a', 'rackmem2021', 0.25, 'uniform'), region('b', 'improved', 0.5, 'zipfian')] },
        { name: 'cn-2', regions: [region('c', 'improved', 0.75, 'hotspot'), region('d', 'rackmem2021', 1, 'uniform')] },
      ],
    }, { seed: 11 });
    expect(result.regions.map((r) => [r.name, r.computeNode, r.localPages, r.accesses])).toEqual([
      ['a', 'cn-1', 128, 3000], ['b', 'cn-1', 256, 3000], ['c', 'cn-2', 384, 3000], ['d', 'cn-2', 512, 3000],
    ]);
    expect(result.regions[3].vm.io_read).toBe(0);
    expect(result.regions[0].faults).toBeGreaterThan(result.regions[2].faults);
    const link = (host: string) => result.network.links.find((l) => l.host === host) as { egressBytes: number; ingressBytes: number };
    expect(link('cn-1').egressBytes + link('cn-2').egressBytes).toBe(link('mem-a').ingressBytes + link('mem-b').ingressBytes);
    expect(link('mem-a').egressBytes).toBeGreaterThan(0);
    expect(link('mem-b').egressBytes).toBeGreaterThan(0);
  });
});

describe('scenarios', () => {
  it('validation names the bad field', () => {
    expect(() => validateScenario({ regions: [{ workload: { kind: 'uniform', pageCount: 8 }, localRatio: 0 }] })).toThrowError('regions[0].localRatio: must be in (0, 1]');
    expect(() => validateScenario({ regions: [{ workload: { kind: 'zipfian', pageCount: 8, theta: 2 } }] })).toThrowError(/^regions\[0\]\.workload\.theta: /);
    expect(() => validateScenario({ regions: [{ workload: { kind: 'uniform', pageCount: 8 } }], network: 'ib' })).toThrowError(/^network\.preset: must be one of fdr56, edr100, roce25, tcp10/);
    expect(() => validateScenario({ regions: [{ workload: { kind: 'uniform', pageCount: 8 } }], faults: [{ kind: 'crash', node: 'x', atNs: 1 }] })).toThrowError(/^faults\[0\]\.node: 'x' is not a memory node/);
    expect(() => validateScenario({ regions: [{ workload: { kind: 'uniform', pageCount: 8 } }], typo: 1 })).toThrowError(/^typo: unknown field/);
    expect(() => validateScenario({ regions: [{ workload: { kind: 'uniform', pageCount: 8 }, asyncDirtyTracking: 'yes' }] })).toThrowError(/^regions\[0\]\.asyncDirtyTracking: /);
  });

  it('validation is idempotent and fills the defaults', () => {
    const once = validateScenario(smallUniform());
    expect(validateScenario(once)).toEqual(once);
    expect(once.network.preset).toBe('fdr56');
    expect(once.computeNodes[0].regions[0].replication).toBe(1);
    expect(once.computeNodes[0].regions[0].asyncDirtyTracking).toBe(false);
    expect(setScenarioField(once, 'computeNodes[0].regions[0].localRatio', 0.75).computeNodes[0].regions[0].localRatio).toBe(0.75);
  });

  it('the rackmem2021 study grid covers both policy sets at four local ratios on every workload', () => {
    const grid = studyGrid(builtinStudies['rackmem2021']);
    expect(grid).toHaveLength(4 * 2 * 4);
    expect(new Set(grid.map((p) => p.label)).size).toBe(grid.length);
    const touchImproved = grid.find((p) => p.label === 'touch policySet=improved localRatio=0.25 network.preset=fdr56');
    expect(touchImproved?.scenario.computeNodes[0].regions[0].policySet).toBe('improved');
  });
});
