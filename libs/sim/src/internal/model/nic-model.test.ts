import { describe, expect, it } from 'vitest';
import { Simulation } from '../simulation.js';
import { NicModel, OpClass, OpKind, type NicOp } from './nic-model.js';
import { NIC_PRESETS, type NicParams } from './nic-presets.js';

interface Done {
  atNs: number;
  status: string;
  serial: number;
  cls: number;
}

function setup(params: NicParams = NIC_PRESETS.fdr56) {
  const sim = new Simulation({ seed: 1 });
  const fabric = new NicModel(sim.engine, params, sim.streams.stream('faults/latency'));
  const compute = fabric.addHost('c0');
  const memory = fabric.addHost('m0');
  const done: Done[] = [];
  const completion = {
    complete(op: NicOp, status: string) {
      done.push({ atNs: sim.engine.now(), status, serial: op.serial, cls: op.cls });
    },
  };
  const issue = (kind: number, bytes: number, cls: number = OpClass.Demand, src = compute, dst = memory) => {
    const op = fabric.take();
    op.kind = kind;
    op.cls = cls;
    op.src = src;
    op.dst = dst;
    op.bytes = bytes;
    op.completion = completion;
    fabric.issue(op, sim.engine.now());
    return op.serial;
  };
  return { sim, fabric, compute, memory, done, issue };
}

describe('simulated NIC and fabric', () => {
  it('one 4 KiB READ on fdr56 takes about 3.2 us (and a small WRITE less)', () => {
    const { sim, done, issue } = setup();
    issue(OpKind.Read, 4096);
    sim.engine.run();
    expect(done).toHaveLength(1);
    expect(done[0].status).toBe('ok');
    expect(done[0].atNs).toBeGreaterThan(2700);
    expect(done[0].atNs).toBeLessThan(3400);
    const t0 = sim.engine.now();
    issue(OpKind.Write, 64);
    sim.engine.run();
    expect(done[1].atNs - t0).toBeLessThan(done[0].atNs);
  });

  it('presets are ordered: edr100 < fdr56 < roce25 < tcp10 for one 4 KiB READ', () => {
    const latency = (name: keyof typeof NIC_PRESETS) => {
      const { sim, done, issue } = setup(NIC_PRESETS[name]);
      issue(OpKind.Read, 4096);
      sim.engine.run();
      return done[0].atNs;
    };
    const edr = latency('edr100');
    const fdr = latency('fdr56');
    const roce = latency('roce25');
    const tcp = latency('tcp10');
    expect(edr).toBeGreaterThan(2400);
    expect(edr).toBeLessThan(3000);
    expect(edr).toBeLessThan(fdr);
    expect(fdr).toBeLessThan(roce);
    expect(tcp).toBeGreaterThan(20_000);
    expect(tcp).toBeLessThan(45_000);
  });

  it('one outstanding READ per queue pair serialises reads', () => {
    const { sim, done, issue } = setup();
    issue(OpKind.Read, 4096);
    sim.engine.run();
    const single = done[0].atNs;
    const t0 = sim.engine.now();
    for (let i = 0; i < 10; i++) issue(OpKind.Read, 4096);
    sim.engine.run();
    const elapsed = done[10].atNs - t0;
    expect(elapsed).toBeGreaterThanOrEqual(9 * single);
    // Completions are spaced by about one full READ latency each.
    for (let i = 2; i <= 10; i++) expect(done[i].atNs - done[i - 1].atNs).toBeGreaterThan(single * 0.8);
  });

  it('bandwidth saturates near min(link, PCIe) with many outstanding READs', () => {
    const params = { ...NIC_PRESETS.fdr56, qpMaxOutstandingReads: 64 };
    const { sim, done, issue } = setup(params);
    const count = 2000;
    for (let i = 0; i < count; i++) issue(OpKind.Read, 65536);
    sim.engine.run();
    const elapsed = done[count - 1].atNs;
    const gbps = (count * 65536 * 8) / elapsed;
    const bound = Math.min(params.linkGbps, params.pcieGbps);
    expect(gbps).toBeGreaterThan(0.85 * bound);
    expect(gbps).toBeLessThanOrEqual(bound * 1.001);
  });

  it('many outstanding 4 KiB WRITEs are bound by the link and PCIe, and bytes are counted per direction', () => {
    const params = { ...NIC_PRESETS.edr100 };
    const { sim, fabric, compute, memory, done, issue } = setup(params);
    for (let i = 0; i < 1000; i++) issue(OpKind.Write, 4096);
    sim.engine.run();
    const gbps = (1000 * 4096 * 8) / done[999].atNs;
    expect(gbps).toBeGreaterThan(40);
    expect(gbps).toBeLessThan(100);
    expect(fabric.egressBytes[compute]).toBeGreaterThan(1000 * 4096);
    expect(fabric.ingressBytes[memory]).toBe(fabric.egressBytes[compute]);
    expect(fabric.egressBytes[memory]).toBeLessThan(1000 * 100);
  });

  it('demand reads overtake queued prefetch reads at a queue pair', () => {
    const { sim, done, issue } = setup();
    issue(OpKind.Read, 4096, OpClass.Prefetch);
    for (let i = 0; i < 5; i++) issue(OpKind.Read, 4096, OpClass.Prefetch);
    const demand = issue(OpKind.Read, 4096, OpClass.Demand);
    sim.engine.run();
    const order = done.map((d) => d.serial);
    expect(order.indexOf(demand)).toBe(1);
  });

  it('a crashed node fails operations with peer-lost after the op timeout; unreachable gives timeout', () => {
    const { sim, fabric, memory, done, issue } = setup();
    fabric.crash(memory);
    issue(OpKind.Read, 4096);
    sim.engine.run();
    expect(done[0].status).toBe('peer-lost');
    expect(done[0].atNs).toBe(NIC_PRESETS.fdr56.opTimeoutNs);
    fabric.restart(memory);
    fabric.setUnreachable(memory, true);
    const t0 = sim.engine.now();
    issue(OpKind.Write, 4096);
    sim.engine.run();
    expect(done[1].status).toBe('timeout');
    expect(done[1].atNs - t0).toBe(NIC_PRESETS.fdr56.opTimeoutNs);
  });

  it('a slow link and a latency spike slow a READ down', () => {
    const base = setup();
    base.issue(OpKind.Read, 65536);
    base.sim.engine.run();
    const slow = setup();
    slow.fabric.setLinkBandwidthFactor(slow.memory, 0.25);
    slow.issue(OpKind.Read, 65536);
    slow.sim.engine.run();
    expect(slow.done[0].atNs).toBeGreaterThan(base.done[0].atNs * 2);
    const spike = setup();
    spike.fabric.setLatencySpike(spike.memory, 20_000);
    spike.issue(OpKind.Read, 65536);
    spike.sim.engine.run();
    expect(spike.done[0].atNs).toBeGreaterThan(base.done[0].atNs);
  });
});
