import { createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { VerbsError } from './errors.js';
import { verbsLibraryAvailable } from './library.js';
import type { ConnectionInfo } from './queue-pair.js';
import { dialSideChannel, encodeConnectionInfo, parseConnectionInfo, SIDE_CHANNEL_MAX_LINE_BYTES } from './side-channel.js';
import { RdmaTransport } from './transport.js';

const info: ConnectionInfo = {
  lid: 3, qpn: 0x1234, psn: 0xfffff, gid: Uint8Array.from({ length: 16 }, (_, i) => 255 - i), activeMtu: 3, roce: true,
  rkey: 0xdeadbeef, address: 0x7f12_3456_7000, lengthBytes: 1 << 30, recvSlots: 32, messageBytes: 8192,
};

let server: Server | null = null;
afterEach(() => {
  server?.close();
  server = null;
});

function listen(onSocket: (socket: Socket) => void): Promise<number> {
  return new Promise((resolve) => {
    server = createServer(onSocket);
    server.listen(0, '127.0.0.1', () => resolve((server?.address() as { port: number }).port));
  });
}

describe('verbs side channel', () => {
  it('round-trips connection info and refuses bad lines', () => {
    expect(parseConnectionInfo(encodeConnectionInfo(info))).toEqual(info);
    const good = JSON.parse(encodeConnectionInfo(info)) as Record<string, unknown>;
    for (const bad of ['not json', '[]', JSON.stringify({ ...good, v: 2 }), JSON.stringify({ ...good, qpn: 1 << 24 }), JSON.stringify({ ...good, gid: 'zz' }), JSON.stringify({ ...good, psn: -1 })]) {
      expect(() => parseConnectionInfo(bad), bad).toThrow(VerbsError);
    }
  });

  it('times out a silent peer and reports a refused connection', async () => {
    const port = await listen(() => undefined);
    const line = await dialSideChannel('127.0.0.1', port, 50);
    await expect(line.readLine('connection info')).rejects.toMatchObject({ code: 'side-channel-timeout' });
    line.close();
    server?.close();
    await expect(dialSideChannel('127.0.0.1', port, 500)).rejects.toMatchObject({ code: 'side-channel-failed' });
  });

  it('closes on an oversized line and reports the peer gone', async () => {
    const port = await listen((socket) => socket.write('x'.repeat(SIDE_CHANNEL_MAX_LINE_BYTES + 10)));
    const line = await dialSideChannel('127.0.0.1', port, 1000);
    const closed = new Promise<string>((resolve) => line.onClose(resolve));
    await expect(line.readLine('connection info')).rejects.toMatchObject({ code: 'side-channel-failed' });
    expect(await closed).toMatch(/exceeds/);
  });

  it.skipIf(!verbsLibraryAvailable())('RdmaTransport.open without a device fails with the typed no-device error', () => {
    let caught: unknown;
    try {
      RdmaTransport.open({ exposeBytes: 4096 }).close();
      return; // a machine with RDMA: opening works
    } catch (err) {
      caught = err;
    }
    expect((caught as VerbsError).code).toBe('no-rdma-device');
    expect((caught as VerbsError).message).toMatch(/--transport tcp/);
  });
});
