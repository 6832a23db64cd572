// A bounded first-fit allocator of byte ranges in one block of registered memory: a sorted list of
// free holes, merged with their neighbours when a range is freed. Offsets are aligned (4 KiB by
// default) so every slab starts on a page. Pure bookkeeping: no memory is touched.
import { VerbsError } from './errors.js';

/** A free range: [offsetBytes, offsetBytes + sizeBytes). */
interface Hole {
  offsetBytes: number;
  sizeBytes: number;
}

/** First-fit allocator of aligned ranges in [0, capacityBytes) (see the module comment). */
export class FirstFitAllocator {
  readonly capacityBytes: number;
  readonly alignBytes: number;
  /** Free holes sorted by offset, never adjacent (merged). */
  private readonly holes: Hole[];
  /** Size of every allocated range (rounded up to the alignment) by its offset. */
  private readonly allocated = new Map<number, number>();
  private freeTotal: number;

  constructor(capacityBytes: number, alignBytes = 4096) {
    if (!Number.isSafeInteger(alignBytes) || alignBytes < 1 || (alignBytes & (alignBytes - 1)) !== 0) {
      throw new VerbsError('invalid-option', `the slab alignment must be a power of two, got ${alignBytes}`);
    }
    if (!Number.isSafeInteger(capacityBytes) || capacityBytes < 0 || capacityBytes % alignBytes !== 0) {
      throw new VerbsError('invalid-option', `the allocator capacity must be a non-negative multiple of ${alignBytes}, got ${capacityBytes}`);
    }
    this.capacityBytes = capacityBytes;
    this.alignBytes = alignBytes;
    this.holes = capacityBytes > 0 ? [{ offsetBytes: 0, sizeBytes: capacityBytes }] : [];
    this.freeTotal = capacityBytes;
  }

  /** Free bytes (possibly in several holes). */
  get freeBytes(): number {
    return this.freeTotal;
  }

  /** The largest range that can be allocated now. */
  get largestFreeBytes(): number {
    let largest = 0;
    for (const hole of this.holes) largest = Math.max(largest, hole.sizeBytes);
    return largest;
  }

  /** Ranges allocated now. */
  get allocatedCount(): number {
    return this.allocated.size;
  }

  /** The size `sizeBytes` takes once rounded up to the alignment. */
  roundedSize(sizeBytes: number): number {
    return Math.ceil(sizeBytes / this.alignBytes) * this.alignBytes;
  }

  /** Allocates `sizeBytes` (> 0) at the lowest offset that fits; returns the offset, or -1 when no hole is large enough. */
  allocate(sizeBytes: number): number {
    if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0) return -1;
    const size = this.roundedSize(sizeBytes);
    for (let i = 0; i < this.holes.length; i += 1) {
      const hole = this.holes[i];
      if (hole.sizeBytes < size) continue;
      const offset = hole.offsetBytes;
      if (hole.sizeBytes === size) this.holes.splice(i, 1);
      else {
        hole.offsetBytes += size;
        hole.sizeBytes -= size;
      }
      this.allocated.set(offset, size);
      this.freeTotal -= size;
      return offset;
    }
    return -1;
  }

  /** Frees the range allocated at `offsetBytes`; returns false (and changes nothing) when none is. */
  free(offsetBytes: number): boolean {
    const size = this.allocated.get(offsetBytes);
    if (size === undefined) return false;
    this.allocated.delete(offsetBytes);
    this.freeTotal += size;
    // The first hole after the range (binary search: the list is sorted by offset).
    let lo = 0;
    let hi = this.holes.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.holes[mid].offsetBytes < offsetBytes) lo = mid + 1;
      else hi = mid;
    }
    const before = lo > 0 ? this.holes[lo - 1] : null;
    const after = lo < this.holes.length ? this.holes[lo] : null;
    const end = offsetBytes + size;
    if (before !== null && before.offsetBytes + before.sizeBytes === offsetBytes) {
      before.sizeBytes += size;
      if (after !== null && after.offsetBytes === end) {
        before.sizeBytes += after.sizeBytes;
        this.holes.splice(lo, 1);
      }
    } else if (after !== null && after.offsetBytes === end) {
      after.offsetBytes = offsetBytes;
      after.sizeBytes += size;
    } else {
      this.holes.splice(lo, 0, { offsetBytes, sizeBytes: size });
    }
    return true;
  }

  /** The free holes as [offset, size] pairs, sorted (for tests and diagnostics). */
  freeHoles(): [offsetBytes: number, sizeBytes: number][] {
    return this.holes.map((h) => [h.offsetBytes, h.sizeBytes]);
  }
}
