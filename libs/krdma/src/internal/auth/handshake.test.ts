import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KrdmaError } from '../errors.js';
import { nodeHash } from '../identity.js';
import type { MessageOf } from '../wire/messages.js';
import { ClientHandshake, ServerHandshake, authProof } from './handshake.js';

const secret = new TextEncoder().encode('a shared cluster secret, 32 byte');
const nonce = (fill: number): Uint8Array => new Uint8Array(32).fill(fill);

function run(clientSecret: Uint8Array, serverSecret: Uint8Array, clientName = 'alpha', serverName = 'beta') {
  const client = new ClientHandshake({ secret: clientSecret, localName: clientName, nonce: nonce(1) });
  const server = new ServerHandshake({ secret: serverSecret, localName: serverName, nonce: nonce(2) });
  const hello = client.hello();
  const challenge = server.onHello(hello);
  if (!challenge.ok) return { client, server, failedAt: 'server-hello', reason: challenge.error.message };
  const response = client.onChallenge(challenge.reply as MessageOf<'auth-challenge'>);
  if (!response.ok) return { client, server, failedAt: 'client-challenge', reason: response.error.message };
  const ok = server.onResponse(response.reply as MessageOf<'auth-response'>);
  if (!ok.ok) return { client, server, failedAt: 'server-response', reason: ok.error.message };
  expect(ok.reply).toEqual({ type: 'auth-ok' });
  const done = client.onAuthOk();
  expect(done.ok).toBe(true);
  return { client, server, failedAt: null, reason: null };
}

describe('authentication handshake', () => {
  it('authenticates both sides with the same secret and learns the names', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 20 }), fc.string({ minLength: 1, maxLength: 20 }), (a, b) => {
        const { client, server, failedAt } = run(secret, secret, a, b);
        expect(failedAt).toBeNull();
        expect(client.done && server.done).toBe(true);
        expect(client.peerName).toBe(b);
        expect(server.peerName).toBe(a);
      }),
      { numRuns: 30 },
    );
  });

  it('refuses a wrong secret with a clear reason', () => {
    const wrong = new TextEncoder().encode('another secret, also long enough');
    const { client, server, failedAt, reason } = run(wrong, secret);
    expect(failedAt).toBe('client-challenge');
    expect(reason).toMatch(/does not know the cluster secret/);
    expect(client.done || server.done).toBe(false);
    expect(client.peerName).toBeNull();
  });

  it('the server refuses a client whose proof does not verify', () => {
    const server = new ServerHandshake({ secret, localName: 'beta', nonce: nonce(2) });
    const client = new ClientHandshake({ secret, localName: 'alpha', nonce: nonce(1) });
    expect(server.onHello(client.hello()).ok).toBe(true);
    const forged = authProof(new TextEncoder().encode('guessed secret guessed secret'), 'client', nonce(1), nonce(2), 'alpha', 'beta');
    const step = server.onResponse({ type: 'auth-response', proof: forged });
    expect(step.ok).toBe(false);
    if (!step.ok) {
      expect(step.error.code).toBe('auth-failed');
      expect(step.error.message).toMatch(/"alpha" does not know the cluster secret/);
    }
    expect(server.done).toBe(false);
  });

  it('does not accept a reflected server proof as the client proof', () => {
    const server = new ServerHandshake({ secret, localName: 'beta', nonce: nonce(2) });
    const challenge = server.onHello({ type: 'hello', nodeHash: nodeHash('alpha'), nonce: nonce(1), nodeName: 'alpha' });
    if (!challenge.ok || challenge.reply?.type !== 'auth-challenge') throw new Error('no challenge');
    expect(server.onResponse({ type: 'auth-response', proof: challenge.reply.proof }).ok).toBe(false);
  });

  it('refuses out-of-order messages, a wrong node hash, and a refusing server', () => {
    const client = new ClientHandshake({ secret, localName: 'alpha', nonce: nonce(1) });
    expect(client.onAuthOk().ok).toBe(false);
    const server = new ServerHandshake({ secret, localName: 'beta', nonce: nonce(2) });
    expect(server.onResponse({ type: 'auth-response', proof: new Uint8Array(32) }).ok).toBe(false);
    const liar = new ServerHandshake({ secret, localName: 'beta', nonce: nonce(2) });
    const lie = liar.onHello({ type: 'hello', nodeHash: 12345, nonce: nonce(1), nodeName: 'alpha' });
    expect(lie.ok).toBe(false);
    const refusing = new ServerHandshake({ secret, localName: 'beta', nonce: nonce(2) }, { refuseReason: 'maintenance' });
    const refused = refusing.onHello(new ClientHandshake({ secret, localName: 'alpha', nonce: nonce(1) }).hello());
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.error.message).toBe('maintenance');
  });

  it('requires a secret of at least 16 bytes and a 32-byte nonce', () => {
    expect(() => new ClientHandshake({ secret: new Uint8Array(15), localName: 'a', nonce: nonce(1) })).toThrow(KrdmaError);
    expect(() => new ServerHandshake({ secret, localName: 'a', nonce: new Uint8Array(8) })).toThrow(/nonce/);
  });

  it('binds proofs to nonces and names', () => {
    const base = authProof(secret, 'server', nonce(1), nonce(2), 'a', 'b');
    expect(authProof(secret, 'server', nonce(3), nonce(2), 'a', 'b')).not.toEqual(base);
    expect(authProof(secret, 'server', nonce(1), nonce(2), 'ab', '')).not.toEqual(authProof(secret, 'server', nonce(1), nonce(2), 'a', 'b'));
    expect(authProof(secret, 'client', nonce(1), nonce(2), 'a', 'b')).not.toEqual(base);
  });
});
