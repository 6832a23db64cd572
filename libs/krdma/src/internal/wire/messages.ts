/** Wire format constants and message shapes. See the protocol table in the README. */

/** Frame header length in bytes. */
export const HEADER_BYTES = 16;
/** First two bytes of every frame: ASCII "KR". */
export const MAGIC0 = 0x4b;
export const MAGIC1 = 0x52;
/** Protocol version written and accepted. */
export const PROTOCOL_VERSION = 1;
/** Length of authentication nonces in bytes. */
export const NONCE_BYTES = 32;
/** Length of an HMAC-SHA256 proof in bytes. */
export const PROOF_BYTES = 32;
/** Length of a ping token in bytes. */
export const PING_TOKEN_BYTES = 8;

/** Message type codes (header byte 3). */
export const MessageType = Object.freeze({
  hello: 0x01,
  'auth-challenge': 0x02,
  'auth-response': 0x03,
  'auth-ok': 0x04,
  alloc: 0x10,
  'alloc-reply': 0x11,
  free: 0x12,
  'free-ack': 0x13,
  read: 0x14,
  'read-reply': 0x15,
  write: 0x16,
  'write-ack': 0x17,
  readv: 0x18,
  'readv-reply': 0x19,
  writev: 0x1a,
  'writev-ack': 0x1b,
  ping: 0x20,
  pong: 0x21,
  stats: 0x22,
  'stats-reply': 0x23,
  rpc: 0x30,
  'rpc-reply': 0x31,
  error: 0x3f,
} as const);

/** Name of a message type. */
export type MessageTypeName = keyof typeof MessageType;

const namesByCode: (MessageTypeName | undefined)[] = [];
for (const [name, code] of Object.entries(MessageType)) namesByCode[code] = name as MessageTypeName;

/** The message type name for a code, or undefined for an unknown code. */
export function messageTypeName(code: number): MessageTypeName | undefined {
  return namesByCode[code];
}

/** One entry of a vectored read request: `lengthBytes` at `offsetBytes` of slab `slabId`. */
export interface ReadVectorEntry {
  readonly slabId: number;
  readonly offsetBytes: number;
  readonly lengthBytes: number;
}

/** One entry of a vectored write: `data` goes to `offsetBytes` of slab `slabId`. */
export interface WriteVectorEntry {
  readonly slabId: number;
  readonly offsetBytes: number;
  readonly data: Uint8Array;
}

/** Wire error codes carried by `error` messages. */
export const WireErrorCode = Object.freeze({
  /** Malformed or out-of-bounds request (offset/length outside the slab, zero size, ...). */
  'bad-request': 1,
  /** The slab exists but belongs to another peer, or the peer may not do this. */
  'not-owner': 2,
  /** The donor has no capacity left for this allocation. */
  'no-space': 3,
  /** No such slab (never allocated or already freed). */
  'unknown-slab': 4,
  /** No RPC handler is registered for the method. */
  'unknown-method': 5,
  /** Authentication failed (wrong cluster secret, or refused). */
  'auth-failed': 6,
  /** The frame broke the protocol; the connection is closed after this. */
  protocol: 7,
  /** An RPC handler failed or refused. */
  'handler-failed': 8,
  /** A request arrived before authentication finished. */
  'not-authenticated': 9,
  /** The responder is over its in-flight bound; retry later. */
  busy: 10,
  /** Anything else. */
  internal: 11,
} as const);

/** Name of a wire error code. */
export type WireErrorName = keyof typeof WireErrorCode;

const errorNamesByCode: (WireErrorName | undefined)[] = [];
for (const [name, code] of Object.entries(WireErrorCode)) errorNamesByCode[code] = name as WireErrorName;

/** The wire error name for a code; unknown codes read as `internal`. */
export function wireErrorName(code: number): WireErrorName {
  return errorNamesByCode[code] ?? 'internal';
}

/** Every message of protocol version 1 (a discriminated union on `type`). */
export type WireMessage =
  | { readonly type: 'hello'; readonly nodeHash: number; readonly nonce: Uint8Array; readonly nodeName: string }
  | {
      readonly type: 'auth-challenge';
      readonly nodeHash: number;
      readonly nonce: Uint8Array;
      readonly proof: Uint8Array;
      readonly nodeName: string;
    }
  | { readonly type: 'auth-response'; readonly proof: Uint8Array }
  | { readonly type: 'auth-ok' }
  | { readonly type: 'alloc'; readonly sizeBytes: number }
  | {
      readonly type: 'alloc-reply';
      readonly slabId: number;
      readonly sizeBytes: number;
      readonly rkey: number;
      readonly remoteAddress: number;
    }
  | { readonly type: 'free'; readonly slabId: number }
  | { readonly type: 'free-ack' }
  | { readonly type: 'read'; readonly slabId: number; readonly offsetBytes: number; readonly lengthBytes: number }
  | { readonly type: 'read-reply'; readonly data: Uint8Array }
  | { readonly type: 'write'; readonly slabId: number; readonly offsetBytes: number; readonly data: Uint8Array }
  | { readonly type: 'write-ack' }
  | { readonly type: 'readv'; readonly entries: readonly ReadVectorEntry[] }
  | { readonly type: 'readv-reply'; readonly chunks: readonly Uint8Array[] }
  | { readonly type: 'writev'; readonly entries: readonly WriteVectorEntry[] }
  | { readonly type: 'writev-ack' }
  | { readonly type: 'ping'; readonly token: Uint8Array }
  | { readonly type: 'pong'; readonly token: Uint8Array }
  | { readonly type: 'stats' }
  | {
      readonly type: 'stats-reply';
      readonly capacityBytes: number;
      readonly usedBytes: number;
      readonly slabCount: number;
      readonly peerUsedBytes: number;
    }
  | { readonly type: 'rpc'; readonly method: number; readonly payload: Uint8Array }
  | { readonly type: 'rpc-reply'; readonly payload: Uint8Array }
  | { readonly type: 'error'; readonly code: number; readonly reason: string };

/** The message of a given type name. */
export type MessageOf<T extends MessageTypeName> = Extract<WireMessage, { type: T }>;
