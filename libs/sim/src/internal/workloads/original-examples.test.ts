import { describe, expect, it } from 'vitest';
import { RandomStreams } from '../random-stream.js';
import type { AccessStream } from './access-batch.js';
import { AccessBatch } from './access-batch.js';
import { createWorkload } from './create-workload.js';
import { gemmPermutation } from './generators/gemm.js';
import type { WorkloadSpec } from './spec.js';

function collect(stream: AccessStream, batchSize = 1000): { pages: Int32Array; writes: Uint8Array } {
  const batch = new AccessBatch(batchSize);
  const pages: number[] = [];
  const writes: number[] = [];
  for (let n = stream.fill(batch, batchSize); n > 0; n = stream.fill(batch, batchSize)) {
    for (let i = 0; i < n; i++) {
      pages.push(batch.pages[i]);
      writes.push(batch.writes[i]);
    }
  }
  return { pages: Int32Array.from(pages), writes: Uint8Array.from(writes) };
}

function build(spec: WorkloadSpec, seed = 1) {
  const streams = new RandomStreams(seed);
  return createWorkload(spec, (name) => streams.stream(name));
}

describe('touch (rack_vm_test)', () => {
  it('defaults to 128 MiB of 4 KiB pages on one thread: writes every page in order, then reads every page', () => {
    const workload = build({ kind: 'touch' });
    expect(workload.pageCount).toBe(32768);
    expect(workload.threadCount).toBe(1);
    expect(workload.totalAccesses).toBe(65536);
    const { pages, writes } = collect(workload.stream(0), 4096);
    expect(pages.length).toBe(65536);
    for (let i = 0; i < 32768; i++) {
      if (pages[i] !== i || writes[i] !== 1) throw new Error(`write pass wrong at ${i}`);
      if (pages[32768 + i] !== i || writes[32768 + i] !== 0) throw new Error(`read pass wrong at ${i}`);
    }
  });

  it('splits the region among threads, each writing then reading its slice', () => {
    const workload = build({ kind: 'touch', pageCount: 10, threadCount: 2, thinkNs: 5 });
    const { pages, writes } = collect(workload.stream(1));
    expect(Array.from(pages)).toEqual([5, 6, 7, 8, 9, 5, 6, 7, 8, 9]);
    expect(Array.from(writes)).toEqual([1, 1, 1, 1, 1, 0, 0, 0, 0, 0]);
  });
});

/** A direct transcription of rack_vm_matmul.c's loops, emitting (element index, write). */
function referenceGemm(n: number, permutation: Int32Array, initialize: boolean, accumulate: boolean): { elements: number[]; writes: number[] } {
  const elements: number[] = [];
  const writes: number[] = [];
  const A = 0;
  const B = n * n;
  const C = 2 * n * n;
  const emit = (element: number, write: boolean) => {
    elements.push(element);
    writes.push(write ? 1 : 0);
  };
  if (initialize) {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        emit(A + i * n + j, true);
        emit(B + i * n + j, true);
        emit(C + i * n + j, true);
      }
    }
  }
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      for (let k = 0; k < n; k++) {
        const ri = permutation[i];
        const rj = permutation[j];
        const rk = permutation[k];
        emit(A + ri * n + rk, false);
        emit(B + rk * n + rj, false);
        if (accumulate) emit(C + ri * n + rj, false);
        emit(C + ri * n + rj, true);
      }
    }
  }
  return { elements, writes };
}

describe('gemm (rack_vm_matmul)', () => {
  it('emits the original loop nest page by page, N^3 x (2 reads + 1 write) after 3 N^2 initial writes', () => {
    for (const [n, pageSizeBytes, initialize, cUpdate] of [[10, 64, true, 'store'], [7, 128, false, 'accumulate'], [16, 4096, true, 'accumulate']] as const) {
      const workload = build({ kind: 'gemm', matrixSize: n, pageSizeBytes, initialize, cUpdate }, 5);
      const perK = cUpdate === 'store' ? 3 : 4;
      expect(workload.totalAccesses).toBe((initialize ? 3 * n * n : 0) + perK * n * n * n);
      expect(workload.pageCount).toBe(Math.ceil((3 * n * n * 8) / pageSizeBytes));
      const { pages, writes } = collect(workload.stream(0), 333);
      const permutation = gemmPermutation(n, 'original', new RandomStreams(5).stream('workload/shared/gemm'));
      const expected = referenceGemm(n, permutation, initialize, cUpdate === 'accumulate');
      expect(Array.from(pages)).toEqual(expected.elements.map((e) => Math.floor((e * 8) / pageSizeBytes)));
      expect(Array.from(writes)).toEqual(expected.writes);
      // Exactly the three matrices' pages are touched, and all of them.
      expect(new Set(pages).size).toBe(workload.pageCount);
    }
  });

  it('permutes indices randomly (the original draws N random transpositions) and shares them across threads', () => {
    const permutation = gemmPermutation(64, 'original', new RandomStreams(3).stream('p'));
    expect([...permutation].sort((a, b) => a - b)).toEqual(Array.from({ length: 64 }, (_, i) => i));
    expect(Array.from(permutation)).not.toEqual(Array.from({ length: 64 }, (_, i) => i));
    const identity = build({ kind: 'gemm', matrixSize: 4, pageSizeBytes: 64, permutation: 'identity', initialize: false });
    // A[0][0], B[0][0], C[0][0]; elements 0, 16, 32 with 8 elements per page.
    expect(Array.from(collect(identity.stream(0)).pages.subarray(0, 3))).toEqual([0, 2, 4]);
    const single = collect(build({ kind: 'gemm', matrixSize: 9, pageSizeBytes: 64, initialize: false }, 8).stream(0)).pages;
    const split = build({ kind: 'gemm', matrixSize: 9, pageSizeBytes: 64, initialize: false, threadCount: 3 }, 8);
    const joined = [0, 1, 2].flatMap((t) => Array.from(collect(split.stream(t)).pages));
    expect(joined).toEqual(Array.from(single));
  });

  it('chooses the largest N whose three matrices fit the requested region', () => {
    for (const pageCount of [1, 7, 100, 16384]) {
      const workload = build({ kind: 'gemm', pageCount });
      expect(workload.pageCount).toBeLessThanOrEqual(pageCount);
      const n = Number(/N=(\d+)/.exec(workload.name)?.[1] ?? NaN);
      expect(24 * n * n).toBeLessThanOrEqual(pageCount * 4096);
      expect(24 * (n + 1) * (n + 1)).toBeGreaterThan(pageCount * 4096);
    }
    expect(build({ kind: 'gemm' }).pageCount).toBe(Math.ceil((24 * 128 * 128) / 4096));
  });
});
