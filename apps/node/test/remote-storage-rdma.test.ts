import { readdirSync } from 'node:fs';
import { FakeVerbsNic, RdmaTransport, VerbsFabric, verbsLibraryAvailable, type VerbsCounters } from '@rackmem/krdma';
import { afterEach, describe, expect, it } from 'vitest';
import { openRemoteStorage } from '../src/runtime/remote-storage.js';

const PAGE = 4096;
const SECRET = Buffer.alloc(32, 7);
const SMALL_QUEUES = { stagingSlots: 8, slotBytes: 4096, recvSlots: 4, messageBytes: 1024 };
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

const status = (run: (done: (s: string) => void) => void): Promise<string> => new Promise((resolve) => run(resolve));

describe('region storage over the verbs fabric (fake NIC)', () => {
  it('stores and restores pages by RDMA WRITE and READ to the donor\'s registered memory', async () => {
    const nic = new FakeVerbsNic();
    cleanups.push(() => nic.close());
    const donor = new VerbsFabric({
      nodeName: 'rdma-donor', secret: SECRET, donor: { capacityBytes: 4 << 20 },
      openTransport: (o) => RdmaTransport.onDevice(nic.device('rdma-donor'), o), verbs: SMALL_QUEUES,
    });
    cleanups.push(() => donor.close('test over'));
    const { port } = await donor.listen(0, '127.0.0.1');
    const storage = await openRemoteStorage(
      { kind: 'remote', transport: 'rdma', donors: [`127.0.0.1:${port}`], secretHex: SECRET.toString('hex'), nodeName: 'rdma-consumer', slabSizeBytes: 64 * 1024 },
      1 << 20,
      { pagesLost: () => {} },
      { openTransport: (o) => RdmaTransport.onDevice(nic.device('rdma-consumer'), o), verbs: SMALL_QUEUES },
    );
    cleanups.push(() => storage.close());
    expect(storage.fabric).toBeInstanceOf(VerbsFabric);
    const pageBytes = (page: number) => new Uint8Array(PAGE).map((_, i) => (page * 13 + i * 7) & 0xff);
    for (let page = 0; page < 40; page += 3) expect(await status((d) => storage.region.writePage(page, pageBytes(page), d))).toBe('ok');
    for (let page = 0; page < 40; page += 3) {
      const into = new Uint8Array(PAGE);
      expect(await status((d) => storage.region.readPage(page, into, d))).toBe('ok');
      expect(Buffer.from(into).equals(Buffer.from(pageBytes(page))), `page ${page}`).toBe(true);
    }
    expect(await status((d) => storage.region.readPage(1, new Uint8Array(PAGE), d))).toBe('not-found');
    const counters = (storage.fabric as VerbsFabric).counters() as VerbsCounters;
    expect(counters.verbsWrites).toBeGreaterThanOrEqual(14);
    expect(counters.verbsReads).toBeGreaterThanOrEqual(14);
  });
});

const hasDevice = (() => {
  try {
    return readdirSync('/sys/class/infiniband').length > 0;
  } catch {
    return false;
  }
})();
const noDeviceReason = !verbsLibraryAvailable() ? 'libibverbs.so.1 cannot be loaded here' : hasDevice ? 'this machine has an RDMA device' : null;
if (noDeviceReason !== null) console.warn(`[rackmem] skipping the no-RDMA-device storage test: ${noDeviceReason}`);

describe.skipIf(noDeviceReason !== null)('region storage with transport rdma on a machine without an RDMA device', () => {
  it('fails with the typed no-rdma-device error, which suggests tcp', async () => {
    const error = await openRemoteStorage(
      { kind: 'remote', transport: 'rdma', donors: ['127.0.0.1:1'], secretHex: SECRET.toString('hex'), nodeName: 'x' }, 1 << 20, { pagesLost: () => {} },
    ).then(() => null, (e: unknown) => e);
    expect((error as { code?: string }).code).toBe('no-rdma-device');
    expect((error as Error).message).toMatch(/--transport tcp/);
  });
});
