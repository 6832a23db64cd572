// The daemon's transport choice and the default factory: TCP, and krdma's VerbsFabric when
// libibverbs loads. Two daemons on --transport rdma run the verbs fabric on krdma's fake NIC.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeVerbsNic, RdmaTransport, VerbsFabric, verbsLibraryAvailable, type FabricStatus, type RemoteSlab } from '@rackmem/krdma';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadNodeConfig } from '../config/load.js';
import type { NodeConfig } from '../config/types.js';
import { Daemon } from './daemon.js';
import { DaemonError } from './errors.js';
import { nodeFabricFactory, resolveTransport } from './transport.js';

const dir = mkdtempSync(join(tmpdir(), 'rackmem-transport-'));
const secretFile = join(dir, 'secret');
writeFileSync(secretFile, 'an-example-cluster-secret-0123456789', { mode: 0o600 });

function config(name: string, flags: Record<string, unknown> = {}): NodeConfig {
  return loadNodeConfig({ flags: { nodeName: name, secretFile, listen: '127.0.0.1:0', api: '127.0.0.1:0', transport: 'rdma', shutdownTimeoutMs: '5000', ...flags } });
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('transport choice', () => {
  it('offers rdma exactly when libibverbs loads', () => {
    expect(nodeFabricFactory({ verbsAvailable: true }).transports).toEqual(['tcp', 'rdma']);
    expect(nodeFabricFactory({ verbsAvailable: false }).transports).toEqual(['tcp']);
    expect(nodeFabricFactory().transports.includes('rdma')).toBe(verbsLibraryAvailable());
  });

  it('refuses rdma without libibverbs with a message that says what to install', () => {
    const factory = nodeFabricFactory({ verbsAvailable: false });
    expect(() => resolveTransport('rdma', ['mlx5_0'], factory)).toThrow(/libibverbs\.so\.1 cannot be loaded.*install libibverbs1.*--transport tcp/);
    expect(resolveTransport('auto', ['mlx5_0'], factory).note).toMatch(/mlx5_0 found, but libibverbs\.so\.1 cannot be loaded.*using tcp/);
    expect(resolveTransport('auto', ['mlx5_0'], nodeFabricFactory({ verbsAvailable: true })).transport).toBe('rdma');
    expect(resolveTransport('auto', [], nodeFabricFactory({ verbsAvailable: true })).transport).toBe('tcp');
  });

  it.runIf(verbsLibraryAvailable())('building the verbs fabric on a machine without an RDMA device fails with the typed no-rdma-device error', () => {
    let error: unknown = null;
    try {
      const fabric = nodeFabricFactory().create('rdma', config('real'));
      cleanups.push(() => fabric.close());
    } catch (err) {
      error = err;
    }
    if (error === null) return; // this machine has a device: tools/rdma-smoke covers it
    expect(error).toBeInstanceOf(DaemonError);
    expect((error as DaemonError).code).toBe('transport-unavailable');
    expect((error as Error).message).toMatch(/^transport "rdma" \[no-rdma-device\]: no RDMA device was found.*--transport tcp/);
  });
});

describe('daemons on --transport rdma (fake NIC)', () => {
  it('run the verbs fabric: a consumer allocates on a donor and moves a page by RDMA WRITE and READ', async () => {
    const nic = new FakeVerbsNic();
    cleanups.push(() => nic.close());
    const factory = (name: string) =>
      nodeFabricFactory({
        verbsAvailable: true,
        verbs: { openTransport: (o) => RdmaTransport.onDevice(nic.device(name), o), verbs: { stagingSlots: 8, slotBytes: 4096, recvSlots: 4, messageBytes: 1024 } },
      });
    const logger = pino({ level: 'silent' });
    const start = async (name: string, flags: Record<string, unknown> = {}) => {
      const daemon = await Daemon.start({ config: config(name, flags), logger, processMetrics: false, fabricFactory: factory(name), rdmaDevices: ['fake0'] });
      cleanups.push(() => void daemon.stop('test over'));
      return daemon;
    };
    const donor = await start('rdma-donor', { donateBytes: '1MiB' });
    const consumer = await start('rdma-consumer');
    expect(donor.transport).toBe('rdma');
    expect(consumer.fabric).toBeInstanceOf(VerbsFabric);
    const peer = await consumer.peers.connect(`127.0.0.1:${donor.fabricAddress.port}`);
    const fabric = consumer.fabric;
    const slab = await new Promise<RemoteSlab | null>((resolve) => fabric.allocSlab(peer.id!, 64 * 1024, (_s, got) => resolve(got)));
    expect(slab?.rkey).not.toBe(0);
    const page = new Uint8Array(4096).map((_, i) => (i * 7) & 0xff);
    const wrote = await new Promise<FabricStatus>((resolve) => fabric.write(peer.id!, slab!, 8192, page, (s) => resolve(s)));
    const into = new Uint8Array(4096);
    const read = await new Promise<FabricStatus>((resolve) => fabric.read(peer.id!, slab!, 8192, into, (s) => resolve(s)));
    expect([wrote, read]).toEqual(['ok', 'ok']);
    expect(Buffer.from(into).equals(Buffer.from(page))).toBe(true);
    expect(consumer.metrics).toBeDefined();
    expect((fabric as VerbsFabric).counters()).toMatchObject({ verbsReads: 1, verbsWrites: 1, qpSetups: 1 });
    await consumer.stop('test over');
    await donor.stop('test over');
  });

  it('log once when a peer\'s queue pair cannot be set up, and keep moving its data over TCP', async () => {
    const nic = new FakeVerbsNic();
    cleanups.push(() => nic.close());
    nic.refuseRtr = Number.MAX_SAFE_INTEGER; // every RTR transition fails, as a GID or MTU mismatch would
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    const factory = (name: string) =>
      nodeFabricFactory({
        verbsAvailable: true,
        verbs: { openTransport: (o) => RdmaTransport.onDevice(nic.device(name), o), verbs: { stagingSlots: 8, slotBytes: 4096, recvSlots: 4, messageBytes: 1024 } },
      });
    const start = async (name: string, flags: Record<string, unknown> = {}) => {
      const daemon = await Daemon.start({ config: config(name, flags), logger, processMetrics: false, fabricFactory: factory(name), rdmaDevices: ['fake0'] });
      cleanups.push(() => void daemon.stop('test over'));
      return daemon;
    };
    const donor = await start('degraded-donor', { donateBytes: '1MiB' });
    const consumer = await start('degraded-consumer');
    const peer = await consumer.peers.connect(`127.0.0.1:${donor.fabricAddress.port}`);
    const fabric = consumer.fabric;
    const slab = await new Promise<RemoteSlab | null>((resolve) => fabric.allocSlab(peer.id!, 64 * 1024, (_s, got) => resolve(got)));
    const page = new Uint8Array(4096).fill(0x5a);
    const wrote = await new Promise<FabricStatus>((resolve) => fabric.write(peer.id!, slab!, 0, page, (s) => resolve(s)));
    const into = new Uint8Array(4096);
    const read = await new Promise<FabricStatus>((resolve) => fabric.read(peer.id!, slab!, 0, into, (s) => resolve(s)));
    expect([wrote, read]).toEqual(['ok', 'ok']);
    expect(into[4095]).toBe(0x5a);
    const planes = lines.filter((l) => l.event === 'data-plane' && l.peer === 'degraded-donor');
    expect(planes.map((l) => l.plane)).toEqual(['degraded']);
    expect(String(planes[0].msg)).toMatch(/^data with degraded-donor goes over TCP: .*queue pair setup failed/);
    // No drop-and-redial loop: one connection, never lost or closed.
    expect(lines.filter((l) => l.event === 'connection-established').length).toBe(2); // one line on each node
    expect(lines.filter((l) => l.event === 'connection-lost' || l.event === 'connection-closed')).toEqual([]);
  });
});
