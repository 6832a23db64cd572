import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { frameArbitrary, messageArbitraries, SMALL_LIMITS } from '../../../test/arbitraries.js';
import { KrdmaError, ProtocolError } from '../errors.js';
import { FrameDecoder } from './decode.js';
import { encodeFrame, encodeFrameBytes, frameByteLength } from './encode.js';
import { DEFAULT_WIRE_LIMITS, resolveWireLimits, type WireLimits } from './limits.js';
import { HEADER_BYTES, MessageType, type MessageTypeName, type WireMessage } from './messages.js';

function decodeAll(bytes: Uint8Array, limits: WireLimits = SMALL_LIMITS) {
  const frames: { requestId: number; message: WireMessage }[] = [];
  const decoder = new FrameDecoder({ limits });
  const error = decoder.feed(bytes, (requestId, message) => frames.push({ requestId, message }));
  return { frames, error, decoder };
}

describe('wire codec', () => {
  const arbitraries = messageArbitraries(SMALL_LIMITS);

  it('has an arbitrary for every message type', () => {
    expect(Object.keys(arbitraries).sort()).toEqual(Object.keys(MessageType).sort());
  });

  for (const type of Object.keys(MessageType) as MessageTypeName[]) {
    it(`round-trips ${type} frames`, () => {
      fc.assert(
        fc.property(fc.nat({ max: 0xffffffff }), arbitraries[type], (requestId, message) => {
          const bytes = encodeFrameBytes(requestId, message);
          expect(bytes.length).toBe(frameByteLength(message));
          expect(bytes[3]).toBe(MessageType[type]);
          const { frames, error, decoder } = decodeAll(bytes);
          expect(error).toBeNull();
          expect(frames).toEqual([{ requestId, message }]);
          expect(decoder.bufferedBytes).toBe(0);
        }),
        { numRuns: 60 },
      );
    });
  }

  it('encodes into a caller buffer at an offset and refuses a buffer too small', () => {
    fc.assert(
      fc.property(frameArbitrary(SMALL_LIMITS), fc.nat({ max: 64 }), ({ requestId, message }, offset) => {
        const size = frameByteLength(message);
        const into = new Uint8Array(offset + size + 3);
        expect(encodeFrame(requestId, message, into, offset)).toBe(size);
        expect(decodeAll(into.subarray(offset, offset + size)).frames).toEqual([{ requestId, message }]);
        expect(() => encodeFrame(requestId, message, new Uint8Array(size - 1))).toThrow(KrdmaError);
      }),
      { numRuns: 100 },
    );
  });

  it('refuses unencodable fields with a typed error', () => {
    const cases: WireMessage[] = [
      { type: 'free', slabId: -1 },
      { type: 'free', slabId: 2 ** 32 },
      { type: 'alloc', sizeBytes: 2 ** 53 },
      { type: 'alloc', sizeBytes: 1.5 },
      { type: 'ping', token: new Uint8Array(7) },
      { type: 'hello', nodeHash: 1, nonce: new Uint8Array(32), nodeName: 'x'.repeat(256) },
      { type: 'error', code: 70000, reason: '' },
    ];
    for (const message of cases) {
      try {
        encodeFrameBytes(1, message);
        expect.unreachable(`encoded ${JSON.stringify(message)}`);
      } catch (error) {
        expect(error).toBeInstanceOf(KrdmaError);
        expect((error as KrdmaError).code).toBe('encode-invalid');
      }
    }
  });

  it('writes the documented header layout', () => {
    const bytes = encodeFrameBytes(0x01020304, { type: 'free', slabId: 7 });
    expect([...bytes.subarray(0, HEADER_BYTES)]).toEqual([0x4b, 0x52, 1, 0x12, 0, 0, 0, 0, 4, 3, 2, 1, 4, 0, 0, 0]);
    expect([...bytes.subarray(HEADER_BYTES)]).toEqual([7, 0, 0, 0]);
  });

  it('checks limits for consistency', () => {
    expect(resolveWireLimits()).toEqual(DEFAULT_WIRE_LIMITS);
    expect(() => resolveWireLimits({ maxIoBytes: DEFAULT_WIRE_LIMITS.maxPayloadBytes })).toThrow(/maxPayloadBytes/);
    expect(() => resolveWireLimits({ maxNameBytes: 300 })).toThrow(KrdmaError);
    expect(() => resolveWireLimits({ maxVectorEntries: -1 })).toThrow(KrdmaError);
  });
});

describe('decoder refusals', () => {
  const valid = (): Uint8Array => encodeFrameBytes(9, { type: 'read', slabId: 1, offsetBytes: 0, lengthBytes: 16 });
  const refusal = (bytes: Uint8Array, limits: WireLimits = SMALL_LIMITS): ProtocolError => {
    const { error } = decodeAll(bytes, limits);
    expect(error).toBeInstanceOf(ProtocolError);
    return error as ProtocolError;
  };
  const header = (type: number, payloadBytes: number): Uint8Array => {
    const bytes = new Uint8Array(HEADER_BYTES);
    bytes.set([0x4b, 0x52, 1, type]);
    new DataView(bytes.buffer).setUint32(12, payloadBytes, true);
    return bytes;
  };

  it('refuses bad magic, version, type and flags', () => {
    const a = valid();
    a[0] = 0;
    expect(refusal(a).code).toBe('bad-magic');
    const b = valid();
    b[2] = 2;
    expect(refusal(b).code).toBe('bad-version');
    const c = valid();
    c[3] = 0x7e;
    expect(refusal(c).code).toBe('unknown-type');
    const d = valid();
    d[5] = 1;
    expect(refusal(d).code).toBe('bad-flags');
  });

  it('refuses an oversized frame from its header alone, before allocating', () => {
    const sizes: number[] = [];
    const decoder = new FrameDecoder({ limits: SMALL_LIMITS, allocate: (n) => (sizes.push(n), new Uint8Array(n)) });
    const error = decoder.feed(header(MessageType.rpc, 0xffffffff), () => expect.unreachable());
    expect(error?.code).toBe('frame-too-large');
    expect(sizes).toEqual([]);
    expect(decoder.failed).toBe(true);
    expect(decoder.feed(valid(), () => expect.unreachable())?.code).toBe('decoder-failed');
  });

  it('refuses lengths outside the bounds of the message type', () => {
    expect(refusal(header(MessageType.free, 5)).code).toBe('bad-length');
    expect(refusal(header(MessageType['read-reply'], SMALL_LIMITS.maxIoBytes + 1)).code).toBe('bad-length');
    const readBig = encodeFrameBytes(1, { type: 'read', slabId: 1, offsetBytes: 0, lengthBytes: SMALL_LIMITS.maxIoBytes + 1 });
    expect(refusal(readBig).code).toBe('io-too-large');
  });

  it('refuses too many vector entries and inconsistent vector lengths', () => {
    const many = encodeFrameBytes(1, { type: 'readv', entries: Array.from({ length: 17 }, () => ({ slabId: 1, offsetBytes: 0, lengthBytes: 1 })) });
    expect(refusal(many, { ...SMALL_LIMITS, maxPayloadBytes: 8192 }).code).toBe('bad-length'); // payload above the readv bound
    const count = encodeFrameBytes(1, { type: 'readv', entries: [{ slabId: 1, offsetBytes: 0, lengthBytes: 1 }] });
    new DataView(count.buffer).setUint32(HEADER_BYTES, 1000, true);
    expect(refusal(count).code).toBe('too-many-entries');
    const total = encodeFrameBytes(1, { type: 'writev', entries: [{ slabId: 1, offsetBytes: 0, data: new Uint8Array(4) }] });
    new DataView(total.buffer).setUint32(HEADER_BYTES + 4 + 12, 5, true);
    expect(refusal(total).code).toBe('bad-length');
    const zero = encodeFrameBytes(1, { type: 'readv', entries: [{ slabId: 1, offsetBytes: 0, lengthBytes: 1 }] });
    new DataView(zero.buffer).setUint32(HEADER_BYTES, 0, true);
    expect(refusal(zero).code).toBe('bad-length');
  });

  it('refuses bad names, bad UTF-8 and out-of-range u64 fields', () => {
    const hello = encodeFrameBytes(0, { type: 'hello', nodeHash: 1, nonce: new Uint8Array(32), nodeName: 'ab' });
    const badUtf8 = hello.slice();
    badUtf8[HEADER_BYTES + 37] = 0xff;
    expect(refusal(badUtf8).code).toBe('bad-utf8');
    const badNameLength = hello.slice();
    badNameLength[HEADER_BYTES + 36] = 1;
    expect(refusal(badNameLength).code).toBe('bad-length');
    const longName = encodeFrameBytes(0, { type: 'hello', nodeHash: 1, nonce: new Uint8Array(32), nodeName: 'n'.repeat(33) });
    expect(refusal(longName).code).toBe('bad-length');
    const alloc = encodeFrameBytes(1, { type: 'alloc', sizeBytes: 1 });
    alloc[HEADER_BYTES + 7] = 0xff;
    expect(refusal(alloc).code).toBe('field-range');
  });

  it('delivers the frames before a bad one', () => {
    const good = encodeFrameBytes(1, { type: 'stats' });
    const bad = valid();
    bad[0] = 1;
    const stream = new Uint8Array(good.length * 2 + bad.length);
    stream.set(good);
    stream.set(good, good.length);
    stream.set(bad, good.length * 2);
    const { frames, error } = decodeAll(stream);
    expect(frames).toHaveLength(2);
    expect(error?.code).toBe('bad-magic');
  });
});

describe('decoder memory', () => {
  it('buffers a split payload in proportion to the bytes received, not the length announced', () => {
    const sizes: number[] = [];
    const decoder = new FrameDecoder({ allocate: (n) => (sizes.push(n), new Uint8Array(n)) });
    const data = new Uint8Array(1 << 20).map((_, i) => i & 0xff);
    const frame = encodeFrameBytes(3, { type: 'read-reply', data });
    let seen: Uint8Array | null = null;
    expect(decoder.feed(frame.subarray(0, 100), () => expect.unreachable())).toBeNull();
    expect(sizes).toEqual([64 * 1024]);
    for (let at = 100; at < frame.length; at += 50_000) {
      expect(decoder.feed(frame.subarray(at, Math.min(frame.length, at + 50_000)), (_id, m) => (seen = m.type === 'read-reply' ? m.data : null))).toBeNull();
    }
    // Compare as buffers: a deep toEqual over 1 MiB takes seconds.
    expect(seen).not.toBeNull();
    expect(Buffer.compare(seen as unknown as Uint8Array, data)).toBe(0);
    expect(Math.max(...sizes)).toBe(data.length);
    expect(sizes.every((size, i) => i === 0 || size >= 2 * sizes[i - 1] || size === data.length)).toBe(true);
  });
});
