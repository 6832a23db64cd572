import { ClientHandshake, ServerHandshake, type AuthStep } from '../auth/handshake.js';
import { DonorError, type DonorService } from '../donor/donor.js';
import { ProtocolError } from '../errors.js';
import type {
  AllocDone,
  FabricStatus,
  PeerId,
  PingDone,
  ReadOp,
  RemoteSlab,
  RpcDone,
  RpcHandler,
  StatsDone,
  StatusDone,
  WriteOp,
} from '../fabric.js';
import { nodeHash, type NodeIdentity } from '../identity.js';
import { statusOfWireError, wireErrorOfStatus } from '../status.js';
import { readU64, utf8Bytes, writeU64 } from '../wire/bytes.js';
import { FrameDecoder } from '../wire/decode.js';
import { encodeFrameBytes } from '../wire/encode.js';
import type { WireLimits } from '../wire/limits.js';
import type { ReceiveBudget } from '../wire/receive-budget.js';
import { PING_TOKEN_BYTES, WireErrorCode, type MessageTypeName, type WireErrorName, type WireMessage } from '../wire/messages.js';
import type { Clock, Scheduler, SessionTimeouts } from './ports.js';

/** Shared configuration of the sessions of one node. */
export interface SessionConfig {
  readonly identity: NodeIdentity;
  readonly secret: Uint8Array;
  readonly limits: WireLimits;
  /** Serves alloc/free/read/write from peers; null on a node that donates nothing. */
  readonly donor: DonorService | null;
  readonly handlers: ReadonlyMap<number, RpcHandler>;
  readonly scheduler: Scheduler;
  readonly clock: Clock;
  readonly timeouts: SessionTimeouts;
  /** Most requests this side may have outstanding on one connection. */
  readonly maxInFlight: number;
  /** Most RPCs this side serves at once on one connection (asynchronous handlers). */
  readonly maxServing: number;
  /** Shared bound on bytes held by decoders for partial frames (null: none beyond the frame limit). */
  readonly receiveBudget?: ReceiveBudget | null;
}

/** How a session ended. */
export interface SessionEnd {
  /** `lost`: peer or transport gone, or a protocol fault; `refused`: authentication failed; `closed`: closed locally. */
  readonly state: 'lost' | 'refused' | 'closed';
  /** Status for a connect still waiting on this session. */
  readonly status: FabricStatus;
  readonly reason: string;
}

/** What a session asks of its transport and owner. */
export interface SessionHooks {
  /** Write these bytes to the peer (ownership passes to the transport). */
  send(frame: Uint8Array): void;
  /**
   * Optional: write this message to the peer, encoding it as the transport likes (into its own
   * output buffers, or gathering caller data such as `write` payloads without a copy). When
   * present it is used instead of `send`. It must validate before it writes anything and throw
   * the encoder's `KrdmaError('encode-invalid')` on an unencodable message.
   */
  sendMessage?(requestId: number, message: WireMessage): void;
  /** The peer authenticated. */
  up(session: Session): void;
  /** The session ended; the transport must close the connection (once). */
  ended(session: Session, end: SessionEnd): void;
}

interface Pending {
  readonly expect: MessageTypeName;
  readonly deadlineNs: number;
  /** Consumes the reply; returns a protocol violation reason, or null. Null: an ack or a read (below). */
  readonly onReply: ((message: WireMessage) => string | null) | null;
  readonly onFail: (status: FabricStatus, reason: string) => void;
  /** A read's destination (the reply's data is copied here), or null. */
  readonly into: Uint8Array | null;
  /** Completion of an ack or read (when `onReply` is null). */
  readonly done: StatusDone | null;
}

/** Counters of one session. */
export interface SessionCounters {
  framesIn: number;
  framesOut: number;
  requestsServed: number;
  lateReplies: number;
  timeouts: number;
}

const MAX_REQUEST_ID = 0xffffffff;

/**
 * One connection's protocol engine (I/O-free): the handshake, the table of outstanding requests
 * with deadlines, serving the peer's requests from the donor and the RPC handlers, heartbeats.
 * A transport feeds it bytes (`receive`), reports the connection's end (`transportClosed`) and
 * calls `tick` now and then; it answers with bytes to send and completions. Shared by the
 * loopback transport and, next, TCP and verbs (whose one-sided path bypasses it for data).
 */
export class Session {
  /** Counters for metrics. */
  readonly counters: SessionCounters = { framesIn: 0, framesOut: 0, requestsServed: 0, lateReplies: 0, timeouts: 0 };
  private state: 'handshake' | 'up' | 'closed' = 'handshake';
  private readonly decoder: FrameDecoder;
  private readonly client: ClientHandshake | null;
  private readonly server: ServerHandshake | null;
  private readonly pending = new Map<number, Pending>();
  private nextRequestId = 1;
  private serving = 0;
  private lastHeardNs: number;
  private readonly handshakeDeadlineNs: number;
  private heartbeatOutstanding = false;
  private peer: string | null = null;
  /** The name the peer claimed in its hello or challenge (not yet proven). */
  private claimedName: string | null = null;

  constructor(
    readonly role: 'client' | 'server',
    private readonly config: SessionConfig,
    nonce: Uint8Array,
    private readonly hooks: SessionHooks,
    refuseReason: string | null = null,
  ) {
    this.decoder = new FrameDecoder({ limits: config.limits, budget: config.receiveBudget ?? null });
    // Before authentication only handshake frames are valid: cap frames to their size, so an
    // unauthenticated peer cannot make this node buffer megabytes.
    const { maxNameBytes, maxReasonBytes } = config.limits;
    this.decoder.setPayloadCap(Math.max(4 + 64 + 1 + maxNameBytes, 3 + maxReasonBytes), ' before authentication');
    const handshake = { secret: config.secret, localName: config.identity.nodeName, nonce };
    this.client = role === 'client' ? new ClientHandshake(handshake) : null;
    this.server = role === 'server' ? new ServerHandshake(handshake, { refuseReason }) : null;
    this.lastHeardNs = config.clock.nowNs();
    this.handshakeDeadlineNs = this.lastHeardNs + config.timeouts.handshakeTimeoutNs;
  }

  /** The authenticated peer's name, or null. */
  get peerName(): string | null {
    return this.state === 'up' || (this.state === 'closed' && this.peer !== null) ? this.peer : null;
  }

  /** The authenticated peer's id, or null. */
  get peerId(): PeerId | null {
    const name = this.peerName;
    return name === null ? null : nodeHash(name);
  }

  /** True once authenticated and until closed. */
  get isUp(): boolean {
    return this.state === 'up';
  }

  /** True after the session ended. */
  get isClosed(): boolean {
    return this.state === 'closed';
  }

  /** Frames received whole in one chunk, and frames assembled from several (copied once more). */
  get decoderCounts(): { readonly framesDecoded: number; readonly framesAssembled: number } {
    return { framesDecoded: this.decoder.framesDecoded, framesAssembled: this.decoder.framesAssembled };
  }

  /** Requests outstanding. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Client side: sends the hello. */
  start(): void {
    if (this.client !== null && this.state === 'handshake') this.sendMessage(0, this.client.hello());
  }

  /** Bytes from the peer, in order, in chunks of any size. */
  receive(chunk: Uint8Array): void {
    if (this.state === 'closed') return;
    this.lastHeardNs = this.config.clock.nowNs();
    const error = this.decoder.feed(chunk, this.onFrame);
    if (error !== null) this.violate(error);
  }

  /** The transport lost the connection. */
  transportClosed(reason: string): void {
    this.finish({ state: 'lost', status: 'peer-lost', reason });
  }

  /** Closes the session locally (outstanding requests complete `peer-lost`). */
  close(reason = 'closed locally'): void {
    this.finish({ state: 'closed', status: 'peer-lost', reason });
  }

  /** Refuses the peer after authentication (self-connection, hash collision): tells it why and ends as `refused`. */
  refuse(reason: string): void {
    if (this.state === 'closed') return;
    this.sendError(0, 'auth-failed', reason);
    this.finish({ state: 'refused', status: 'rejected', reason });
  }

  /** Expires requests past their deadline, sends heartbeats, detects a silent peer. */
  tick(): void {
    if (this.state === 'closed') return;
    const nowNs = this.config.clock.nowNs();
    if (this.state === 'handshake') {
      if (nowNs >= this.handshakeDeadlineNs) {
        this.finish({ state: 'lost', status: 'timeout', reason: `authentication did not finish within ${this.config.timeouts.handshakeTimeoutNs / 1e6} ms` });
      }
      return;
    }
    const silentNs = nowNs - this.lastHeardNs;
    if (silentNs >= this.config.timeouts.peerDeadAfterNs) {
      this.finish({ state: 'lost', status: 'peer-lost', reason: `no frame from the peer for ${silentNs / 1e6} ms (dead after ${this.config.timeouts.peerDeadAfterNs / 1e6} ms)` });
      return;
    }
    for (const [id, pending] of this.pending) {
      if (nowNs >= pending.deadlineNs) {
        this.pending.delete(id);
        this.counters.timeouts++;
        pending.onFail('timeout', `no answer to ${pending.expect === 'pong' ? 'ping' : 'request'} ${id} within ${this.config.timeouts.requestTimeoutNs / 1e6} ms`);
      }
    }
    if (silentNs >= this.config.timeouts.heartbeatIntervalNs && !this.heartbeatOutstanding && this.pending.size < this.config.maxInFlight) {
      this.heartbeatOutstanding = true;
      this.ping(() => {
        this.heartbeatOutstanding = false;
      });
    }
  }

  // ---- requests -------------------------------------------------------------------------------

  /** Calls an RPC method on the peer. */
  rpc(method: number, payload: Uint8Array, done: RpcDone): void {
    const fail = (status: FabricStatus, reason: string): void => done(status, null, reason);
    if (4 + payload.length > this.config.limits.maxPayloadBytes) return this.refuseLocally(fail, `rpc payload of ${payload.length} bytes exceeds the frame limit`);
    this.post({ type: 'rpc', method, payload }, 'rpc-reply', (m) => {
      if (m.type !== 'rpc-reply') return 'bad reply';
      done('ok', m.payload.slice(), null);
      return null;
    }, fail);
  }

  /** Asks the peer's donor for a slab. */
  allocSlab(sizeBytes: number, done: AllocDone): void {
    const peer = this.peerId ?? 0;
    this.post(
      { type: 'alloc', sizeBytes },
      'alloc-reply',
      (m) => {
        if (m.type !== 'alloc-reply') return 'bad reply';
        if (m.sizeBytes !== sizeBytes) return `alloc-reply size ${m.sizeBytes} differs from the ${sizeBytes} bytes asked`;
        done('ok', { peer, slabId: m.slabId, sizeBytes: m.sizeBytes, rkey: m.rkey, remoteAddress: m.remoteAddress }, null);
        return null;
      },
      (s, r) => done(s, null, r),
    );
  }

  /** Returns a slab to the peer's donor. */
  freeSlab(slab: RemoteSlab, done: StatusDone): void {
    this.post({ type: 'free', slabId: slab.slabId }, 'free-ack', null, done, null, done);
  }

  /** Reads `into.length` bytes at `offsetBytes` of a slab into `into`. */
  read(slab: RemoteSlab, offsetBytes: number, into: Uint8Array, done: StatusDone): void {
    if (into.length > this.config.limits.maxIoBytes) return this.refuseLocally(done, `read of ${into.length} bytes exceeds maxIoBytes ${this.config.limits.maxIoBytes}; split it`);
    this.post({ type: 'read', slabId: slab.slabId, offsetBytes, lengthBytes: into.length }, 'read-reply', null, done, into, done);
  }

  /** Writes `data` at `offsetBytes` of a slab. */
  write(slab: RemoteSlab, offsetBytes: number, data: Uint8Array, done: StatusDone): void {
    if (data.length > this.config.limits.maxIoBytes) return this.refuseLocally(done, `write of ${data.length} bytes exceeds maxIoBytes ${this.config.limits.maxIoBytes}; split it`);
    this.post({ type: 'write', slabId: slab.slabId, offsetBytes, data }, 'write-ack', null, done, null, done);
  }

  /** Vectored read (all or nothing). */
  readv(ops: readonly ReadOp[], done: StatusDone): void {
    const problem = this.checkVector(ops.map((op) => op.into.length));
    if (problem !== null) return this.refuseLocally(done, problem);
    const entries = ops.map((op) => ({ slabId: op.slab.slabId, offsetBytes: op.offsetBytes, lengthBytes: op.into.length }));
    this.post({ type: 'readv', entries }, 'readv-reply', (m) => {
      if (m.type !== 'readv-reply' || m.chunks.length !== ops.length) return 'readv-reply with the wrong number of chunks';
      for (let i = 0; i < ops.length; i++) if (m.chunks[i].length !== ops[i].into.length) return `readv-reply chunk ${i} has the wrong length`;
      for (let i = 0; i < ops.length; i++) ops[i].into.set(m.chunks[i]);
      done('ok', null);
      return null;
    }, done);
  }

  /** Vectored write (all or nothing). */
  writev(ops: readonly WriteOp[], done: StatusDone): void {
    const problem = this.checkVector(ops.map((op) => op.data.length));
    if (problem !== null) return this.refuseLocally(done, problem);
    const entries = ops.map((op) => ({ slabId: op.slab.slabId, offsetBytes: op.offsetBytes, data: op.data }));
    this.post({ type: 'writev', entries }, 'writev-ack', null, done, null, done);
  }

  /** The peer donor's usage. */
  stats(done: StatsDone): void {
    this.post({ type: 'stats' }, 'stats-reply', (m) => {
      if (m.type !== 'stats-reply') return 'bad reply';
      done('ok', { capacityBytes: m.capacityBytes, usedBytes: m.usedBytes, slabCount: m.slabCount, peerUsedBytes: m.peerUsedBytes }, null);
      return null;
    }, (s, r) => done(s, null, r));
  }

  /** A round trip; the token carries the send time. */
  ping(done: PingDone): void {
    const token = new Uint8Array(PING_TOKEN_BYTES);
    const sentNs = Math.max(0, Math.floor(this.config.clock.nowNs()));
    writeU64(token, 0, sentNs);
    this.post({ type: 'ping', token }, 'pong', (m) => {
      if (m.type !== 'pong' || readU64(m.token, 0) !== sentNs) return 'pong does not echo the ping token';
      done('ok', this.config.clock.nowNs() - sentNs, null);
      return null;
    }, (s, r) => done(s, null, r));
  }

  private checkVector(lengths: number[]): string | null {
    const { maxVectorEntries, maxIoBytes } = this.config.limits;
    if (lengths.length === 0) return 'a vectored request needs at least one entry';
    if (lengths.length > maxVectorEntries) return `${lengths.length} entries exceed maxVectorEntries ${maxVectorEntries}; split the batch`;
    const total = lengths.reduce((a, b) => a + b, 0);
    if (total > maxIoBytes) return `${total} bytes exceed maxIoBytes ${maxIoBytes}; split the batch`;
    return null;
  }

  private refuseLocally(fail: (status: FabricStatus, reason: string) => void, reason: string): void {
    this.config.scheduler.defer(() => fail('rejected', reason));
  }

  private post(
    message: WireMessage,
    expect: MessageTypeName,
    onReply: Pending['onReply'],
    onFail: Pending['onFail'],
    into: Uint8Array | null = null,
    done: StatusDone | null = null,
  ): void {
    if (this.state !== 'up') {
      const reason = this.state === 'closed' ? 'the connection to the peer is closed' : 'the peer is not authenticated yet';
      this.config.scheduler.defer(() => onFail('peer-lost', reason));
      return;
    }
    if (this.pending.size >= this.config.maxInFlight) {
      const reason = `${this.pending.size} requests in flight (the bound); retry after completions`;
      this.config.scheduler.defer(() => onFail('busy', reason));
      return;
    }
    const id = this.takeRequestId();
    try {
      this.output(id, message);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.config.scheduler.defer(() => onFail('rejected', reason));
      return;
    }
    const pending: Pending = { expect, deadlineNs: this.config.clock.nowNs() + this.config.timeouts.requestTimeoutNs, onReply, onFail, into, done };
    this.pending.set(id, pending);
    this.counters.framesOut++;
  }

  /** Hands one frame to the transport (throws `encode-invalid` before sending anything). */
  private output(requestId: number, message: WireMessage): void {
    if (this.hooks.sendMessage !== undefined) this.hooks.sendMessage(requestId, message);
    else this.hooks.send(encodeFrameBytes(requestId, message));
  }

  private takeRequestId(): number {
    for (;;) {
      const id = this.nextRequestId;
      this.nextRequestId = id >= MAX_REQUEST_ID ? 1 : id + 1;
      if (!this.pending.has(id)) return id;
    }
  }

  // ---- incoming -------------------------------------------------------------------------------

  private readonly onFrame = (requestId: number, message: WireMessage): void => {
    if (this.state === 'closed') return;
    this.counters.framesIn++;
    if (this.state === 'handshake') return this.onHandshakeFrame(message);
    switch (message.type) {
      case 'alloc':
      case 'free':
      case 'read':
      case 'write':
      case 'readv':
      case 'writev':
      case 'ping':
      case 'stats':
      case 'rpc':
        return this.serve(requestId, message);
      case 'error':
        if (requestId === 0) return this.finish({ state: 'lost', status: 'peer-lost', reason: `peer closed the connection: ${message.reason}` });
        return this.onReply(requestId, message);
      case 'hello':
      case 'auth-challenge':
      case 'auth-response':
      case 'auth-ok':
        return this.violate(new ProtocolError('unexpected-message', `${message.type} after authentication`));
      default:
        return this.onReply(requestId, message);
    }
  };

  private onHandshakeFrame(message: WireMessage): void {
    let step: AuthStep;
    if (message.type === 'hello' || message.type === 'auth-challenge') this.claimedName = message.nodeName;
    if (message.type === 'error') {
      const who = this.claimedName === null ? 'peer' : `peer "${this.claimedName}" (unauthenticated)`;
      this.finish({ state: 'refused', status: 'rejected', reason: `${who} refused the handshake: ${message.reason}` });
      return;
    }
    if (this.client !== null && message.type === 'auth-challenge') step = this.client.onChallenge(message);
    else if (this.client !== null && message.type === 'auth-ok') step = this.client.onAuthOk();
    else if (this.server !== null && message.type === 'hello') step = this.server.onHello(message);
    else if (this.server !== null && message.type === 'auth-response') step = this.server.onResponse(message);
    else {
      this.sendError(0, 'not-authenticated', `${message.type} before authentication`);
      this.finish({ state: 'refused', status: 'rejected', reason: `peer sent ${message.type} before authentication` });
      return;
    }
    if (!step.ok) {
      this.sendError(0, 'auth-failed', step.error.message);
      this.finish({ state: 'refused', status: 'rejected', reason: step.error.message });
      return;
    }
    if (step.reply !== null) this.sendMessage(0, step.reply);
    const handshake = this.client ?? this.server;
    if (handshake !== null && handshake.done) {
      this.peer = handshake.peerName;
      this.state = 'up';
      this.decoder.setPayloadCap(this.config.limits.maxPayloadBytes);
      this.lastHeardNs = this.config.clock.nowNs();
      this.hooks.up(this);
    }
  }

  private onReply(requestId: number, message: WireMessage): void {
    const pending = this.pending.get(requestId);
    if (pending === undefined) {
      this.counters.lateReplies++; // the request timed out earlier; its answer is dropped
      return;
    }
    this.pending.delete(requestId);
    if (message.type === 'error') {
      pending.onFail(statusOfWireError(message.code), message.reason);
      return;
    }
    if (message.type !== pending.expect) {
      pending.onFail('error', `peer answered ${message.type} to a request expecting ${pending.expect}`);
      return this.violate(new ProtocolError('unexpected-reply', `${message.type} answers a request expecting ${pending.expect}`));
    }
    if (pending.onReply === null) {
      // An ack, or a read: copy the data into the caller's buffer (once, from the received bytes).
      const into = pending.into;
      if (into !== null) {
        if (message.type !== 'read-reply' || message.data.length !== into.length) {
          const problem = `read-reply of the wrong length for a ${into.length}-byte read`;
          pending.onFail('error', problem);
          return this.violate(new ProtocolError('unexpected-reply', problem));
        }
        if (message.data !== into) into.set(message.data);
      }
      (pending.done as StatusDone)('ok', null);
      return;
    }
    const problem = pending.onReply(message);
    if (problem !== null) {
      pending.onFail('error', problem);
      this.violate(new ProtocolError('unexpected-reply', problem));
    }
  }

  private serve(requestId: number, message: WireMessage): void {
    this.counters.requestsServed++;
    const owner = this.peer ?? '';
    const donor = this.config.donor;
    if (message.type === 'ping') return this.sendMessage(requestId, { type: 'pong', token: message.token });
    if (message.type === 'rpc') return this.serveRpc(requestId, message.method, message.payload);
    if (donor === null) return this.sendError(requestId, 'bad-request', 'this node does not donate memory');
    switch (message.type) {
      case 'alloc': {
        const slab = donor.alloc(owner, message.sizeBytes);
        if (slab instanceof DonorError) return this.sendError(requestId, slab.code, slab.message);
        return this.sendMessage(requestId, { type: 'alloc-reply', slabId: slab.slabId, sizeBytes: slab.sizeBytes, rkey: slab.rkey, remoteAddress: slab.remoteAddress });
      }
      case 'free':
        return this.answer(requestId, donor.free(owner, message.slabId), { type: 'free-ack' });
      case 'read': {
        const data = donor.read(owner, message.slabId, message.offsetBytes, message.lengthBytes);
        if (data instanceof DonorError) return this.sendError(requestId, data.code, data.message);
        return this.sendMessage(requestId, { type: 'read-reply', data });
      }
      case 'write':
        return this.answer(requestId, donor.write(owner, message.slabId, message.offsetBytes, message.data), { type: 'write-ack' });
      case 'readv': {
        const chunks = donor.readv(owner, message.entries);
        if (chunks instanceof DonorError) return this.sendError(requestId, chunks.code, chunks.message);
        return this.sendMessage(requestId, { type: 'readv-reply', chunks });
      }
      case 'writev':
        return this.answer(requestId, donor.writev(owner, message.entries), { type: 'writev-ack' });
      case 'stats': {
        const s = donor.stats(owner);
        return this.sendMessage(requestId, { type: 'stats-reply', ...s });
      }
    }
  }

  private answer(requestId: number, refusal: DonorError | null, ack: WireMessage): void {
    if (refusal !== null) this.sendError(requestId, refusal.code, refusal.message);
    else this.sendMessage(requestId, ack);
  }

  private serveRpc(requestId: number, method: number, payload: Uint8Array): void {
    const handler = this.config.handlers.get(method);
    if (handler === undefined) return this.sendError(requestId, 'unknown-method', `no handler for RPC method ${method}`);
    if (this.serving >= this.config.maxServing) return this.sendError(requestId, 'busy', `${this.serving} RPCs being served (the bound); retry later`);
    this.serving++;
    let answered = false;
    const respond = (status: FabricStatus, reply?: Uint8Array): void => {
      if (answered) return;
      answered = true;
      this.serving--;
      if (this.state !== 'up') return;
      if (status === 'ok') {
        const body = reply ?? new Uint8Array(0);
        if (body.length > this.config.limits.maxPayloadBytes) return this.sendError(requestId, 'handler-failed', `reply of ${body.length} bytes exceeds the frame limit`);
        this.sendMessage(requestId, { type: 'rpc-reply', payload: body });
      } else {
        this.sendErrorCode(requestId, wireErrorOfStatus(status), `RPC method ${method} answered ${status}`);
      }
    };
    try {
      handler(this.peerId ?? 0, payload.slice(), respond);
    } catch (error) {
      respond('error');
      void error;
    }
  }

  // ---- output and ending ----------------------------------------------------------------------

  private sendMessage(requestId: number, message: WireMessage): void {
    if (this.state === 'closed') return;
    this.counters.framesOut++;
    this.output(requestId, message);
  }

  private sendError(requestId: number, name: WireErrorName, reason: string): void {
    this.sendErrorCode(requestId, WireErrorCode[name], reason);
  }

  private sendErrorCode(requestId: number, code: number, reason: string): void {
    this.sendMessage(requestId, { type: 'error', code, reason: truncateUtf8(reason, this.config.limits.maxReasonBytes) });
  }

  private violate(error: ProtocolError): void {
    this.sendError(0, 'protocol', error.message);
    this.finish({ state: 'lost', status: 'error', reason: error.message });
  }

  private finish(end: SessionEnd): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.decoder.dispose();
    const failed = [...this.pending.values()];
    this.pending.clear();
    if (failed.length > 0) {
      const reason = `connection ended: ${end.reason}`;
      this.config.scheduler.defer(() => {
        for (const pending of failed) pending.onFail('peer-lost', reason);
      });
    }
    this.hooks.ended(this, end);
  }
}

/** Cuts `text` so its UTF-8 form fits `maxBytes` (on a character boundary). */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (utf8Bytes(text).length <= maxBytes) return text;
  let out = '';
  let bytes = 0;
  for (const char of text) {
    const size = utf8Bytes(char).length;
    if (bytes + size > maxBytes) break;
    out += char;
    bytes += size;
  }
  return out;
}
