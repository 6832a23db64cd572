// The key-value store: a hash index and a value heap, both inside one block of memory (the
// ArrayBuffers of a PagedRegion, or plain ArrayBuffers in tests). See layout.ts for the layout.
// Every operation is synchronous and either completes or throws a KvError having changed nothing.
import { KvError } from './errors.js';
import { hashKey } from './hash.js';
import {
  BUFFER_BYTES, ENTRY_HEADER_BYTES, MAX_RUN_BYTES, H, HEADER_BYTES, LAYOUT_VERSION, MAGIC, MAX_KEY_BYTES, MAX_VALUE_BYTES, REF_UNIT_BYTES,
  SIZE_CLASS_BYTES, computeLayout, defaultMaxKeys, runBytesOf, sizeClassOf, type KvLayout,
} from './layout.js';

/** Options of {@link KvStore.format}. */
export interface KvStoreOptions {
  /** Most keys the index takes (default: one per 512 bytes of the region, at least 1024). */
  maxKeys?: number;
  /**
   * Size of every buffer but the last (default 1 GiB, as `PagedRegion.arrayBuffers()` cuts
   * them); a multiple of 1 MiB. Tests use small buffers to cross buffer boundaries cheaply.
   */
  bufferBytes?: number;
}

/** Occupancy and operation counters of a store. */
export interface KvStoreStats {
  keys: number;
  maxKeys: number;
  indexSlots: number;
  indexBytes: number;
  heapBytes: number;
  /** Heap bytes handed to size classes (runs taken, plus any skipped at buffer boundaries). */
  heapBytesTaken: number;
  heapRuns: number;
  /** Bytes of blocks holding live entries (key, value, header and rounding). */
  blockBytesInUse: number;
  liveKeyBytes: number;
  liveValueBytes: number;
  gets: number;
  getHits: number;
  puts: number;
  deletes: number;
  /** Puts refused because the index or the heap was full. */
  rejectedFull: number;
}

/** What {@link KvStore.put} did. */
export type PutResult = 'created' | 'replaced';

/**
 * A fixed-capacity key-value store laid out in raw memory: keys of 1 to 256 bytes, values of up to
 * 64 KiB. The index uses open addressing with linear probing and backward-shift deletion (no
 * tombstones); values live in a size-class heap of runs of 64 KiB to 1 MiB. When the index or the heap is
 * full, puts fail with a `KvError` (`index-full`, `heap-full`); nothing is ever evicted.
 */
export class KvStore {
  private readonly u8: Uint8Array[];
  private readonly dv: DataView[];
  private readonly header: Uint32Array;
  private readonly headerF64: Float64Array;
  private readonly index: Uint32Array;
  private readonly slotMask: number;
  private readonly counts = { gets: 0, getHits: 0, puts: 0, deletes: 0, rejectedFull: 0 };

  private constructor(buffers: readonly ArrayBuffer[], readonly layout: KvLayout, private readonly bufferBytes: number) {
    this.u8 = buffers.map((b) => new Uint8Array(b));
    this.dv = buffers.map((b) => new DataView(b));
    this.header = new Uint32Array(buffers[0], 0, HEADER_BYTES / 4);
    this.headerF64 = new Float64Array(buffers[0], 0, HEADER_BYTES / 8);
    this.index = new Uint32Array(buffers[0], HEADER_BYTES, layout.indexBytes / 4);
    this.slotMask = 2 ** layout.slotCountLog2 - 1;
  }

  /**
   * Lays out an empty store over `buffers` (consecutive, each 1 GiB except the last, as
   * `PagedRegion.arrayBuffers()` returns them). The memory must be zero-filled (a fresh region).
   */
  static format(buffers: readonly ArrayBuffer[], options: KvStoreOptions = {}): KvStore {
    if (buffers.length === 0) throw new KvError('region-too-small', 'the store needs at least one buffer of memory');
    const bufferBytes = options.bufferBytes ?? BUFFER_BYTES;
    if (!Number.isSafeInteger(bufferBytes) || bufferBytes <= 0 || bufferBytes % MAX_RUN_BYTES !== 0) {
      throw new KvError('invalid-option', `bufferBytes ${bufferBytes} must be a positive multiple of ${MAX_RUN_BYTES}`);
    }
    for (let i = 0; i < buffers.length; i++) {
      const size = buffers[i].byteLength;
      if (i < buffers.length - 1 ? size !== bufferBytes : size > bufferBytes || size % 4096 !== 0) {
        throw new KvError('invalid-option', `buffer ${i} is ${size} bytes; every buffer but the last must be ${bufferBytes} bytes, the last at most that and a multiple of 4096`);
      }
    }
    const sizeBytes = buffers.reduce((sum, b) => sum + b.byteLength, 0);
    const layout = computeLayout(sizeBytes, options.maxKeys ?? defaultMaxKeys(sizeBytes));
    if (typeof layout === 'string') throw new KvError(layout.includes('maxKeys') ? 'invalid-option' : 'region-too-small', layout);
    if (HEADER_BYTES + layout.indexBytes > buffers[0].byteLength) {
      throw new KvError('invalid-option', `the index of ${layout.maxKeys} keys (${layout.indexBytes} bytes) must fit in the first buffer of ${buffers[0].byteLength} bytes; use fewer keys`);
    }
    const store = new KvStore(buffers, layout, bufferBytes);
    const h = store.header;
    if (h[H.magic] !== 0 || h[H.keyCount] !== 0) throw new KvError('invalid-option', 'the memory is not zero-filled; format a store only over a fresh region');
    h[H.version] = LAYOUT_VERSION;
    h[H.slotCountLog2] = layout.slotCountLog2;
    h[H.maxKeys] = layout.maxKeys;
    h[H.heapNextRef] = layout.heapStartBytes / REF_UNIT_BYTES;
    h[H.heapEndRef] = layout.sizeBytes / REF_UNIT_BYTES;
    h[H.keyCount] = 0;
    h[H.runsTaken] = 0;
    h[H.magic] = MAGIC;
    return store;
  }

  /** Number of keys. */
  get size(): number {
    return this.header[H.keyCount];
  }

  /** A copy of the value of `key`, or null. */
  get(key: Uint8Array): Uint8Array | null {
    checkKey(key);
    this.counts.gets++;
    const slot = this.find(key, hashKey(key));
    if (slot < 0) return null;
    this.counts.getHits++;
    const off = this.index[slot * 2 + 1] * REF_UNIT_BYTES;
    const b = Math.floor(off / this.bufferBytes);
    const at = off - b * this.bufferBytes;
    const dv = this.dv[b];
    const start = at + ENTRY_HEADER_BYTES + dv.getUint16(at, true);
    return this.u8[b].slice(start, start + dv.getUint32(at + 4, true));
  }

  /** Stores `value` under `key`; throws `index-full` or `heap-full` (changing nothing) when there is no room. */
  put(key: Uint8Array, value: Uint8Array): PutResult {
    checkKey(key);
    if (value.length > MAX_VALUE_BYTES) throw new KvError('value-too-large', `the value is ${value.length} bytes; values are at most ${MAX_VALUE_BYTES} bytes (64 KiB)`);
    const hash = hashKey(key);
    const entryBytes = ENTRY_HEADER_BYTES + key.length + value.length;
    const cls = sizeClassOf(entryBytes);
    const slot = this.find(key, hash);
    if (slot >= 0) {
      const oldRef = this.index[slot * 2 + 1];
      const oldOff = oldRef * REF_UNIT_BYTES;
      const ob = Math.floor(oldOff / this.bufferBytes);
      const oldCls = this.dv[ob].getUint16(oldOff - ob * this.bufferBytes + 2, true);
      const oldValueBytes = this.dv[ob].getUint32(oldOff - ob * this.bufferBytes + 4, true);
      if (oldCls === cls) {
        this.writeEntry(oldRef, cls, key, value);
      } else {
        const ref = this.allocate(cls);
        this.writeEntry(ref, cls, key, value);
        this.index[slot * 2 + 1] = ref;
        this.release(oldRef, oldCls);
        this.headerF64[H.f64BlockBytes] += SIZE_CLASS_BYTES[cls] - SIZE_CLASS_BYTES[oldCls];
      }
      this.headerF64[H.f64LiveValueBytes] += value.length - oldValueBytes;
      this.counts.puts++;
      return 'replaced';
    }
    const h = this.header;
    if (h[H.keyCount] >= h[H.maxKeys]) {
      this.counts.rejectedFull++;
      throw new KvError('index-full', `the store holds its maximum of ${h[H.maxKeys]} keys; delete keys or start the server with a larger --max-keys`);
    }
    const ref = this.allocate(cls);
    this.writeEntry(ref, cls, key, value);
    let i = hash & this.slotMask;
    while (this.index[i * 2 + 1] !== 0) i = (i + 1) & this.slotMask;
    this.index[i * 2] = hash;
    this.index[i * 2 + 1] = ref;
    h[H.keyCount]++;
    this.headerF64[H.f64LiveKeyBytes] += key.length;
    this.headerF64[H.f64LiveValueBytes] += value.length;
    this.headerF64[H.f64BlockBytes] += SIZE_CLASS_BYTES[cls];
    this.counts.puts++;
    return 'created';
  }

  /** Removes `key`; false when it was not there. */
  delete(key: Uint8Array): boolean {
    checkKey(key);
    let i = this.find(key, hashKey(key));
    if (i < 0) return false;
    const ref = this.index[i * 2 + 1];
    const off = ref * REF_UNIT_BYTES;
    const b = Math.floor(off / this.bufferBytes);
    const at = off - b * this.bufferBytes;
    const cls = this.dv[b].getUint16(at + 2, true);
    this.headerF64[H.f64LiveKeyBytes] -= this.dv[b].getUint16(at, true);
    this.headerF64[H.f64LiveValueBytes] -= this.dv[b].getUint32(at + 4, true);
    this.headerF64[H.f64BlockBytes] -= SIZE_CLASS_BYTES[cls];
    this.release(ref, cls);
    // Backward-shift deletion: pull later members of the probe run into the hole.
    const idx = this.index;
    const mask = this.slotMask;
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      if (idx[j * 2 + 1] === 0) break;
      const home = idx[j * 2] & mask;
      const stays = i <= j ? i < home && home <= j : i < home || home <= j;
      if (stays) continue;
      idx[i * 2] = idx[j * 2];
      idx[i * 2 + 1] = idx[j * 2 + 1];
      i = j;
    }
    idx[i * 2] = 0;
    idx[i * 2 + 1] = 0;
    this.header[H.keyCount]--;
    this.counts.deletes++;
    return true;
  }

  /** Occupancy and counters. */
  stats(): KvStoreStats {
    const h = this.header;
    return {
      keys: h[H.keyCount],
      maxKeys: h[H.maxKeys],
      indexSlots: this.slotMask + 1,
      indexBytes: this.layout.indexBytes,
      heapBytes: this.layout.heapBytes,
      heapBytesTaken: h[H.heapNextRef] * REF_UNIT_BYTES - this.layout.heapStartBytes,
      heapRuns: h[H.runsTaken],
      blockBytesInUse: this.headerF64[H.f64BlockBytes],
      liveKeyBytes: this.headerF64[H.f64LiveKeyBytes],
      liveValueBytes: this.headerF64[H.f64LiveValueBytes],
      ...this.counts,
    };
  }

  /**
   * Walks the whole index and heap bookkeeping and returns the problems found (empty when the
   * store is consistent). Touches every slot and entry: for tests and diagnostics only.
   */
  check(): string[] {
    const problems: string[] = [];
    const idx = this.index;
    const mask = this.slotMask;
    let keys = 0;
    let keyBytes = 0;
    let valueBytes = 0;
    let blockBytes = 0;
    for (let s = 0; s <= mask; s++) {
      const ref = idx[s * 2 + 1];
      if (ref === 0) continue;
      keys++;
      const off = ref * REF_UNIT_BYTES;
      const b = Math.floor(off / this.bufferBytes);
      const at = off - b * this.bufferBytes;
      const keyLen = this.dv[b].getUint16(at, true);
      const cls = this.dv[b].getUint16(at + 2, true);
      const valueLen = this.dv[b].getUint32(at + 4, true);
      keyBytes += keyLen;
      valueBytes += valueLen;
      blockBytes += SIZE_CLASS_BYTES[cls] ?? 0;
      const key = this.u8[b].subarray(at + ENTRY_HEADER_BYTES, at + ENTRY_HEADER_BYTES + keyLen);
      if (hashKey(key) !== idx[s * 2]) problems.push(`slot ${s}: stored hash does not match its key`);
      if (this.find(key, idx[s * 2]) !== s) problems.push(`slot ${s}: its key is not found from its home slot`);
      if (ENTRY_HEADER_BYTES + keyLen + valueLen > (SIZE_CLASS_BYTES[cls] ?? 0)) problems.push(`slot ${s}: entry larger than its block`);
    }
    const h = this.header;
    if (keys !== h[H.keyCount]) problems.push(`index holds ${keys} keys, header says ${h[H.keyCount]}`);
    if (keyBytes !== this.headerF64[H.f64LiveKeyBytes]) problems.push(`key bytes ${keyBytes} != ${this.headerF64[H.f64LiveKeyBytes]}`);
    if (valueBytes !== this.headerF64[H.f64LiveValueBytes]) problems.push(`value bytes ${valueBytes} != ${this.headerF64[H.f64LiveValueBytes]}`);
    if (blockBytes !== this.headerF64[H.f64BlockBytes]) problems.push(`block bytes ${blockBytes} != ${this.headerF64[H.f64BlockBytes]}`);
    let inUse = 0;
    for (let c = 0; c < SIZE_CLASS_BYTES.length; c++) inUse += h[H.classBase + c * H.classStride + 3] * SIZE_CLASS_BYTES[c];
    if (inUse !== blockBytes) problems.push(`size classes count ${inUse} block bytes in use, the index ${blockBytes}`);
    return problems;
  }

  /** The slot holding `key`, or -1. */
  private find(key: Uint8Array, hash: number): number {
    const idx = this.index;
    const mask = this.slotMask;
    let i = hash & mask;
    for (;;) {
      const ref = idx[i * 2 + 1];
      if (ref === 0) return -1;
      if (idx[i * 2] === hash && this.keyAt(ref, key)) return i;
      i = (i + 1) & mask;
    }
  }

  private keyAt(ref: number, key: Uint8Array): boolean {
    const off = ref * REF_UNIT_BYTES;
    const b = Math.floor(off / this.bufferBytes);
    const at = off - b * this.bufferBytes;
    if (this.dv[b].getUint16(at, true) !== key.length) return false;
    const u8 = this.u8[b];
    const start = at + ENTRY_HEADER_BYTES;
    for (let k = 0; k < key.length; k++) if (u8[start + k] !== key[k]) return false;
    return true;
  }

  private writeEntry(ref: number, cls: number, key: Uint8Array, value: Uint8Array): void {
    const off = ref * REF_UNIT_BYTES;
    const b = Math.floor(off / this.bufferBytes);
    const at = off - b * this.bufferBytes;
    const dv = this.dv[b];
    dv.setUint16(at, key.length, true);
    dv.setUint16(at + 2, cls, true);
    dv.setUint32(at + 4, value.length, true);
    this.u8[b].set(key, at + ENTRY_HEADER_BYTES);
    this.u8[b].set(value, at + ENTRY_HEADER_BYTES + key.length);
  }

  /** A free block of class `cls` (free list, then the class's current run, then a new run); throws heap-full. */
  private allocate(cls: number): number {
    const h = this.header;
    const rec = H.classBase + cls * H.classStride;
    const units = SIZE_CLASS_BYTES[cls] / REF_UNIT_BYTES;
    let ref = h[rec];
    if (ref !== 0) {
      const off = ref * REF_UNIT_BYTES;
      const b = Math.floor(off / this.bufferBytes);
      h[rec] = this.dv[b].getUint32(off - b * this.bufferBytes + 8, true); // next free block
    } else if (h[rec + 1] !== 0 && h[rec + 1] + units <= h[rec + 2]) {
      ref = h[rec + 1];
      h[rec + 1] = ref + units;
    } else {
      const runBytes = runBytesOf(cls);
      let start = h[H.heapNextRef] * REF_UNIT_BYTES;
      const bufferEnd = (Math.floor(start / this.bufferBytes) + 1) * this.bufferBytes;
      if (start + runBytes > bufferEnd) start = bufferEnd; // a run never spans two buffers
      if (start + runBytes > h[H.heapEndRef] * REF_UNIT_BYTES) {
        this.counts.rejectedFull++;
        throw new KvError(
          'heap-full',
          `no room for a ${SIZE_CLASS_BYTES[cls]}-byte block: the heap (${this.layout.heapBytes} bytes) is taken by other blocks; delete keys or start the server with a larger --size`,
        );
      }
      ref = start / REF_UNIT_BYTES;
      h[H.heapNextRef] = (start + runBytes) / REF_UNIT_BYTES;
      h[H.runsTaken]++;
      h[rec + 1] = ref + units;
      h[rec + 2] = (start + runBytes) / REF_UNIT_BYTES;
    }
    h[rec + 3]++;
    return ref;
  }

  /** Puts a block on its class's free list (the link is at byte 8, after the entry header's key length and class). */
  private release(ref: number, cls: number): void {
    const h = this.header;
    const rec = H.classBase + cls * H.classStride;
    const off = ref * REF_UNIT_BYTES;
    const b = Math.floor(off / this.bufferBytes);
    this.dv[b].setUint32(off - b * this.bufferBytes + 8, h[rec], true);
    h[rec] = ref;
    h[rec + 3]--;
  }
}

function checkKey(key: Uint8Array): void {
  if (!(key instanceof Uint8Array)) throw new KvError('invalid-key', 'a key must be bytes (a Uint8Array)');
  if (key.length === 0 || key.length > MAX_KEY_BYTES) {
    throw new KvError('invalid-key', `the key is ${key.length} bytes; keys are 1 to ${MAX_KEY_BYTES} bytes`);
  }
}
