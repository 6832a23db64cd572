import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { frameArbitrary, SMALL_LIMITS } from '../../../test/arbitraries.js';
import { FrameDecoder } from './decode.js';
import { encodeFrameBytes } from './encode.js';
import type { WireMessage } from './messages.js';

describe('streaming decoder', () => {
  it('yields the same frames for any chunking of a valid stream', () => {
    fc.assert(
      fc.property(
        fc.array(frameArbitrary(SMALL_LIMITS), { minLength: 1, maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 40 }),
        (frames, cutSeeds) => {
          const parts = frames.map(({ requestId, message }) => encodeFrameBytes(requestId, message));
          const stream = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
          let at = 0;
          for (const part of parts) {
            stream.set(part, at);
            at += part.length;
          }
          const cuts = [...new Set(cutSeeds.map((seed) => seed % (stream.length + 1)))].sort((a, b) => a - b);
          const decoder = new FrameDecoder({ limits: SMALL_LIMITS });
          const seen: { requestId: number; message: WireMessage }[] = [];
          let from = 0;
          for (const cut of [...cuts, stream.length]) {
            // Copy each chunk into a fresh buffer, as a socket would hand them over.
            const error = decoder.feed(stream.slice(from, cut), (requestId, message) => seen.push({ requestId, message }));
            expect(error).toBeNull();
            from = cut;
          }
          expect(seen).toEqual(frames);
          expect(decoder.bufferedBytes).toBe(0);
          expect(decoder.framesDecoded).toBe(frames.length);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('decodes a stream fed one byte at a time', () => {
    const message: WireMessage = { type: 'writev', entries: [{ slabId: 3, offsetBytes: 4096, data: Uint8Array.of(1, 2, 3) }] };
    const bytes = encodeFrameBytes(77, message);
    const decoder = new FrameDecoder({ limits: SMALL_LIMITS });
    const seen: WireMessage[] = [];
    for (let i = 0; i < bytes.length; i++) {
      expect(decoder.feed(bytes.subarray(i, i + 1), (_id, m) => seen.push(m))).toBeNull();
      if (i < bytes.length - 1) expect(decoder.bufferedBytes).toBe(i + 1);
    }
    expect(seen).toEqual([message]);
  });
});
