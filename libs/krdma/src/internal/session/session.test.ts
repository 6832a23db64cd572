import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { frameArbitrary } from '../../../test/arbitraries.js';
import { SECRET } from '../../../test/harness.js';
import { ClientHandshake } from '../auth/handshake.js';
import { DonorService } from '../donor/donor.js';
import type { FabricStatus } from '../fabric.js';
import { nodeIdentity } from '../identity.js';
import { FrameDecoder } from '../wire/decode.js';
import { encodeFrameBytes } from '../wire/encode.js';
import { resolveWireLimits } from '../wire/limits.js';
import type { WireMessage } from '../wire/messages.js';
import { DEFAULT_SESSION_TIMEOUTS } from './ports.js';
import { Session, truncateUtf8, type SessionEnd } from './session.js';

function serverSession(nowNs = { value: 0 }) {
  const deferred: (() => void)[] = [];
  const sent: WireMessage[] = [];
  const decoder = new FrameDecoder();
  const ends: SessionEnd[] = [];
  const session = new Session(
    'server',
    {
      identity: nodeIdentity('server'),
      secret: SECRET,
      limits: resolveWireLimits(),
      donor: new DonorService({ capacityBytes: 1 << 20 }),
      handlers: new Map(),
      scheduler: { defer: (fn) => void deferred.push(fn) },
      clock: { nowNs: () => nowNs.value },
      timeouts: DEFAULT_SESSION_TIMEOUTS,
      maxInFlight: 8,
      maxServing: 8,
    },
    new Uint8Array(32),
    {
      send: (frame) => void decoder.feed(frame, (_id, message) => sent.push(message)),
      up: () => {},
      ended: (_s, end) => void ends.push(end),
    },
  );
  return { session, sent, ends, deferred };
}

describe('session', () => {
  it('closes the connection with a reason on garbage bytes, and sends the peer an error', () => {
    const { session, sent, ends } = serverSession();
    session.receive(Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16));
    expect(session.isClosed).toBe(true);
    expect(ends).toEqual([{ state: 'lost', status: 'error', reason: expect.stringMatching(/bad-magic/) }]);
    expect(sent).toEqual([{ type: 'error', code: 7, reason: expect.stringMatching(/bad-magic/) }]);
    session.receive(encodeFrameBytes(0, { type: 'stats' })); // ignored after close
    expect(sent).toHaveLength(1);
  });

  it('refuses requests before authentication', () => {
    const { session, sent, ends } = serverSession();
    session.receive(encodeFrameBytes(5, { type: 'alloc', sizeBytes: 4096 }));
    expect(sent).toEqual([{ type: 'error', code: 9, reason: 'alloc before authentication' }]);
    expect(ends[0]).toMatchObject({ state: 'refused', status: 'rejected' });
  });

  it('drops a handshake that does not finish in time', () => {
    const now = { value: 0 };
    const { session, ends } = serverSession(now);
    now.value = DEFAULT_SESSION_TIMEOUTS.handshakeTimeoutNs - 1;
    session.tick();
    expect(ends).toEqual([]);
    now.value += 1;
    session.tick();
    expect(ends).toEqual([{ state: 'lost', status: 'timeout', reason: 'authentication did not finish within 5000 ms' }]);
  });

  it('completes requests posted before authentication peer-lost, asynchronously', () => {
    const { session, deferred } = serverSession();
    const statuses: FabricStatus[] = [];
    session.allocSlab(10, (status) => statuses.push(status));
    expect(statuses).toEqual([]);
    deferred.forEach((fn) => fn());
    expect(statuses).toEqual(['peer-lost']);
  });

  it('survives any sequence of valid frames after authentication: it answers or closes, never throws', () => {
    fc.assert(
      fc.property(fc.array(frameArbitrary(resolveWireLimits()), { maxLength: 25 }), (frames) => {
        const { session, sent, ends, deferred } = serverSession();
        const client = new ClientHandshake({ secret: SECRET, localName: 'client', nonce: new Uint8Array(32).fill(3) });
        session.receive(encodeFrameBytes(0, client.hello()));
        const challenge = sent.pop();
        if (challenge?.type !== 'auth-challenge') throw new Error('no challenge');
        const step = client.onChallenge(challenge);
        if (!step.ok || step.reply === null) throw new Error('client refused');
        session.receive(encodeFrameBytes(0, step.reply));
        expect(sent.pop()).toEqual({ type: 'auth-ok' });
        expect(session.isUp).toBe(true);
        for (const { requestId, message } of frames) {
          const before = sent.length;
          session.receive(encodeFrameBytes(requestId, message));
          deferred.splice(0).forEach((fn) => fn());
          if (session.isClosed) break;
          // Requests are answered (ok or error); replies to unknown ids are dropped silently.
          const isRequest = ['alloc', 'free', 'read', 'write', 'readv', 'writev', 'ping', 'stats', 'rpc'].includes(message.type);
          if (isRequest) expect(sent.length).toBe(before + 1);
        }
        expect(session.isClosed).toBe(ends.length === 1);
      }),
      { numRuns: 150 },
    );
  });

  it('truncates reasons on character boundaries', () => {
    expect(truncateUtf8('abc', 10)).toBe('abc');
    expect(truncateUtf8('ééé', 5)).toBe('éé');
    expect(new TextEncoder().encode(truncateUtf8('x'.repeat(400), 255)).length).toBe(255);
  });
});
