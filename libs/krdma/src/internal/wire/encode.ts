import { KrdmaError } from '../errors.js';
import {
  HEADER_BYTES,
  MAGIC0,
  MAGIC1,
  MessageType,
  NONCE_BYTES,
  PING_TOKEN_BYTES,
  PROOF_BYTES,
  PROTOCOL_VERSION,
  type WireMessage,
} from './messages.js';
import { utf8Bytes, writeU16, writeU32, writeU64 } from './bytes.js';

function invalid(what: string): never {
  throw new KrdmaError('encode-invalid', `cannot encode frame: ${what}; fix the caller's arguments`);
}

function checkU32(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) invalid(`${name} must be a u32, got ${value}`);
}

function checkU64(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) invalid(`${name} must be a safe non-negative integer, got ${value}`);
}

function checkFixed(name: string, bytes: Uint8Array, length: number): void {
  if (bytes.length !== length) invalid(`${name} must be ${length} bytes, got ${bytes.length}`);
}

function shortText(name: string, text: string): Uint8Array {
  const bytes = utf8Bytes(text);
  if (bytes.length > 255) invalid(`${name} is ${bytes.length} UTF-8 bytes, at most 255 fit`);
  return bytes;
}

/**
 * Payload length in bytes of a message (without the 16-byte header). Also validates the message
 * fields; throws KrdmaError `encode-invalid` on a field that cannot be encoded.
 */
export function payloadByteLength(message: WireMessage): number {
  switch (message.type) {
    case 'hello':
      checkU32('nodeHash', message.nodeHash);
      checkFixed('nonce', message.nonce, NONCE_BYTES);
      return 4 + NONCE_BYTES + 1 + shortText('nodeName', message.nodeName).length;
    case 'auth-challenge':
      checkU32('nodeHash', message.nodeHash);
      checkFixed('nonce', message.nonce, NONCE_BYTES);
      checkFixed('proof', message.proof, PROOF_BYTES);
      return 4 + NONCE_BYTES + PROOF_BYTES + 1 + shortText('nodeName', message.nodeName).length;
    case 'auth-response':
      checkFixed('proof', message.proof, PROOF_BYTES);
      return PROOF_BYTES;
    case 'auth-ok':
    case 'free-ack':
    case 'write-ack':
    case 'writev-ack':
    case 'stats':
      return 0;
    case 'alloc':
      checkU64('sizeBytes', message.sizeBytes);
      return 8;
    case 'alloc-reply':
      checkU32('slabId', message.slabId);
      checkU64('sizeBytes', message.sizeBytes);
      checkU32('rkey', message.rkey);
      checkU64('remoteAddress', message.remoteAddress);
      return 24;
    case 'free':
      checkU32('slabId', message.slabId);
      return 4;
    case 'read':
      checkU32('slabId', message.slabId);
      checkU64('offsetBytes', message.offsetBytes);
      checkU32('lengthBytes', message.lengthBytes);
      return 16;
    case 'read-reply':
      return message.data.length;
    case 'write':
      checkU32('slabId', message.slabId);
      checkU64('offsetBytes', message.offsetBytes);
      return 12 + message.data.length;
    case 'readv':
      for (const entry of message.entries) {
        checkU32('slabId', entry.slabId);
        checkU64('offsetBytes', entry.offsetBytes);
        checkU32('lengthBytes', entry.lengthBytes);
      }
      return 4 + 16 * message.entries.length;
    case 'readv-reply': {
      let total = 4 + 4 * message.chunks.length;
      for (const chunk of message.chunks) total += chunk.length;
      return total;
    }
    case 'writev': {
      let total = 4 + 16 * message.entries.length;
      for (const entry of message.entries) {
        checkU32('slabId', entry.slabId);
        checkU64('offsetBytes', entry.offsetBytes);
        total += entry.data.length;
      }
      return total;
    }
    case 'ping':
    case 'pong':
      checkFixed('token', message.token, PING_TOKEN_BYTES);
      return PING_TOKEN_BYTES;
    case 'stats-reply':
      checkU64('capacityBytes', message.capacityBytes);
      checkU64('usedBytes', message.usedBytes);
      checkU32('slabCount', message.slabCount);
      checkU64('peerUsedBytes', message.peerUsedBytes);
      return 28;
    case 'rpc':
      checkU32('method', message.method);
      return 4 + message.payload.length;
    case 'rpc-reply':
      return message.payload.length;
    case 'error':
      if (!Number.isInteger(message.code) || message.code < 0 || message.code > 0xffff) invalid(`error code must be a u16`);
      return 3 + shortText('reason', message.reason).length;
  }
}

/** Total frame length in bytes (header plus payload). */
export function frameByteLength(message: WireMessage): number {
  return HEADER_BYTES + payloadByteLength(message);
}

/** Writes the 16-byte header at `at`. */
export function writeHeader(into: Uint8Array, at: number, typeCode: number, requestId: number, payloadBytes: number): void {
  into[at] = MAGIC0;
  into[at + 1] = MAGIC1;
  into[at + 2] = PROTOCOL_VERSION;
  into[at + 3] = typeCode;
  writeU16(into, at + 4, 0); // flags: none defined in version 1
  writeU16(into, at + 6, 0); // reserved
  writeU32(into, at + 8, requestId);
  writeU32(into, at + 12, payloadBytes);
}

/**
 * Encodes one frame into `into` at `offsetBytes` (a caller-provided buffer) and returns the
 * number of bytes written. Throws KrdmaError `encode-invalid` on an unencodable field and
 * `buffer-too-small` when `into` cannot hold the frame (check with {@link frameByteLength}).
 */
export function encodeFrame(requestId: number, message: WireMessage, into: Uint8Array, offsetBytes = 0): number {
  checkU32('requestId', requestId);
  const payloadBytes = payloadByteLength(message);
  const total = HEADER_BYTES + payloadBytes;
  if (offsetBytes < 0 || offsetBytes + total > into.length) {
    throw new KrdmaError('buffer-too-small', `frame of ${total} bytes does not fit at offset ${offsetBytes} of a ${into.length}-byte buffer; size it with frameByteLength`);
  }
  return encodeCheckedFrame(requestId, message, payloadBytes, into, offsetBytes);
}

/**
 * Writes a frame whose fields were already checked by {@link payloadByteLength} (which returned
 * `payloadBytes`) into `into` at `offsetBytes`, which the caller sized; returns the bytes written.
 * For transports that size their output buffers first.
 */
export function encodeCheckedFrame(requestId: number, message: WireMessage, payloadBytes: number, into: Uint8Array, offsetBytes: number): number {
  const total = HEADER_BYTES + payloadBytes;
  writeHeader(into, offsetBytes, MessageType[message.type], requestId, payloadBytes);
  let at = offsetBytes + HEADER_BYTES;
  switch (message.type) {
    case 'hello': {
      writeU32(into, at, message.nodeHash);
      into.set(message.nonce, at + 4);
      const name = utf8Bytes(message.nodeName);
      into[at + 4 + NONCE_BYTES] = name.length;
      into.set(name, at + 5 + NONCE_BYTES);
      break;
    }
    case 'auth-challenge': {
      writeU32(into, at, message.nodeHash);
      into.set(message.nonce, at + 4);
      into.set(message.proof, at + 4 + NONCE_BYTES);
      const name = utf8Bytes(message.nodeName);
      into[at + 4 + NONCE_BYTES + PROOF_BYTES] = name.length;
      into.set(name, at + 5 + NONCE_BYTES + PROOF_BYTES);
      break;
    }
    case 'auth-response':
      into.set(message.proof, at);
      break;
    case 'auth-ok':
    case 'free-ack':
    case 'write-ack':
    case 'writev-ack':
    case 'stats':
      break;
    case 'alloc':
      writeU64(into, at, message.sizeBytes);
      break;
    case 'alloc-reply':
      writeU32(into, at, message.slabId);
      writeU64(into, at + 4, message.sizeBytes);
      writeU32(into, at + 12, message.rkey);
      writeU64(into, at + 16, message.remoteAddress);
      break;
    case 'free':
      writeU32(into, at, message.slabId);
      break;
    case 'read':
      writeU32(into, at, message.slabId);
      writeU64(into, at + 4, message.offsetBytes);
      writeU32(into, at + 12, message.lengthBytes);
      break;
    case 'read-reply':
      into.set(message.data, at);
      break;
    case 'write':
      writeU32(into, at, message.slabId);
      writeU64(into, at + 4, message.offsetBytes);
      into.set(message.data, at + 12);
      break;
    case 'readv':
      writeU32(into, at, message.entries.length);
      at += 4;
      for (const entry of message.entries) {
        writeU32(into, at, entry.slabId);
        writeU64(into, at + 4, entry.offsetBytes);
        writeU32(into, at + 12, entry.lengthBytes);
        at += 16;
      }
      break;
    case 'readv-reply':
      writeU32(into, at, message.chunks.length);
      at += 4;
      for (const chunk of message.chunks) {
        writeU32(into, at, chunk.length);
        at += 4;
      }
      for (const chunk of message.chunks) {
        into.set(chunk, at);
        at += chunk.length;
      }
      break;
    case 'writev':
      writeU32(into, at, message.entries.length);
      at += 4;
      for (const entry of message.entries) {
        writeU32(into, at, entry.slabId);
        writeU64(into, at + 4, entry.offsetBytes);
        writeU32(into, at + 12, entry.data.length);
        at += 16;
      }
      for (const entry of message.entries) {
        into.set(entry.data, at);
        at += entry.data.length;
      }
      break;
    case 'ping':
    case 'pong':
      into.set(message.token, at);
      break;
    case 'stats-reply':
      writeU64(into, at, message.capacityBytes);
      writeU64(into, at + 8, message.usedBytes);
      writeU32(into, at + 16, message.slabCount);
      writeU64(into, at + 20, message.peerUsedBytes);
      break;
    case 'rpc':
      writeU32(into, at, message.method);
      into.set(message.payload, at + 4);
      break;
    case 'rpc-reply':
      into.set(message.payload, at);
      break;
    case 'error': {
      writeU16(into, at, message.code);
      const reason = utf8Bytes(message.reason);
      into[at + 2] = reason.length;
      into.set(reason, at + 3);
      break;
    }
  }
  return total;
}

/** Encodes one frame into a new buffer of exactly its length. */
export function encodeFrameBytes(requestId: number, message: WireMessage): Uint8Array {
  const into = new Uint8Array(frameByteLength(message));
  encodeFrame(requestId, message, into, 0);
  return into;
}
