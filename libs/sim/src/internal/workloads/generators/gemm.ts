// The original's rack_vm_matmul.c as a page stream. Three N x N matrices of 64-bit elements lie
// back to back in the region in row-major order: A at byte 0, B at 8N^2, C at 16N^2; element
// (m, r, c) (m = 0 for A, 1 for B, 2 for C) is at byte 8 x (m N^2 + r N + c), on page
// floor(that / pageSizeBytes). One thread, rows i in [rowFirst, rowEnd), emits:
//   initialise (optional): for i, for j: write A[i][j], write B[i][j], write C[i][j]
//   multiply:   for i, for j, for k with ri = P[i], rj = P[j], rk = P[k]:
//               read A[ri][rk], read B[rk][rj], (accumulate: read C[ri][rj],) write C[ri][rj]
// where P is the shared random permutation of 0 .. N-1. The original's gemm() stores
// C = A x B for each k (`sum = 0; sum += ...; C = sum`), hence `store` by default.

import type { PageGenerator } from '../generated-stream.js';
import type { WorkloadRandom } from '../random.js';

/** How the permutation of indices is drawn. */
export type GemmPermutation = 'original' | 'shuffle' | 'identity';

/** The index permutation: N random transpositions as the original, Fisher-Yates, or none. */
export function gemmPermutation(size: number, kind: GemmPermutation, random: WorkloadRandom): Int32Array {
  const index = new Int32Array(size);
  for (let i = 0; i < size; i++) index[i] = i;
  if (kind === 'original') {
    for (let i = 0; i < size; i++) {
      const a = random.intBelow(size);
      const b = random.intBelow(size);
      const held = index[a];
      index[a] = index[b];
      index[b] = held;
    }
  } else if (kind === 'shuffle') {
    for (let i = size - 1; i > 0; i--) {
      const j = random.intBelow(i + 1);
      const held = index[i];
      index[i] = index[j];
      index[j] = held;
    }
  }
  return index;
}

/** Accesses of rows [rowFirst, rowEnd): 3 x rows x N (initialise) + rows x N^2 x (3 or 4). */
export function gemmAccesses(size: number, rows: number, initialize: boolean, accumulate: boolean): number {
  return (initialize ? 3 * rows * size : 0) + rows * size * size * (accumulate ? 4 : 3);
}

/** The gemm page stream of one thread (rows [rowFirst, rowEnd)). */
export class GemmGenerator implements PageGenerator {
  readonly decidesWrites = true;
  private readonly elementsPerPage: number;
  private readonly bStart: number;
  private readonly cStart: number;
  private initializing: boolean;
  private i: number;
  private j = 0;
  private k = 0;
  private step = 0;

  constructor(
    private readonly first: number,
    private readonly size: number,
    private readonly permutation: Int32Array,
    private readonly rowFirst: number,
    private readonly rowEnd: number,
    pageSizeBytes: number,
    private readonly initialize: boolean,
    private readonly accumulate: boolean,
  ) {
    this.elementsPerPage = pageSizeBytes / 8;
    this.bStart = size * size;
    this.cStart = 2 * size * size;
    this.initializing = initialize;
    this.i = rowFirst;
  }

  fillPages(pages: Int32Array, writes: Uint8Array, offset: number, count: number): void {
    const { first, size, permutation, elementsPerPage, bStart, cStart } = this;
    const steps = this.accumulate ? 4 : 3;
    let { i, j, k, step, initializing } = this;
    const end = offset + count;
    for (let out = offset; out < end; out++) {
      let element: number;
      let write: number;
      if (initializing) {
        element = (step === 0 ? 0 : step === 1 ? bStart : cStart) + i * size + j;
        write = 1;
        if (++step === 3) {
          step = 0;
          if (++j === size) {
            j = 0;
            if (++i === this.rowEnd) {
              i = this.rowFirst;
              initializing = false;
            }
          }
        }
      } else {
        const ri = permutation[i];
        const rj = permutation[j];
        const rk = permutation[k];
        if (step === 0) {
          element = ri * size + rk;
          write = 0;
        } else if (step === 1) {
          element = bStart + rk * size + rj;
          write = 0;
        } else {
          element = cStart + ri * size + rj;
          write = step === steps - 1 ? 1 : 0;
        }
        if (++step === steps) {
          step = 0;
          if (++k === size) {
            k = 0;
            if (++j === size) {
              j = 0;
              if (++i === this.rowEnd) {
                i = this.rowFirst;
                initializing = this.initialize;
              }
            }
          }
        }
      }
      pages[out] = first + Math.floor(element / elementsPerPage);
      writes[out] = write;
    }
    this.i = i;
    this.j = j;
    this.k = k;
    this.step = step;
    this.initializing = initializing;
  }
}
