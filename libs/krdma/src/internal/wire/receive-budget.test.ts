import { describe, expect, it } from 'vitest';
import { FrameDecoder } from './decode.js';
import { encodeFrameBytes } from './encode.js';
import { ReceiveBudget } from './receive-budget.js';

const write = (bytes: number) => encodeFrameBytes(7, { type: 'write', slabId: 1, offsetBytes: 0, data: new Uint8Array(bytes).fill(5) });

describe('receive budget and payload cap', () => {
  it('charges partial frames to a shared budget, refuses beyond it, and gives bytes back', () => {
    const budget = new ReceiveBudget(200 * 1024);
    const a = new FrameDecoder({ budget });
    const b = new FrameDecoder({ budget });
    const frame = write(150 * 1024);
    // a holds most of a 150 KiB frame (its buffer is sized by the bytes that arrived).
    expect(a.feed(frame.subarray(0, 140 * 1024), () => {})).toBeNull();
    expect(budget.heldBytes).toBe(140 * 1024 - 16);
    // b may start (64 KiB fits) but cannot grow past what is left.
    const error = b.feed(frame.subarray(0, 100 * 1024), () => {});
    expect(error?.code).toBe('receive-budget');
    expect(error?.message).toMatch(/stalled/);
    expect(budget.refusals).toBe(1);
    expect(budget.heldBytes).toBe(140 * 1024 - 16); // b took nothing
    // a finishes: its frame is delivered whole, and its bytes go back.
    let delivered = 0;
    expect(a.feed(frame.subarray(140 * 1024), (_id, m) => void (delivered = m.type === 'write' ? m.data.length : -1))).toBeNull();
    expect(delivered).toBe(150 * 1024);
    expect(budget.heldBytes).toBe(0);
    expect(budget.peakBytes).toBeLessThanOrEqual(200 * 1024);
  });

  it('gives a disposed decoder\'s bytes back', () => {
    const budget = new ReceiveBudget(1 << 20);
    const decoder = new FrameDecoder({ budget });
    expect(decoder.feed(write(100 * 1024).subarray(0, 1000), () => {})).toBeNull();
    expect(budget.heldBytes).toBeGreaterThan(0);
    decoder.dispose();
    expect(budget.heldBytes).toBe(0);
    expect(decoder.feed(new Uint8Array(1), () => {})?.code).toBe('decoder-failed');
  });

  it('frames within the chunk are not charged at all', () => {
    const budget = new ReceiveBudget(0);
    const decoder = new FrameDecoder({ budget });
    let frames = 0;
    expect(decoder.feed(write(8192), () => void frames++)).toBeNull();
    expect(frames).toBe(1);
  });

  it('refuses a frame above the current cap from its header, before buffering', () => {
    const budget = new ReceiveBudget(1 << 30);
    const decoder = new FrameDecoder({ budget });
    decoder.setPayloadCap(300, ' before authentication');
    const error = decoder.feed(write(4096).subarray(0, 16), () => {});
    expect(error?.code).toBe('frame-too-large');
    expect(error?.message).toMatch(/4108 bytes exceeds the current limit of 300 before authentication/);
    expect(budget.peakBytes).toBe(0);
  });
});
