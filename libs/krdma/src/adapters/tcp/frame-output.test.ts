import { connect, createServer, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { encodeFrameBytes } from '../../internal/wire/encode.js';
import type { WireMessage } from '../../internal/wire/messages.js';
import { FrameOutput } from './frame-output.js';

/** A socket that records each write call and always takes everything. */
function recordingSocket(): { socket: Socket; writes: number[] } {
  const writes: number[] = [];
  let corked = false;
  let corkedBytes = 0;
  const fake = {
    writable: true,
    writableLength: 0,
    write(chunk: Uint8Array): boolean {
      if (corked) corkedBytes += chunk.length;
      else writes.push(chunk.length);
      return true;
    },
    cork(): void {
      corked = true;
    },
    uncork(): void {
      corked = false;
      writes.push(corkedBytes);
      corkedBytes = 0;
    },
  };
  return { socket: fake as unknown as Socket, writes };
}

const token = new Uint8Array(8);
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('frame output', () => {
  it('sends the first frame of a turn at once and the rest of the turn in one write', async () => {
    const { socket, writes } = recordingSocket();
    const output = new FrameOutput(socket);
    output.write(1, { type: 'ping', token });
    expect(writes.length).toBe(1); // a demand request does not wait for the end of the turn
    output.write(2, { type: 'ping', token });
    output.write(3, { type: 'ping', token });
    expect(writes.length).toBe(1);
    await nextTurn();
    expect(writes.length).toBe(2); // the two that followed share one write
    expect(writes[1]).toBe(2 * writes[0]);
    output.write(4, { type: 'ping', token });
    expect(writes.length).toBe(3); // a new turn leads again
  });

  it('batches what a receive produces into one write after it, with no lead frame', () => {
    const { socket, writes } = recordingSocket();
    const output = new FrameOutput(socket);
    output.receiving(() => {
      output.write(1, { type: 'ping', token });
      output.write(2, { type: 'ping', token });
      expect(writes.length).toBe(0);
    });
    expect(writes.length).toBe(1);
  });

  it('over a real socket, direct sends and queued writes keep every byte in order', async () => {
    const received: Buffer[] = [];
    let peer: Socket | null = null;
    const server = createServer((p) => {
      peer = p;
      p.pause(); // nothing is read at first: the client's writes queue up behind a full buffer
      p.on('data', (chunk) => received.push(chunk));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    const output = new FrameOutput(socket);
    const expected: Uint8Array[] = [];
    const send = (id: number, message: WireMessage): void => {
      output.write(id, message);
      expected.push(encodeFrameBytes(id, message));
    };
    const big = new Uint8Array(1024 * 1024).map((_, i) => i & 255);
    let queuedSeen = false;
    for (let turn = 0; turn < 300; turn++) {
      const token = new Uint8Array(8).fill(turn & 255);
      send(turn * 10 + 1, { type: 'ping', token });
      send(turn * 10 + 2, { type: 'read', slabId: turn, offsetBytes: turn * 4096, lengthBytes: 4096 });
      if (turn < 40) send(turn * 10 + 3, { type: 'write', slabId: 1, offsetBytes: 0, data: big }); // 40 MiB: more than the buffers hold
      if (socket.writableLength > 0) queuedSeen = true;
      if (turn === 60) peer!.resume(); // drain while later leads keep coming: none may overtake
      await nextTurn();
    }
    const total = expected.reduce((n, b) => n + b.length, 0);
    for (let i = 0; i < 1000 && received.reduce((n, b) => n + b.length, 0) < total; i++) await new Promise((r) => setTimeout(r, 10));
    socket.destroy();
    server.close();
    expect(queuedSeen).toBe(true);
    expect(Buffer.concat(received).equals(Buffer.concat(expected))).toBe(true);
    expect(output.counters.directSends).toBeGreaterThan(0); // the idle socket's leads went straight out
  }, 30_000);
});
