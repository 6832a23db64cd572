import { KrdmaError } from '../errors.js';

/**
 * Limits the decoder checks every frame against before it allocates anything. A frame that
 * breaks one is refused with a typed {@link ProtocolError}.
 */
export interface WireLimits {
  /** Largest payload (bytes after the 16-byte header) of any frame. */
  readonly maxPayloadBytes: number;
  /** Most entries in one vectored read or write. */
  readonly maxVectorEntries: number;
  /** Longest node name in UTF-8 bytes (at most 255, the field is one byte). */
  readonly maxNameBytes: number;
  /** Longest error reason in UTF-8 bytes (at most 255). */
  readonly maxReasonBytes: number;
  /** Most bytes one read, write or vectored request may move (its reply must fit a frame). */
  readonly maxIoBytes: number;
}

/** Default limits: 4 MiB + 64 KiB payloads, 1024 vector entries, 4 MiB per I/O request. */
export const DEFAULT_WIRE_LIMITS: WireLimits = Object.freeze({
  maxPayloadBytes: 4 * 1024 * 1024 + 64 * 1024,
  maxVectorEntries: 1024,
  maxNameBytes: 64,
  maxReasonBytes: 255,
  maxIoBytes: 4 * 1024 * 1024,
});

/** Fills missing fields with defaults and checks the limits are consistent; throws KrdmaError `invalid-limits`. */
export function resolveWireLimits(partial: Partial<WireLimits> = {}): WireLimits {
  const limits: WireLimits = { ...DEFAULT_WIRE_LIMITS, ...partial };
  const fail = (what: string): never => {
    throw new KrdmaError('invalid-limits', `wire limits: ${what}; fix the limits passed to krdma`);
  };
  for (const [key, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 0) fail(`${key} must be a non-negative integer, got ${value}`);
  }
  if (limits.maxPayloadBytes > 0xffffffff) fail('maxPayloadBytes must fit 32 bits');
  if (limits.maxNameBytes > 255 || limits.maxNameBytes < 1) fail('maxNameBytes must be in [1, 255]');
  if (limits.maxReasonBytes > 255) fail('maxReasonBytes must be at most 255');
  if (limits.maxVectorEntries < 1) fail('maxVectorEntries must be at least 1');
  // A full read-reply and a full vectored reply/write must fit one frame.
  const vectorOverhead = 4 + 16 * limits.maxVectorEntries;
  if (limits.maxIoBytes + vectorOverhead > limits.maxPayloadBytes) {
    fail(`maxPayloadBytes (${limits.maxPayloadBytes}) must hold maxIoBytes + 4 + 16 * maxVectorEntries (${limits.maxIoBytes + vectorOverhead})`);
  }
  return Object.freeze(limits);
}
