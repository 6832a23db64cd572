/**
 * 64-bit fields of ioctl argument buffers, written and read as Numbers (two 32-bit halves).
 * Addresses, lengths and results all fit in 2^53, so no BigInt is allocated on the hot path.
 */
export function putU64(buf: Buffer, offset: number, value: number): void {
  buf.writeUInt32LE(value % 0x1_0000_0000, offset);
  buf.writeUInt32LE(Math.floor(value / 0x1_0000_0000), offset + 4);
}

/** Reads an unsigned 64-bit field that is known to be below 2^53. */
export function getU64(buf: Buffer, offset: number): number {
  return buf.readUInt32LE(offset) + buf.readUInt32LE(offset + 4) * 0x1_0000_0000;
}

/** Reads a signed 64-bit field whose magnitude is below 2^53 (ioctl results: bytes or -errno). */
export function getS64(buf: Buffer, offset: number): number {
  return buf.readUInt32LE(offset) + buf.readInt32LE(offset + 4) * 0x1_0000_0000;
}
