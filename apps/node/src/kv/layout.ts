// Where the store's structures live inside the region, and the size classes of the value heap.
//
//   [0, 4 KiB)                 header: magic, geometry, counters, one record per size class
//   [4 KiB, 4 KiB + 8 * slots) index: open addressing, linear probing, 8-byte slots (hash32, ref)
//   [heapStart, end)           heap: runs of 64 KiB to 1 MiB taken in order; each run, once
//                              taken, serves one size class (at least 16 blocks, or 15 of the
//                              largest class); a run never spans two ArrayBuffers
//
// A "ref" is a byte offset in the region divided by 16 (blocks are 16-byte aligned), so a u32 ref
// reaches 64 GiB (the store takes regions up to 32 GiB); ref 0 means "no entry" (offset 0 is the header, never a block).

/** Keys are 1 to 256 bytes. */
export const MAX_KEY_BYTES = 256;
/** Values are 0 to 64 KiB. */
export const MAX_VALUE_BYTES = 64 * 1024;
/** Bytes before the key in an entry: keyLen u16, sizeClass u16, valueLen u32. */
export const ENTRY_HEADER_BYTES = 8;
/** The largest entry (header, the longest key, the largest value). */
export const MAX_ENTRY_BYTES = ENTRY_HEADER_BYTES + MAX_KEY_BYTES + MAX_VALUE_BYTES;
/** Blocks and refs are in units of 16 bytes. */
export const REF_UNIT_BYTES = 16;
/** Smallest run of the heap (64 KiB); the heap starts on a multiple of it. */
export const MIN_RUN_BYTES = 64 << 10;
/** Largest run of the heap (1 MiB); buffers are multiples of it. */
export const MAX_RUN_BYTES = 1 << 20;
/** The header occupies the first page. */
export const HEADER_BYTES = 4096;
/** Bytes of one index slot. */
export const SLOT_BYTES = 8;
/** Keys at most this fraction of the slots (linear probing stays short). */
export const MAX_LOAD_FACTOR = 0.75;
/** The index is at most 2^26 slots (512 MiB), so it fits in the first 1 GiB buffer. */
export const MAX_SLOT_COUNT_LOG2 = 26;
/** Largest region the store addresses (u32 refs of 16 bytes reach 64 GiB; half of that keeps every end-of-run ref in range). */
export const MAX_REGION_BYTES = 2 ** 31 * REF_UNIT_BYTES;
/** Size of one ArrayBuffer of a region (PagedRegion hands out buffers of at most 1 GiB). */
export const BUFFER_BYTES = 1 << 30;

/**
 * Block sizes of the heap: multiples of 16 up to 128 bytes, then 8 classes per power of two (at
 * most 12.5% lost to rounding), ending with the largest entry rounded up to 16 bytes.
 */
export const SIZE_CLASS_BYTES: readonly number[] = (() => {
  const sizes: number[] = [];
  for (let s = 16; s <= 128; s += 16) sizes.push(s);
  for (let base = 128; base < MAX_ENTRY_BYTES; base *= 2) {
    for (let i = 1; i <= 8; i++) {
      const s = base + (base / 8) * i;
      if (s >= MAX_ENTRY_BYTES) break;
      sizes.push(s);
    }
  }
  sizes.push(Math.ceil(MAX_ENTRY_BYTES / REF_UNIT_BYTES) * REF_UNIT_BYTES);
  return sizes;
})();

/** Header fields (u32 slots at byte offset 4 * index). */
export const H = {
  magic: 0,
  version: 1,
  slotCountLog2: 2,
  maxKeys: 3,
  heapNextRef: 4,
  heapEndRef: 5,
  keyCount: 6,
  runsTaken: 7,
  /** float64 fields from byte 64 on (index into a Float64Array of the header). */
  f64LiveKeyBytes: 8,
  f64LiveValueBytes: 9,
  f64BlockBytes: 10,
  /** Size-class records from byte 256 on: freeHead, bumpRef, bumpLimitRef, blocksInUse (u32 each). */
  classBase: 64,
  classStride: 4,
} as const;

/** "RKV1" little-endian. */
export const MAGIC = 0x31564b52;
/** Layout version. */
export const LAYOUT_VERSION = 1;

/** The smallest class holding an entry of `bytes` (bytes <= MAX_ENTRY_BYTES). */
export function sizeClassOf(bytes: number): number {
  let lo = 0;
  let hi = SIZE_CLASS_BYTES.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (SIZE_CLASS_BYTES[mid] >= bytes) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** The store's geometry in a region of a given size. */
export interface KvLayout {
  readonly sizeBytes: number;
  readonly maxKeys: number;
  readonly slotCountLog2: number;
  readonly indexBytes: number;
  /** Where the heap starts (a multiple of MIN_RUN_BYTES). */
  readonly heapStartBytes: number;
  readonly heapBytes: number;
}

/** Bytes of a run of class `cls`: a power of two holding at least 16 blocks, from 64 KiB to 1 MiB. */
export function runBytesOf(cls: number): number {
  const want = 16 * SIZE_CLASS_BYTES[cls];
  let run = MIN_RUN_BYTES;
  while (run < want && run < MAX_RUN_BYTES) run *= 2;
  return run;
}

/** Default key capacity of a region: one key per 512 bytes, at least 1024. */
export function defaultMaxKeys(sizeBytes: number): number {
  return Math.max(1024, Math.floor(sizeBytes / 512));
}

/** Computes the layout; returns an error text when the region cannot hold it. */
export function computeLayout(sizeBytes: number, maxKeys: number): KvLayout | string {
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0 || sizeBytes % 4096 !== 0) return `region size ${sizeBytes} must be a positive multiple of 4096 bytes`;
  if (sizeBytes > MAX_REGION_BYTES) return `region size ${sizeBytes} is above the store's limit of ${MAX_REGION_BYTES} bytes (32 GiB)`;
  if (!Number.isSafeInteger(maxKeys) || maxKeys < 1) return `maxKeys ${maxKeys} must be a positive integer`;
  const slotCountLog2 = Math.max(4, Math.ceil(Math.log2(Math.ceil(maxKeys / MAX_LOAD_FACTOR))));
  if (slotCountLog2 > MAX_SLOT_COUNT_LOG2) return `maxKeys ${maxKeys} is above the store's limit of ${Math.floor(2 ** MAX_SLOT_COUNT_LOG2 * MAX_LOAD_FACTOR)} keys`;
  const indexBytes = 2 ** slotCountLog2 * SLOT_BYTES;
  const heapStartBytes = Math.ceil((HEADER_BYTES + indexBytes) / MIN_RUN_BYTES) * MIN_RUN_BYTES;
  const heapBytes = sizeBytes - heapStartBytes;
  if (heapBytes < MAX_RUN_BYTES) {
    return `a region of ${sizeBytes} bytes cannot hold an index of ${maxKeys} keys (${indexBytes} bytes) and a heap of at least 1 MiB; use a region of at least ${heapStartBytes + MAX_RUN_BYTES} bytes or fewer keys`;
  }
  return { sizeBytes, maxKeys, slotCountLog2, indexBytes, heapStartBytes, heapBytes };
}
