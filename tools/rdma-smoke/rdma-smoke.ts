// Real-hardware smoke test of the verbs binding: a loopback RDMA WRITE, READ and SEND/RECV RPC
// between two RC queue pairs on the same device, then the fabric stage (fabric-smoke.ts: two
// VerbsFabrics, as two `rackmem node --transport rdma` daemons). Prints one JSON object. Without a
// device it says so and exits 0; `--fake` runs the fabric stage on the fake NIC (no hardware).
// Usage (from the repository root):
//   npx tsx --conditions=@rackmem/source tools/rdma-smoke/rdma-smoke.ts [--device mlx5_0] [--gid-index 0] [--port 1] [--fake]
import { parseArgs } from 'node:util';
import { FakeVerbsNic, RdmaTransport, VerbsError, discoverRdmaDevices, verbsLibraryAvailable, type VerbsEndpoint } from '../../libs/krdma/src/adapters/verbs/index.js';
import { fabricSmoke } from './fabric-smoke.js';

const { values } = parseArgs({ options: { device: { type: 'string' }, 'gid-index': { type: 'string' }, port: { type: 'string' }, fake: { type: 'boolean' } } });
const SMALL_QUEUES = { stagingSlots: 16, slotBytes: 4096, recvSlots: 8, messageBytes: 1024, requestTimeoutMs: 3000, setupTimeoutMs: 3000 };

function print(result: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}

function completion<T>(start: (done: (status: string, value: T | null, reason: string | null) => void) => void): Promise<{ status: string; value: T | null; reason: string | null; us: number }> {
  const t0 = process.hrtime.bigint();
  return new Promise((resolve) => start((status, value, reason) => resolve({ status, value, reason, us: Number(process.hrtime.bigint() - t0) / 1000 })));
}

async function main(): Promise<number> {
  if (values.fake) {
    const nic = new FakeVerbsNic();
    try {
      const fabric = await fabricSmoke((node) => (o) => RdmaTransport.onDevice(nic.device(node), o), SMALL_QUEUES);
      print({ ran: true, device: 'fake NIC (no hardware: checks the fabric logic only)', ok: fabric.ok, fabric });
      return fabric.ok ? 0 : 1;
    } finally {
      nic.close();
    }
  }
  if (!verbsLibraryAvailable()) {
    print({ ran: false, reason: 'libibverbs.so.1 cannot be loaded; install libibverbs1 and ibverbs-providers' });
    return 0;
  }
  const discovery = discoverRdmaDevices();
  if (discovery.devices.length === 0) {
    const why = discovery.errno === 38 ? 'ENOSYS: the kernel has no RDMA support' : discovery.errno === 0 ? 'ibv_get_device_list listed none' : `errno ${discovery.errno}`;
    print({ ran: false, reason: `no RDMA device was found (${why}); nothing to test on this machine`, devices: [], errno: discovery.errno });
    return 0;
  }
  const pageBytes = 4096;
  const transport = RdmaTransport.open({
    deviceName: values.device, gidIndex: values['gid-index'] === undefined ? 0 : Number(values['gid-index']),
    portNum: values.port === undefined ? 1 : Number(values.port), exposeBytes: 1 << 20, stagingSlots: 16, slotBytes: pageBytes,
    recvSlots: 8, messageBytes: 1024, requestTimeoutMs: 3000, setupTimeoutMs: 3000,
  });
  try {
    const accepted = new Promise<VerbsEndpoint>((resolve) => transport.onAccept(resolve));
    const port = await transport.listen(0, '127.0.0.1');
    const client = await transport.connect('127.0.0.1', port);
    const server = await accepted;
    server.registerHandler(1, (payload, respond) => respond('ok', Uint8Array.from(payload).reverse()));
    const page = Buffer.alloc(pageBytes);
    for (let i = 0; i < pageBytes; i += 1) page[i] = (i * 31 + 7) & 0xff;
    const write = await completion<null>((done) => client.write(8192, page, (status, reason) => done(status, null, reason)));
    const writeLanded = transport.exposed?.bytes.subarray(8192, 8192 + pageBytes).equals(page) ?? false;
    const into = Buffer.alloc(pageBytes);
    const read = await completion<null>((done) => client.read(8192, into, (status, reason) => done(status, null, reason)));
    const rpc = await completion<Uint8Array>((done) => client.rpc(1, Buffer.from('rackmem'), done));
    const endpointOk = write.status === 'ok' && writeLanded && read.status === 'ok' && into.equals(page) && rpc.status === 'ok' && Buffer.from(rpc.value ?? []).toString() === 'memkcar';
    const device = { deviceName: values.device, gidIndex: values['gid-index'] === undefined ? 0 : Number(values['gid-index']), portNum: values.port === undefined ? 1 : Number(values.port) };
    const fabric = endpointOk ? await fabricSmoke(() => (o) => RdmaTransport.open({ ...o, ...device }), SMALL_QUEUES) : { ok: false, skipped: 'the endpoint stage failed' };
    const ok = endpointOk && fabric.ok === true;
    print({
      ran: true, ok, device: transport.device.name, linkLayer: transport.device.isRoce ? 'ethernet' : 'infiniband', lid: transport.device.port.lid,
      qpns: [client.localInfo.qpn, server.localInfo.qpn],
      write: { status: write.status, reason: write.reason, us: write.us, landed: writeLanded },
      read: { status: read.status, reason: read.reason, us: read.us, matches: into.equals(page) },
      rpc: { status: rpc.status, reason: rpc.reason, us: rpc.us, reply: rpc.value === null ? null : Buffer.from(rpc.value).toString() },
      clientStats: client.stats(),
      fabric,
    });
    return ok ? 0 : 1;
  } finally {
    transport.close();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    const e = err as Error;
    print({ ran: false, error: e instanceof VerbsError ? e.code : e.name, message: e.message });
    process.exit(1);
  },
);
