/** Little-endian integer helpers on Uint8Array (no DataView allocation per call). */

const TWO_POW_32 = 0x1_0000_0000;
/** Largest high word of a u64 that still gives a safe JS integer (2^53 - 1). */
export const MAX_SAFE_HIGH_WORD = 0x1fffff;

export function writeU16(buf: Uint8Array, at: number, value: number): void {
  buf[at] = value & 0xff;
  buf[at + 1] = (value >>> 8) & 0xff;
}

export function writeU32(buf: Uint8Array, at: number, value: number): void {
  buf[at] = value & 0xff;
  buf[at + 1] = (value >>> 8) & 0xff;
  buf[at + 2] = (value >>> 16) & 0xff;
  buf[at + 3] = (value >>> 24) & 0xff;
}

/** Writes a safe non-negative integer as a little-endian u64. */
export function writeU64(buf: Uint8Array, at: number, value: number): void {
  writeU32(buf, at, value % TWO_POW_32);
  writeU32(buf, at + 4, Math.floor(value / TWO_POW_32));
}

export function readU16(buf: Uint8Array, at: number): number {
  return buf[at] | (buf[at + 1] << 8);
}

export function readU32(buf: Uint8Array, at: number): number {
  return (buf[at] | (buf[at + 1] << 8) | (buf[at + 2] << 16) | (buf[at + 3] << 24)) >>> 0;
}

/** Reads a little-endian u64; returns -1 when it does not fit a safe integer. */
export function readU64(buf: Uint8Array, at: number): number {
  const high = readU32(buf, at + 4);
  if (high > MAX_SAFE_HIGH_WORD) return -1;
  return high * TWO_POW_32 + readU32(buf, at);
}

const encoder = new TextEncoder();
const fatalDecoder = new TextDecoder('utf-8', { fatal: true });

/** UTF-8 bytes of a string. */
export function utf8Bytes(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Decodes strict UTF-8; returns null on invalid bytes. */
export function utf8Text(bytes: Uint8Array): string | null {
  try {
    return fatalDecoder.decode(bytes);
  } catch {
    return null;
  }
}
