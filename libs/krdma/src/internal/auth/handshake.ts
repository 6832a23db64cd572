import { createHmac, timingSafeEqual } from 'node:crypto';
import { KrdmaError } from '../errors.js';
import { nodeHash } from '../identity.js';
import { NONCE_BYTES, PROOF_BYTES, type MessageOf } from '../wire/messages.js';
import { utf8Bytes } from '../wire/bytes.js';

/** Shortest accepted cluster secret in bytes. */
export const MIN_SECRET_BYTES = 16;

/** Outcome of one handshake step: a reply to send (or none), or a refusal with a reason. */
export type AuthStep =
  | { readonly ok: true; readonly reply: MessageOf<'auth-challenge'> | MessageOf<'auth-response'> | MessageOf<'auth-ok'> | null }
  | { readonly ok: false; readonly error: KrdmaError };

/** Configuration of one side of a handshake. */
export interface HandshakeConfig {
  /** The shared cluster secret (at least {@link MIN_SECRET_BYTES} bytes). */
  readonly secret: Uint8Array;
  /** This node's name. */
  readonly localName: string;
  /** A fresh random nonce of 32 bytes for this connection (from the runtime's random source). */
  readonly nonce: Uint8Array;
}

const SERVER_LABEL = utf8Bytes('rackmem/krdma/v1 server proof');
const CLIENT_LABEL = utf8Bytes('rackmem/krdma/v1 client proof');

/**
 * HMAC-SHA256 proof of the secret, bound to both nonces, both names and the prover's role:
 * HMAC(secret, label || clientNonce || serverNonce || len(clientName) || clientName || len(serverName) || serverName).
 */
export function authProof(
  secret: Uint8Array,
  role: 'client' | 'server',
  clientNonce: Uint8Array,
  serverNonce: Uint8Array,
  clientName: string,
  serverName: string,
): Uint8Array {
  const mac = createHmac('sha256', secret);
  mac.update(role === 'server' ? SERVER_LABEL : CLIENT_LABEL);
  mac.update(clientNonce);
  mac.update(serverNonce);
  for (const name of [clientName, serverName]) {
    const bytes = utf8Bytes(name);
    mac.update(Uint8Array.of(bytes.length));
    mac.update(bytes);
  }
  return new Uint8Array(mac.digest());
}

function proofMatches(expected: Uint8Array, actual: Uint8Array): boolean {
  return actual.length === PROOF_BYTES && timingSafeEqual(expected, actual);
}

function checkConfig(config: HandshakeConfig): void {
  if (config.secret.length < MIN_SECRET_BYTES) {
    throw new KrdmaError('secret-too-short', `the cluster secret is ${config.secret.length} bytes; use at least ${MIN_SECRET_BYTES} random bytes`);
  }
  if (config.nonce.length !== NONCE_BYTES) {
    throw new KrdmaError('bad-nonce', `the handshake nonce must be ${NONCE_BYTES} bytes, got ${config.nonce.length}; pass fresh random bytes`);
  }
}

function refuse(reason: string): AuthStep {
  return { ok: false, error: new KrdmaError('auth-failed', reason) };
}

/**
 * The connecting side of the handshake (I/O-free):
 * `hello()` -> send hello; `onChallenge(challenge)` -> verify the server's proof, send the
 * auth-response; `onAuthOk()` -> authenticated. Both sides prove the secret; a wrong secret is
 * refused with a reason for the log.
 */
export class ClientHandshake {
  private state: 'start' | 'hello-sent' | 'response-sent' | 'done' | 'failed' = 'start';
  private peer: string | null = null;

  constructor(private readonly config: HandshakeConfig) {
    checkConfig(config);
  }

  /** The authenticated server's name once done, else null. */
  get peerName(): string | null {
    return this.state === 'done' ? this.peer : null;
  }

  /** True once both proofs checked out. */
  get done(): boolean {
    return this.state === 'done';
  }

  /** The hello to send first. */
  hello(): MessageOf<'hello'> {
    this.state = 'hello-sent';
    return { type: 'hello', nodeHash: nodeHash(this.config.localName), nonce: this.config.nonce, nodeName: this.config.localName };
  }

  /** Checks the server's challenge and proof; answers with this side's proof. */
  onChallenge(challenge: MessageOf<'auth-challenge'>): AuthStep {
    if (this.state !== 'hello-sent') return this.failWith(`unexpected auth-challenge in state ${this.state}`);
    if (challenge.nodeHash !== nodeHash(challenge.nodeName)) {
      return this.failWith(`server "${challenge.nodeName}" sent node hash ${challenge.nodeHash}, which is not the hash of its name`);
    }
    const { secret, nonce, localName } = this.config;
    const expected = authProof(secret, 'server', nonce, challenge.nonce, localName, challenge.nodeName);
    if (!proofMatches(expected, challenge.proof)) {
      return this.failWith(`server "${challenge.nodeName}" does not know the cluster secret (its proof did not verify); check that both nodes use the same secret`);
    }
    this.peer = challenge.nodeName;
    this.state = 'response-sent';
    const proof = authProof(secret, 'client', nonce, challenge.nonce, localName, challenge.nodeName);
    return { ok: true, reply: { type: 'auth-response', proof } };
  }

  /** The server accepted this side's proof. */
  onAuthOk(): AuthStep {
    if (this.state !== 'response-sent') return this.failWith(`unexpected auth-ok in state ${this.state}`);
    this.state = 'done';
    return { ok: true, reply: null };
  }

  private failWith(reason: string): AuthStep {
    this.state = 'failed';
    return refuse(reason);
  }
}

/** Extra server-side policy. */
export interface ServerHandshakeOptions {
  /** When set, every hello is refused with this reason (a fault hook and an admin switch). */
  readonly refuseReason?: string | null;
}

/**
 * The accepting side of the handshake (I/O-free):
 * `onHello(hello)` -> send auth-challenge (with this side's proof); `onResponse(response)` ->
 * verify the client's proof, send auth-ok.
 */
export class ServerHandshake {
  private state: 'start' | 'challenge-sent' | 'done' | 'failed' = 'start';
  private peer: string | null = null;
  private clientNonce: Uint8Array | null = null;

  constructor(
    private readonly config: HandshakeConfig,
    private readonly options: ServerHandshakeOptions = {},
  ) {
    checkConfig(config);
  }

  /** The authenticated client's name once done, else null. */
  get peerName(): string | null {
    return this.state === 'done' ? this.peer : null;
  }

  /** True once the client's proof checked out. */
  get done(): boolean {
    return this.state === 'done';
  }

  /** Answers a client's hello with a challenge carrying this side's proof. */
  onHello(hello: MessageOf<'hello'>): AuthStep {
    if (this.state !== 'start') return this.failWith(`unexpected hello in state ${this.state}`);
    if (this.options.refuseReason) return this.failWith(this.options.refuseReason);
    if (hello.nodeHash !== nodeHash(hello.nodeName)) {
      return this.failWith(`client "${hello.nodeName}" sent node hash ${hello.nodeHash}, which is not the hash of its name`);
    }
    const { secret, nonce, localName } = this.config;
    this.peer = hello.nodeName;
    this.clientNonce = hello.nonce;
    this.state = 'challenge-sent';
    const proof = authProof(secret, 'server', hello.nonce, nonce, hello.nodeName, localName);
    return { ok: true, reply: { type: 'auth-challenge', nodeHash: nodeHash(localName), nonce, proof, nodeName: localName } };
  }

  /** Verifies the client's proof; answers auth-ok, or refuses. */
  onResponse(response: MessageOf<'auth-response'>): AuthStep {
    if (this.state !== 'challenge-sent' || this.clientNonce === null || this.peer === null) {
      return this.failWith(`unexpected auth-response in state ${this.state}`);
    }
    const { secret, nonce, localName } = this.config;
    const expected = authProof(secret, 'client', this.clientNonce, nonce, this.peer, localName);
    if (!proofMatches(expected, response.proof)) {
      return this.failWith(`client "${this.peer}" does not know the cluster secret (its proof did not verify); check that both nodes use the same secret`);
    }
    this.state = 'done';
    return { ok: true, reply: { type: 'auth-ok' } };
  }

  private failWith(reason: string): AuthStep {
    this.state = 'failed';
    return refuse(reason);
  }
}
