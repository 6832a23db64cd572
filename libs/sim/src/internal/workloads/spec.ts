// Workload specs: a JSON-serialisable discriminated union (scenario files hold them). The
// defaults are documented in README.md beside this file and applied by createWorkload.

/** Fields shared by the synthetic generators. */
export interface CommonWorkloadFields {
  /** Pages of the region (0 .. pageCount - 1). */
  pageCount: number;
  /** Closed-loop threads (default 1). */
  threadCount?: number;
  /** Accesses issued by each thread (default: one pass over the thread's pages). */
  accessesPerThread?: number;
  /** Writes are writeNumerator / writeDenominator of the accesses (default 0 / 1: reads only). */
  writeNumerator?: number;
  /** See writeNumerator (default 1). */
  writeDenominator?: number;
  /** Think time before each access in integer ns: the constant, or the exponential mean (default 0). */
  thinkNs?: number;
  /** How think time is drawn (default constant). */
  thinkDistribution?: 'constant' | 'exponential';
  /** `shared`: every thread addresses all pages; `split`: thread t owns the t-th contiguous slice. */
  layout?: 'shared' | 'split';
  /** Only inside `phases`: the sub-workload addresses pages pageOffset .. pageOffset + pageCount - 1. */
  pageOffset?: number;
}

/** Forward or backward sequential scans, optionally several passes. */
export interface SequentialSpec extends CommonWorkloadFields {
  kind: 'sequential';
  direction?: 'forward' | 'backward';
  /** Passes over the thread's pages (default 1); exclusive with accessesPerThread. */
  passes?: number;
}

/** Strided sweeps: pages o, o+k, o+2k, ... for each offset o in 0 .. |k| - 1 (mirrored when k < 0). */
export interface StridedSpec extends CommonWorkloadFields {
  kind: 'strided';
  /** The stride k in pages, non-zero, negative to walk downwards. */
  stridePages: number;
  /** Sweeps over the thread's pages (default 1); exclusive with accessesPerThread. */
  passes?: number;
}

/** Uniformly random pages. */
export interface UniformSpec extends CommonWorkloadFields {
  kind: 'uniform';
}

/** YCSB zipfian popularity: rank 0 is the hottest page. */
export interface ZipfianSpec extends CommonWorkloadFields {
  kind: 'zipfian';
  /** Skew in (0, 1) (default 0.99). */
  theta?: number;
  /** Hash ranks with FNV-1a so the hot pages are spread over the region (default false). */
  scrambled?: boolean;
}

/** hotAccessPercent of the accesses go to the first hotPagePercent of the pages. */
export interface HotspotSpec extends CommonWorkloadFields {
  kind: 'hotspot';
  /** Percent of accesses to the hot set, in [0, 100] (default 80). */
  hotAccessPercent?: number;
  /** Percent of the pages in the hot set, in (0, 100] (default 20). */
  hotPagePercent?: number;
}

/** The pattern changes every switchEvery accesses, cycling through the sub-specs. */
export interface PhasesSpec {
  kind: 'phases';
  pageCount: number;
  threadCount?: number;
  /** Default: switchEvery x phases.length (each phase once). */
  accessesPerThread?: number;
  /** Accesses per phase before switching to the next. */
  switchEvery: number;
  /** The sub-workloads; each keeps its position while the others run. */
  phases: PhaseSubSpec[];
}

/** Several sequential streams interleaved, within each thread or dealt across threads. */
export interface InterleavedSpec extends Omit<CommonWorkloadFields, 'layout'> {
  kind: 'interleaved';
  /** Number of streams: per thread (`per-thread`) or in total (`across-threads`) (default 4). */
  streams?: number;
  /** Default per-thread. */
  mixing?: 'per-thread' | 'across-threads';
  /** How a thread picks its next stream (default round-robin). */
  order?: 'round-robin' | 'random';
  /** Consecutive accesses from one stream before switching (default 1). */
  burstLength?: number;
  direction?: 'forward' | 'backward';
}

/** A walk along a random cyclic permutation of the pages (defeats prefetching). */
export interface PointerChaseSpec extends CommonWorkloadFields {
  kind: 'pointer-chase';
}

/** A window of windowPages pages that slides by shiftPages every shiftEvery accesses. */
export interface WorkingSetShiftSpec extends CommonWorkloadFields {
  kind: 'working-set-shift';
  /** Default max(1, floor(pages / 8)). */
  windowPages?: number;
  /** Default max(1, floor(windowPages / 4)). */
  shiftPages?: number;
  /** Default windowPages. */
  shiftEvery?: number;
}

/** The original's rack_vm_test: write a marker into every page, then read every page back. */
export interface TouchSpec {
  kind: 'touch';
  /** Default 32768 (128 MiB of 4 KiB pages). */
  pageCount?: number;
  threadCount?: number;
  thinkNs?: number;
  thinkDistribution?: 'constant' | 'exponential';
  pageOffset?: number;
}

/** The original's rack_vm_matmul: N x N GEMM of 64-bit ints with permuted indices. */
export interface GemmSpec {
  kind: 'gemm';
  /** N; exclusive with pageCount (default 128 when neither is given). */
  matrixSize?: number;
  /** The region size in pages; N is the largest with 3 x N^2 x 8 bytes within it. */
  pageCount?: number;
  /** Bytes per page for the element-to-page mapping (default 4096). */
  pageSizeBytes?: number;
  /** Rows i are split among threads in contiguous blocks (default 1). */
  threadCount?: number;
  /** `original`: N random transpositions as rack_vm_matmul.c; `shuffle`: Fisher-Yates; `identity`. */
  permutation?: 'original' | 'shuffle' | 'identity';
  /** `store`: C = A x B per k as the original (2 reads + 1 write); `accumulate`: C += (3 reads + 1 write). */
  cUpdate?: 'store' | 'accumulate';
  /** Write A, B and C once in row-major order before the multiplication (default true). */
  initialize?: boolean;
  thinkNs?: number;
  thinkDistribution?: 'constant' | 'exponential';
  pageOffset?: number;
}

/** Replays a trace file: native text, native binary or Valgrind Lackey output. */
export interface TraceSpec {
  kind: 'trace';
  /** Path of the trace file (resolved by the runtime's trace opener). */
  path: string;
  /** Default auto (binary by magic, Lackey by its line shapes, else native text). */
  format?: 'auto' | 'text' | 'binary' | 'lackey';
  /** At least the largest page + 1 of the trace (default: from the header or a scan). */
  pageCount?: number;
  /** At least the largest thread id + 1 (default: from the header or a scan). */
  threadCount?: number;
  /** Lackey conversion options (only with format lackey or auto). */
  lackey?: LackeyOptions;
}

/** How Lackey addresses become pages and instructions become think time. */
export interface LackeyOptions {
  /** Default 4096. */
  pageSizeBytes?: number;
  /** Address of page 0 (hex string "0x..." or a number); default the lowest address kept, rounded down to a page. */
  baseAddress?: string | number;
  /** Keep only accesses in [addressStart, addressEnd) (clipped); hex strings or numbers. */
  addressStart?: string | number;
  addressEnd?: string | number;
  /** `offset`: page = (address - base) / pageSize; `dense`: distinct pages renumbered in address order (default offset). */
  pageMapping?: 'offset' | 'dense';
  /** Think time per `I` line, in ns (fractions allowed; rounded per access); absent: I lines are dropped. */
  instructionNs?: number;
}

/** A spec allowed inside `phases` (no nesting, no traces). */
export type PhaseSubSpec =
  | PhaseOf<SequentialSpec>
  | PhaseOf<StridedSpec>
  | PhaseOf<UniformSpec>
  | PhaseOf<ZipfianSpec>
  | PhaseOf<HotspotSpec>
  | PhaseOf<InterleavedSpec>
  | PhaseOf<PointerChaseSpec>
  | PhaseOf<WorkingSetShiftSpec>
  | TouchSpec
  | Omit<GemmSpec, 'threadCount'>;

type PhaseOf<T extends { pageCount: number }> = Omit<T, 'pageCount' | 'threadCount' | 'accessesPerThread' | 'passes'> & { pageCount?: number };

/** Every workload kind (a discriminated union on `kind`). */
export type WorkloadSpec =
  | SequentialSpec
  | StridedSpec
  | UniformSpec
  | ZipfianSpec
  | HotspotSpec
  | PhasesSpec
  | InterleavedSpec
  | PointerChaseSpec
  | WorkingSetShiftSpec
  | TouchSpec
  | GemmSpec
  | TraceSpec;

/** The `kind` values, in documentation order. */
export const WORKLOAD_KINDS = [
  'sequential', 'strided', 'uniform', 'zipfian', 'hotspot', 'phases', 'interleaved',
  'pointer-chase', 'working-set-shift', 'touch', 'gemm', 'trace',
] as const;

/** One of the workload kinds. */
export type WorkloadKind = WorkloadSpec['kind'];
