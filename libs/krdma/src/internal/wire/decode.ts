import { ProtocolError } from '../errors.js';
import { readU16, readU32, readU64, utf8Text } from './bytes.js';
import {
  HEADER_BYTES,
  MAGIC0,
  MAGIC1,
  NONCE_BYTES,
  PING_TOKEN_BYTES,
  PROOF_BYTES,
  PROTOCOL_VERSION,
  messageTypeName,
  type MessageTypeName,
  type ReadVectorEntry,
  type WireMessage,
  type WriteVectorEntry,
} from './messages.js';
import { resolveWireLimits, type WireLimits } from './limits.js';
import type { ReceiveBudget } from './receive-budget.js';

/** Receives each whole frame the decoder assembles. Byte fields of `message` are views (see {@link FrameDecoder}). */
export type FrameSink = (requestId: number, message: WireMessage) => void;

/** Options of a {@link FrameDecoder}. */
export interface FrameDecoderOptions {
  /** Limits checked before any allocation (defaults: {@link DEFAULT_WIRE_LIMITS}). */
  readonly limits?: Partial<WireLimits>;
  /** Allocator for payloads that arrive split across chunks (default `new Uint8Array`); a hook for pools and tests. */
  readonly allocate?: (sizeBytes: number) => Uint8Array;
  /**
   * Shared bound on the bytes held for partial frames (across connections). A frame that needs
   * more than the budget has left is refused with `receive-budget`. Default: unbounded (per
   * decoder still at most `maxPayloadBytes`).
   */
  readonly budget?: ReceiveBudget | null;
}

const STAGE_HEADER = 0;
const STAGE_PAYLOAD = 1;
const STAGE_FAILED = 2;
/** First buffer size for a payload that arrives in pieces. */
const INITIAL_PARTIAL_BYTES = 64 * 1024;

/** Inclusive [min, max] payload bytes of each message type under the given limits. */
function payloadBounds(type: MessageTypeName, limits: WireLimits): readonly [number, number] {
  const vectorHead = 4 + 16 * limits.maxVectorEntries;
  switch (type) {
    case 'hello':
      return [4 + NONCE_BYTES + 2, 4 + NONCE_BYTES + 1 + limits.maxNameBytes];
    case 'auth-challenge':
      return [4 + NONCE_BYTES + PROOF_BYTES + 2, 4 + NONCE_BYTES + PROOF_BYTES + 1 + limits.maxNameBytes];
    case 'auth-response':
      return [PROOF_BYTES, PROOF_BYTES];
    case 'auth-ok':
    case 'free-ack':
    case 'write-ack':
    case 'writev-ack':
    case 'stats':
      return [0, 0];
    case 'alloc':
      return [8, 8];
    case 'alloc-reply':
      return [24, 24];
    case 'free':
      return [4, 4];
    case 'read':
      return [16, 16];
    case 'read-reply':
      return [0, limits.maxIoBytes];
    case 'write':
      return [12, 12 + limits.maxIoBytes];
    case 'readv':
      return [4 + 16, vectorHead];
    case 'readv-reply':
      return [4 + 4, 4 + 4 * limits.maxVectorEntries + limits.maxIoBytes];
    case 'writev':
      return [4 + 16, vectorHead + limits.maxIoBytes];
    case 'ping':
    case 'pong':
      return [PING_TOKEN_BYTES, PING_TOKEN_BYTES];
    case 'stats-reply':
      return [28, 28];
    case 'rpc':
      return [4, limits.maxPayloadBytes];
    case 'rpc-reply':
      return [0, limits.maxPayloadBytes];
    case 'error':
      return [3, 3 + limits.maxReasonBytes];
  }
}

/**
 * Streaming frame decoder: feed it arbitrary chunks of a byte stream, it hands each whole frame
 * to the sink. Every header field and length is checked against the limits before anything is
 * allocated; a violation returns a typed {@link ProtocolError} (and the decoder stays failed:
 * the transport must close the connection). It never throws on any input and never allocates
 * more than `maxPayloadBytes` for one frame; a payload arriving in pieces is buffered in a
 * buffer that grows with the bytes received (from 64 KiB), not with the length announced.
 *
 * Byte fields of decoded messages (`data`, `payload`, `chunks`, vector entry `data`) are views
 * into the fed chunk or into the frame's own buffer, with no copy; copy them if you keep them
 * after the sink returns and the transport reuses its chunk buffers. Nonces, proofs and ping
 * tokens are copies.
 */
export class FrameDecoder {
  /** The limits in force. */
  readonly limits: WireLimits;
  private readonly allocate: (sizeBytes: number) => Uint8Array;
  private readonly header = new Uint8Array(HEADER_BYTES);
  private stage = STAGE_HEADER;
  private headerFill = 0;
  private type: MessageTypeName = 'ping';
  private requestId = 0;
  private payloadBytes = 0;
  private payload: Uint8Array | null = null;
  private payloadFill = 0;
  private failure: ProtocolError | null = null;
  private readonly budget: ReceiveBudget | null;
  /** Payload bounds by type code (computed once; -1 for unknown codes). */
  private readonly minPayload: Float64Array;
  private readonly maxPayload: Float64Array;
  /** Bytes of the partial-payload buffer charged to the budget. */
  private chargedBytes = 0;
  /** Largest payload accepted now (lowered before authentication, see `setPayloadCap`). */
  private payloadCapBytes: number;
  private payloadCapReason = '';
  /** Whole frames decoded so far. */
  framesDecoded = 0;
  /** Frames whose payload arrived split across chunks and was assembled in a buffer (one extra copy). */
  framesAssembled = 0;

  constructor(options: FrameDecoderOptions = {}) {
    this.limits = resolveWireLimits(options.limits);
    this.allocate = options.allocate ?? ((sizeBytes) => new Uint8Array(sizeBytes));
    this.budget = options.budget ?? null;
    this.payloadCapBytes = this.limits.maxPayloadBytes;
    this.minPayload = new Float64Array(256).fill(-1);
    this.maxPayload = new Float64Array(256).fill(-1);
    for (let code = 0; code < 256; code++) {
      const name = messageTypeName(code);
      if (name === undefined) continue;
      [this.minPayload[code], this.maxPayload[code]] = payloadBounds(name, this.limits);
    }
  }

  /**
   * Lowers (or restores, up to `maxPayloadBytes`) the largest payload accepted from now on; a
   * larger frame is refused from its header with `frame-too-large` and `reason` in the message.
   * Sessions cap frames before authentication to what the handshake needs.
   */
  setPayloadCap(maxBytes: number, reason = ''): void {
    this.payloadCapBytes = Math.min(maxBytes, this.limits.maxPayloadBytes);
    this.payloadCapReason = reason;
  }

  /** Drops any partial frame and gives its bytes back to the budget (the connection ended). */
  dispose(): void {
    this.payload = null;
    this.release();
    if (this.stage !== STAGE_FAILED) {
      this.stage = STAGE_FAILED;
      this.failure = new ProtocolError('decoder-failed', 'the decoder was disposed');
    }
  }

  /** True after a protocol error; the connection must be closed. */
  get failed(): boolean {
    return this.stage === STAGE_FAILED;
  }

  /** Bytes of a partial frame held (header bytes plus payload bytes received so far). */
  get bufferedBytes(): number {
    return this.stage === STAGE_PAYLOAD ? HEADER_BYTES + this.payloadFill : this.headerFill;
  }

  /**
   * Consumes a chunk; calls `sink` for each whole frame, in order. Returns null, or the
   * protocol error that stopped decoding (frames before it were delivered).
   */
  feed(chunk: Uint8Array, sink: FrameSink): ProtocolError | null {
    if (this.failure !== null) return new ProtocolError('decoder-failed', `stream already refused: ${this.failure.code}`);
    let pos = 0;
    const end = chunk.length;
    while (pos < end) {
      if (this.stage === STAGE_HEADER) {
        let headerSource: Uint8Array;
        let headerAt: number;
        if (this.headerFill === 0 && end - pos >= HEADER_BYTES) {
          headerSource = chunk;
          headerAt = pos;
          pos += HEADER_BYTES;
        } else {
          const take = Math.min(HEADER_BYTES - this.headerFill, end - pos);
          this.header.set(chunk.subarray(pos, pos + take), this.headerFill);
          this.headerFill += take;
          pos += take;
          if (this.headerFill < HEADER_BYTES) break;
          headerSource = this.header;
          headerAt = 0;
        }
        this.headerFill = 0;
        const headerError = this.acceptHeader(headerSource, headerAt);
        if (headerError !== null) return this.fail(headerError);
        if (this.payloadBytes === 0) {
          const error = this.finish(new Uint8Array(0), sink);
          if (error !== null) return this.fail(error);
          continue;
        }
        this.stage = STAGE_PAYLOAD;
        this.payload = null;
        this.payloadFill = 0;
      } else {
        if (this.payloadFill === 0 && end - pos >= this.payloadBytes) {
          const view = chunk.subarray(pos, pos + this.payloadBytes);
          pos += this.payloadBytes;
          this.stage = STAGE_HEADER;
          const error = this.finish(view, sink);
          if (error !== null) return this.fail(error);
          continue;
        }
        const take = Math.min(this.payloadBytes - this.payloadFill, end - pos);
        const budgetError = this.reserve(this.payloadFill + take);
        if (budgetError !== null) return this.fail(budgetError);
        (this.payload as Uint8Array).set(chunk.subarray(pos, pos + take), this.payloadFill);
        this.payloadFill += take;
        pos += take;
        if (this.payloadFill < this.payloadBytes) break;
        const whole = this.payload as Uint8Array;
        this.framesAssembled++;
        this.payload = null;
        this.payloadFill = 0;
        this.stage = STAGE_HEADER;
        const error = this.finish(whole, sink);
        this.release();
        if (error !== null) return this.fail(error);
      }
    }
    return null;
  }

  /**
   * Makes the partial-payload buffer hold at least `needed` bytes. It grows geometrically with
   * the bytes that actually arrived (from 64 KiB), never beyond the frame's checked length, so a
   * peer that announces a large frame and stalls pins little memory.
   */
  private reserve(needed: number): ProtocolError | null {
    const current = this.payload === null ? 0 : this.payload.length;
    if (needed <= current) return null;
    const size = Math.min(this.payloadBytes, Math.max(needed, INITIAL_PARTIAL_BYTES, current * 2));
    if (this.budget !== null) {
      if (!this.budget.take(size - this.chargedBytes)) {
        return new ProtocolError(
          'receive-budget',
          `a ${this.type} frame of ${this.payloadBytes} bytes needs ${size} bytes of receive buffer, but partial frames already hold ${this.budget.heldBytes} of the ${this.budget.limitBytes}-byte budget (peers stalled mid-frame?)`,
        );
      }
      this.chargedBytes = size;
    }
    const grown = this.allocate(size);
    if (this.payload !== null) grown.set(this.payload.subarray(0, this.payloadFill));
    this.payload = grown;
    return null;
  }

  private release(): void {
    if (this.budget !== null && this.chargedBytes > 0) this.budget.give(this.chargedBytes);
    this.chargedBytes = 0;
  }

  private fail(error: ProtocolError): ProtocolError {
    this.stage = STAGE_FAILED;
    this.failure = error;
    this.payload = null;
    this.release();
    return error;
  }

  private acceptHeader(h: Uint8Array, at: number): ProtocolError | null {
    if (h[at] !== MAGIC0 || h[at + 1] !== MAGIC1) {
      return new ProtocolError('bad-magic', `frame does not start with "KR" (got 0x${h[at].toString(16)} 0x${h[at + 1].toString(16)})`);
    }
    if (h[at + 2] !== PROTOCOL_VERSION) {
      return new ProtocolError('bad-version', `protocol version ${h[at + 2]} is not supported (this node speaks ${PROTOCOL_VERSION})`);
    }
    const type = messageTypeName(h[at + 3]);
    if (type === undefined) return new ProtocolError('unknown-type', `unknown message type 0x${h[at + 3].toString(16)}`);
    const flags = readU16(h, at + 4);
    const reserved = readU16(h, at + 6);
    if (flags !== 0 || reserved !== 0) {
      return new ProtocolError('bad-flags', `flags 0x${flags.toString(16)} / reserved 0x${reserved.toString(16)} must be zero in version 1`);
    }
    const payloadBytes = readU32(h, at + 12);
    if (payloadBytes > this.limits.maxPayloadBytes) {
      return new ProtocolError('frame-too-large', `${type} payload of ${payloadBytes} bytes exceeds the limit of ${this.limits.maxPayloadBytes}`);
    }
    if (payloadBytes > this.payloadCapBytes) {
      return new ProtocolError('frame-too-large', `${type} payload of ${payloadBytes} bytes exceeds the current limit of ${this.payloadCapBytes}${this.payloadCapReason}`);
    }
    const min = this.minPayload[h[at + 3]];
    const max = this.maxPayload[h[at + 3]];
    if (payloadBytes < min || payloadBytes > max) {
      return new ProtocolError('bad-length', `${type} payload of ${payloadBytes} bytes is outside [${min}, ${max}]`);
    }
    this.type = type;
    this.requestId = readU32(h, at + 8);
    this.payloadBytes = payloadBytes;
    return null;
  }

  private finish(payload: Uint8Array, sink: FrameSink): ProtocolError | null {
    const message = parsePayload(this.type, payload, this.limits);
    if (message instanceof ProtocolError) return message;
    this.framesDecoded++;
    sink(this.requestId, message);
    return null;
  }
}

function parseName(payload: Uint8Array, at: number, limits: WireLimits, type: string): string | ProtocolError {
  const length = payload[at];
  if (length === 0) return new ProtocolError('bad-length', `${type} node name is empty`);
  if (length > limits.maxNameBytes) return new ProtocolError('name-too-long', `${type} node name of ${length} bytes exceeds ${limits.maxNameBytes}`);
  if (at + 1 + length !== payload.length) return new ProtocolError('bad-length', `${type} name length ${length} does not match the payload`);
  const name = utf8Text(payload.subarray(at + 1, at + 1 + length));
  return name ?? new ProtocolError('bad-utf8', `${type} node name is not valid UTF-8`);
}

function u64Field(payload: Uint8Array, at: number, type: string, field: string): number | ProtocolError {
  const value = readU64(payload, at);
  return value < 0 ? new ProtocolError('field-range', `${type} ${field} exceeds 2^53 - 1`) : value;
}

/** Parses a payload whose length already passed {@link payloadBounds}. */
function parsePayload(type: MessageTypeName, p: Uint8Array, limits: WireLimits): WireMessage | ProtocolError {
  switch (type) {
    case 'hello': {
      const nodeName = parseName(p, 4 + NONCE_BYTES, limits, type);
      if (nodeName instanceof ProtocolError) return nodeName;
      return { type, nodeHash: readU32(p, 0), nonce: p.slice(4, 4 + NONCE_BYTES), nodeName };
    }
    case 'auth-challenge': {
      const nodeName = parseName(p, 4 + NONCE_BYTES + PROOF_BYTES, limits, type);
      if (nodeName instanceof ProtocolError) return nodeName;
      return {
        type,
        nodeHash: readU32(p, 0),
        nonce: p.slice(4, 4 + NONCE_BYTES),
        proof: p.slice(4 + NONCE_BYTES, 4 + NONCE_BYTES + PROOF_BYTES),
        nodeName,
      };
    }
    case 'auth-response':
      return { type, proof: p.slice(0, PROOF_BYTES) };
    case 'auth-ok':
    case 'free-ack':
    case 'write-ack':
    case 'writev-ack':
    case 'stats':
      return { type };
    case 'alloc': {
      const sizeBytes = u64Field(p, 0, type, 'sizeBytes');
      return sizeBytes instanceof ProtocolError ? sizeBytes : { type, sizeBytes };
    }
    case 'alloc-reply': {
      const sizeBytes = u64Field(p, 4, type, 'sizeBytes');
      if (sizeBytes instanceof ProtocolError) return sizeBytes;
      const remoteAddress = u64Field(p, 16, type, 'remoteAddress');
      if (remoteAddress instanceof ProtocolError) return remoteAddress;
      return { type, slabId: readU32(p, 0), sizeBytes, rkey: readU32(p, 12), remoteAddress };
    }
    case 'free':
      return { type, slabId: readU32(p, 0) };
    case 'read': {
      const offsetBytes = u64Field(p, 4, type, 'offsetBytes');
      if (offsetBytes instanceof ProtocolError) return offsetBytes;
      const lengthBytes = readU32(p, 12);
      if (lengthBytes > limits.maxIoBytes) return new ProtocolError('io-too-large', `read of ${lengthBytes} bytes exceeds ${limits.maxIoBytes}`);
      return { type, slabId: readU32(p, 0), offsetBytes, lengthBytes };
    }
    case 'read-reply':
      return { type, data: p };
    case 'write': {
      const offsetBytes = u64Field(p, 4, type, 'offsetBytes');
      if (offsetBytes instanceof ProtocolError) return offsetBytes;
      return { type, slabId: readU32(p, 0), offsetBytes, data: p.subarray(12) };
    }
    case 'readv': {
      const count = readU32(p, 0);
      if (count > limits.maxVectorEntries) return new ProtocolError('too-many-entries', `readv of ${count} entries exceeds ${limits.maxVectorEntries}`);
      if (count === 0 || p.length !== 4 + 16 * count) return new ProtocolError('bad-length', `readv of ${count} entries needs ${4 + 16 * count} bytes, got ${p.length}`);
      const entries: ReadVectorEntry[] = new Array(count);
      let totalBytes = 0;
      for (let i = 0, at = 4; i < count; i++, at += 16) {
        const offsetBytes = u64Field(p, at + 4, type, 'offsetBytes');
        if (offsetBytes instanceof ProtocolError) return offsetBytes;
        const lengthBytes = readU32(p, at + 12);
        totalBytes += lengthBytes;
        entries[i] = { slabId: readU32(p, at), offsetBytes, lengthBytes };
      }
      if (totalBytes > limits.maxIoBytes) return new ProtocolError('io-too-large', `readv of ${totalBytes} bytes exceeds ${limits.maxIoBytes}`);
      return { type, entries };
    }
    case 'readv-reply': {
      const count = readU32(p, 0);
      if (count > limits.maxVectorEntries) return new ProtocolError('too-many-entries', `readv-reply of ${count} chunks exceeds ${limits.maxVectorEntries}`);
      if (count === 0 || 4 + 4 * count > p.length) return new ProtocolError('bad-length', `readv-reply of ${count} chunks does not fit ${p.length} bytes`);
      let at = 4 + 4 * count;
      let totalBytes = 0;
      for (let i = 0; i < count; i++) totalBytes += readU32(p, 4 + 4 * i);
      if (at + totalBytes !== p.length) return new ProtocolError('bad-length', `readv-reply chunk lengths sum to ${totalBytes}, payload holds ${p.length - at}`);
      const chunks: Uint8Array[] = new Array(count);
      for (let i = 0; i < count; i++) {
        const length = readU32(p, 4 + 4 * i);
        chunks[i] = p.subarray(at, at + length);
        at += length;
      }
      return { type, chunks };
    }
    case 'writev': {
      const count = readU32(p, 0);
      if (count > limits.maxVectorEntries) return new ProtocolError('too-many-entries', `writev of ${count} entries exceeds ${limits.maxVectorEntries}`);
      const head = 4 + 16 * count;
      if (count === 0 || head > p.length) return new ProtocolError('bad-length', `writev of ${count} entries does not fit ${p.length} bytes`);
      let totalBytes = 0;
      for (let i = 0; i < count; i++) totalBytes += readU32(p, 4 + 16 * i + 12);
      if (totalBytes > limits.maxIoBytes) return new ProtocolError('io-too-large', `writev of ${totalBytes} bytes exceeds ${limits.maxIoBytes}`);
      if (head + totalBytes !== p.length) return new ProtocolError('bad-length', `writev lengths sum to ${totalBytes}, payload holds ${p.length - head}`);
      const entries: WriteVectorEntry[] = new Array(count);
      let dataAt = head;
      for (let i = 0, at = 4; i < count; i++, at += 16) {
        const offsetBytes = u64Field(p, at + 4, type, 'offsetBytes');
        if (offsetBytes instanceof ProtocolError) return offsetBytes;
        const lengthBytes = readU32(p, at + 12);
        entries[i] = { slabId: readU32(p, at), offsetBytes, data: p.subarray(dataAt, dataAt + lengthBytes) };
        dataAt += lengthBytes;
      }
      return { type, entries };
    }
    case 'ping':
    case 'pong':
      return { type, token: p.slice(0, PING_TOKEN_BYTES) };
    case 'stats-reply': {
      const capacityBytes = u64Field(p, 0, type, 'capacityBytes');
      if (capacityBytes instanceof ProtocolError) return capacityBytes;
      const usedBytes = u64Field(p, 8, type, 'usedBytes');
      if (usedBytes instanceof ProtocolError) return usedBytes;
      const peerUsedBytes = u64Field(p, 20, type, 'peerUsedBytes');
      if (peerUsedBytes instanceof ProtocolError) return peerUsedBytes;
      return { type, capacityBytes, usedBytes, slabCount: readU32(p, 16), peerUsedBytes };
    }
    case 'rpc':
      return { type, method: readU32(p, 0), payload: p.subarray(4) };
    case 'rpc-reply':
      return { type, payload: p };
    case 'error': {
      const length = p[2];
      if (3 + length !== p.length) return new ProtocolError('bad-length', `error reason length ${length} does not match the payload`);
      const reason = utf8Text(p.subarray(3));
      if (reason === null) return new ProtocolError('bad-utf8', 'error reason is not valid UTF-8');
      return { type, code: readU16(p, 0), reason };
    }
  }
}
