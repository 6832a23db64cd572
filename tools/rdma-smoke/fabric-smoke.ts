// The fabric stage of rdma-smoke: two krdma VerbsFabrics on one device (a donor and a consumer,
// their TCP control plane on 127.0.0.1), as two `rackmem node --transport rdma` daemons would run.
// The consumer allocates a slab on the donor, writes pages into it by RDMA WRITE, reads them back
// by RDMA READ and times single-page reads; the same reads over a TCP-only fabric give the
// reference. Returns a JSON-ready result; `ok` is false when any byte or status is wrong or the
// data did not go over verbs.
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import {
  TcpFabric, VerbsFabric, type Fabric, type RdmaTransport, type FabricStatus, type PeerId, type RdmaTransportOptions, type RemoteSlab,
} from '../../libs/krdma/src/index.js';

const PAGE = 4096;
const PAGES = 64;
const TIMED_READS = 1000;

type Opener = (options: RdmaTransportOptions) => RdmaTransport;
type ClosableFabric = Fabric & { listen(port: number, host?: string): Promise<{ port: number }>; close(reason?: string): Promise<void> };

const call = <T>(start: (done: (status: FabricStatus, value: T | null, reason: string | null) => void) => void): Promise<{ status: FabricStatus; value: T | null; reason: string | null }> =>
  new Promise((resolve) => start((status, value, reason) => resolve({ status, value, reason })));

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Connects a consumer to a donor, moves pages both ways, times reads. */
async function exercise(donor: ClosableFabric, consumer: ClosableFabric): Promise<{ ok: boolean; detail: Record<string, unknown>; peer: PeerId }> {
  const { port } = await donor.listen(0, '127.0.0.1');
  const up = await call<{ id: PeerId | null }>((done) => consumer.connect({ host: '127.0.0.1', port }, (s, peer, r) => done(s, peer, r)));
  if (up.status !== 'ok' || up.value?.id == null) return { ok: false, detail: { connect: up.status, reason: up.reason }, peer: -1 as PeerId };
  const peer = up.value.id;
  const alloc = await call<RemoteSlab>((done) => consumer.allocSlab(peer, PAGES * PAGE, done));
  if (alloc.status !== 'ok' || alloc.value === null) return { ok: false, detail: { alloc: alloc.status, reason: alloc.reason }, peer };
  const slab = alloc.value;
  const data = randomBytes(PAGES * PAGE);
  let wrong = 0;
  for (let p = 0; p < PAGES; p++) {
    const w = await call<null>((done) => consumer.write(peer, slab, p * PAGE, data.subarray(p * PAGE, (p + 1) * PAGE), (s, r) => done(s, null, r)));
    if (w.status !== 'ok') return { ok: false, detail: { write: w.status, reason: w.reason, page: p }, peer };
  }
  const into = Buffer.alloc(PAGE);
  const latenciesUs: number[] = [];
  for (let i = 0; i < TIMED_READS; i++) {
    const p = i % PAGES;
    const t0 = performance.now();
    const r = await call<null>((done) => consumer.read(peer, slab, p * PAGE, into, (s, reason) => done(s, null, reason)));
    latenciesUs.push((performance.now() - t0) * 1000);
    if (r.status !== 'ok') return { ok: false, detail: { read: r.status, reason: r.reason, page: p }, peer };
    if (!into.equals(data.subarray(p * PAGE, (p + 1) * PAGE))) wrong++;
  }
  const freed = await call<null>((done) => consumer.freeSlab(peer, slab, (s, r) => done(s, null, r)));
  const ok = wrong === 0 && freed.status === 'ok';
  return { ok, peer, detail: { rkey: slab.rkey, pagesWritten: PAGES, readsTimed: TIMED_READS, wrongPages: wrong, readMedianUs: Math.round(median(latenciesUs) * 10) / 10, free: freed.status } };
}

/** Runs the fabric stage on the device `open` opens (a real one, or the fake NIC with --fake). */
export async function fabricSmoke(openFor: (node: string) => Opener, verbs: RdmaTransportOptions): Promise<Record<string, unknown>> {
  const secret = randomBytes(32);
  const fabric = (name: string, donate: boolean): VerbsFabric =>
    new VerbsFabric({ nodeName: name, secret, donor: donate ? { capacityBytes: 1 << 20 } : null, openTransport: openFor(name), verbs });
  const donor = fabric('smoke-donor', true);
  const consumer = fabric('smoke-consumer', false);
  let verbsRun: Awaited<ReturnType<typeof exercise>>;
  let counters: ReturnType<VerbsFabric['counters']>;
  let plane: ReturnType<VerbsFabric['dataPlane']>;
  try {
    verbsRun = await exercise(donor, consumer);
    counters = consumer.counters();
    plane = consumer.dataPlane(verbsRun.peer);
  } finally {
    await consumer.close('smoke done');
    await donor.close('smoke done');
  }
  const tcpDonor = new TcpFabric({ nodeName: 'smoke-tcp-donor', secret, donor: { capacityBytes: 1 << 20 } });
  const tcpConsumer = new TcpFabric({ nodeName: 'smoke-tcp-consumer', secret });
  let tcpRun: Awaited<ReturnType<typeof exercise>>;
  try {
    tcpRun = await exercise(tcpDonor, tcpConsumer);
  } finally {
    await tcpConsumer.close('smoke done');
    await tcpDonor.close('smoke done');
  }
  const overVerbs = plane === 'verbs' && counters.verbsReads >= TIMED_READS && counters.verbsWrites >= PAGES;
  return {
    ok: verbsRun.ok && overVerbs && tcpRun.ok,
    dataPlane: plane,
    verbs: { ...verbsRun.detail, verbsReads: counters.verbsReads, verbsWrites: counters.verbsWrites, qpSetups: counters.qpSetups },
    tcpReference: tcpRun.detail,
  };
}
