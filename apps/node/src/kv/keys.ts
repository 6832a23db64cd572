// The bench's keys and values: deterministic, so a loaded store can be checked.

/** The key of index `i`: `user` and 10 digits (14 bytes). */
export function benchKey(i: number): string {
  return `user${String(i).padStart(10, '0')}`;
}

/** A value of `bytes` bytes for key index `i` and version `version` (a fast xorshift fill). */
export function benchValue(i: number, bytes: number, version = 0): Uint8Array {
  const v = new Uint8Array(bytes);
  let x = (Math.imul(i + 1, 2654435761) ^ Math.imul(version + 1, 40503)) >>> 0 || 1;
  for (let j = 0; j < bytes; j++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    v[j] = x & 255;
  }
  return v;
}
