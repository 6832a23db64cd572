/**
 * 64-bit fields of ioctl argument buffers, written and read as Numbers (two 32-bit halves).
 * Addresses, lengths and results all fit in 2^53, so no BigInt is allocated on the hot path.
 * Plain byte stores and loads: Buffer.writeUInt32LE and friends validate their arguments on every
 * call, which showed up as ~10% of the pager thread's user time on the fault path.
 */
export function putU64(buf: Uint8Array, offset: number, value: number): void {
  const lo = value >>> 0; // ToUint32 is the value modulo 2^32
  const hi = (value - lo) / 0x1_0000_0000;
  buf[offset] = lo;
  buf[offset + 1] = lo >>> 8;
  buf[offset + 2] = lo >>> 16;
  buf[offset + 3] = lo >>> 24;
  buf[offset + 4] = hi;
  buf[offset + 5] = hi >>> 8;
  buf[offset + 6] = hi >>> 16;
  buf[offset + 7] = hi >>> 24;
}

/** Reads an unsigned 32-bit little-endian field. */
export function getU32(buf: Uint8Array, offset: number): number {
  return (buf[offset] | (buf[offset + 1] << 8) | (buf[offset + 2] << 16)) + buf[offset + 3] * 0x100_0000;
}

/** Reads an unsigned 64-bit field that is known to be below 2^53. */
export function getU64(buf: Uint8Array, offset: number): number {
  return getU32(buf, offset) + getU32(buf, offset + 4) * 0x1_0000_0000;
}

/** Reads a signed 64-bit field whose magnitude is below 2^53 (ioctl results: bytes or -errno). */
export function getS64(buf: Uint8Array, offset: number): number {
  const hi = buf[offset + 4] | (buf[offset + 5] << 8) | (buf[offset + 6] << 16) | (buf[offset + 7] << 24); // signed
  return getU32(buf, offset) + hi * 0x1_0000_0000;
}
