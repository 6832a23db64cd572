/** Progress callback: fraction done in [0, 1]. */
export type Progress = (fraction: number) => void;

const PAGE = 4096;

/**
 * The original touch example (rack_vm_test.c): a 64-bit marker into the first word of every 4 KiB
 * page, then every page read back and checked. Returns the number of wrong pages.
 */
export function touch(buffer: ArrayBuffer, progress: Progress): number {
  const view = new DataView(buffer);
  const pages = buffer.byteLength / PAGE;
  const marker = (p: number): bigint => 0x5241_434b_0000_0000n | BigInt(p);
  for (let p = 0; p < pages; p++) {
    view.setBigUint64(p * PAGE, marker(p), true);
    if ((p & 1023) === 0) progress(p / (2 * pages));
  }
  let bad = 0;
  for (let p = 0; p < pages; p++) {
    if (view.getBigUint64(p * PAGE, true) !== marker(p)) bad++;
    if ((p & 1023) === 0) progress(0.5 + p / (2 * pages));
  }
  progress(1);
  return bad;
}

/** Matrix bytes for N x N float64 matrices A, B and C. */
export const gemmBytes = (n: number): number => 3 * n * n * 8;

/**
 * The original random-index GEMM (rack_vm_matmul.c): C = A x B over N x N matrices whose row
 * and column indices are randomly permuted, laid out A, B, C in `buffer`. Values are small
 * integers in float64, so the result is exact and comparable byte for byte.
 */
export function gemm(buffer: ArrayBuffer, n: number, seed: number, progress: Progress): Float64Array {
  const a = new Float64Array(buffer, 0, n * n);
  const b = new Float64Array(buffer, n * n * 8, n * n);
  const c = new Float64Array(buffer, 2 * n * n * 8, n * n);
  let x = seed >>> 0 || 1;
  const next = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4_294_967_296;
  };
  for (let i = 0; i < n * n; i++) {
    a[i] = Math.floor(next() * 16);
    b[i] = Math.floor(next() * 16);
  }
  const perm = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [perm[i], perm[j]] = [perm[j], perm[i]];
  }
  for (let ii = 0; ii < n; ii++) {
    const i = perm[ii];
    for (let jj = 0; jj < n; jj++) {
      const j = perm[jj];
      let sum = 0;
      for (let kk = 0; kk < n; kk++) {
        const k = perm[kk];
        sum += a[i * n + k] * b[k * n + j];
      }
      c[i * n + j] = sum;
    }
    progress((ii + 1) / n);
  }
  return c.slice();
}
