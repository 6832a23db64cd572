import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
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
});
