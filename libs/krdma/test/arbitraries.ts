// fast-check arbitraries of valid wire messages, shared by the codec tests, the fuzz test and
// the fuzz benchmark.
import fc from 'fast-check';
import type { MessageTypeName, WireMessage } from '../src/internal/wire/messages.js';
import type { WireLimits } from '../src/internal/wire/limits.js';

const utf8 = new TextEncoder();

/** Small limits so that random lengths often cross them. */
export const SMALL_LIMITS: WireLimits = Object.freeze({
  maxPayloadBytes: 4096 + 4 + 16 * 16,
  maxVectorEntries: 16,
  maxNameBytes: 32,
  maxReasonBytes: 64,
  maxIoBytes: 4096,
});

function bytes(length: number): fc.Arbitrary<Uint8Array> {
  return fc.uint8Array({ minLength: length, maxLength: length });
}

function text(minBytes: number, maxBytes: number): fc.Arbitrary<string> {
  return fc
    .string({ unit: 'grapheme', minLength: minBytes === 0 ? 0 : 1, maxLength: maxBytes })
    .filter((s) => {
      const length = utf8.encode(s).length;
      return length >= minBytes && length <= maxBytes;
    });
}

/** One arbitrary per message type; each generates messages valid under `limits`. */
export function messageArbitraries(limits: WireLimits): Record<MessageTypeName, fc.Arbitrary<WireMessage>> {
  const u32 = fc.nat({ max: 0xffffffff });
  const u64 = fc.maxSafeNat();
  const io = Math.min(limits.maxIoBytes, 512);
  const data = fc.uint8Array({ maxLength: io });
  const entryCount = Math.min(limits.maxVectorEntries, 8);
  const entryBytes = Math.floor(limits.maxIoBytes / entryCount);
  const name = text(1, limits.maxNameBytes);
  return {
    hello: fc.record({ type: fc.constant('hello' as const), nodeHash: u32, nonce: bytes(32), nodeName: name }),
    'auth-challenge': fc.record({ type: fc.constant('auth-challenge' as const), nodeHash: u32, nonce: bytes(32), proof: bytes(32), nodeName: name }),
    'auth-response': fc.record({ type: fc.constant('auth-response' as const), proof: bytes(32) }),
    'auth-ok': fc.constant({ type: 'auth-ok' as const }),
    alloc: fc.record({ type: fc.constant('alloc' as const), sizeBytes: u64 }),
    'alloc-reply': fc.record({ type: fc.constant('alloc-reply' as const), slabId: u32, sizeBytes: u64, rkey: u32, remoteAddress: u64 }),
    free: fc.record({ type: fc.constant('free' as const), slabId: u32 }),
    'free-ack': fc.constant({ type: 'free-ack' as const }),
    read: fc.record({ type: fc.constant('read' as const), slabId: u32, offsetBytes: u64, lengthBytes: fc.nat({ max: limits.maxIoBytes }) }),
    'read-reply': fc.record({ type: fc.constant('read-reply' as const), data }),
    write: fc.record({ type: fc.constant('write' as const), slabId: u32, offsetBytes: u64, data }),
    'write-ack': fc.constant({ type: 'write-ack' as const }),
    readv: fc.record({
      type: fc.constant('readv' as const),
      entries: fc.array(fc.record({ slabId: u32, offsetBytes: u64, lengthBytes: fc.nat({ max: entryBytes }) }), { minLength: 1, maxLength: entryCount }),
    }),
    'readv-reply': fc.record({
      type: fc.constant('readv-reply' as const),
      chunks: fc.array(fc.uint8Array({ maxLength: Math.min(entryBytes, 256) }), { minLength: 1, maxLength: entryCount }),
    }),
    writev: fc.record({
      type: fc.constant('writev' as const),
      entries: fc.array(fc.record({ slabId: u32, offsetBytes: u64, data: fc.uint8Array({ maxLength: Math.min(entryBytes, 256) }) }), {
        minLength: 1,
        maxLength: entryCount,
      }),
    }),
    'writev-ack': fc.constant({ type: 'writev-ack' as const }),
    ping: fc.record({ type: fc.constant('ping' as const), token: bytes(8) }),
    pong: fc.record({ type: fc.constant('pong' as const), token: bytes(8) }),
    stats: fc.constant({ type: 'stats' as const }),
    'stats-reply': fc.record({ type: fc.constant('stats-reply' as const), capacityBytes: u64, usedBytes: u64, slabCount: u32, peerUsedBytes: u64 }),
    rpc: fc.record({ type: fc.constant('rpc' as const), method: u32, payload: data }),
    'rpc-reply': fc.record({ type: fc.constant('rpc-reply' as const), payload: data }),
    error: fc.record({ type: fc.constant('error' as const), code: fc.nat({ max: 0xffff }), reason: text(0, limits.maxReasonBytes) }),
  };
}

/** Any valid message under `limits`. */
export function messageArbitrary(limits: WireLimits): fc.Arbitrary<WireMessage> {
  return fc.oneof(...Object.values(messageArbitraries(limits)));
}

/** A valid (requestId, message) frame. */
export function frameArbitrary(limits: WireLimits): fc.Arbitrary<{ requestId: number; message: WireMessage }> {
  return fc.record({ requestId: fc.nat({ max: 0xffffffff }), message: messageArbitrary(limits) });
}
