// The donor's slab memory on an RDMA device: slabs are carved out of registered chunks (at most
// `chunkBytes` each, because one koffi view or Buffer cannot exceed a few GiB) by a first-fit
// allocator per chunk. Chunks are registered on first need, up to the donor's capacity, and kept
// until close (re-registering on every alloc/free cycle would pin and zero them again). Every
// slab is zeroed when it is handed out; its rkey is its chunk's and its address is the chunk's
// base plus the slab's offset, so peers READ and WRITE it one-sided.
import type { DonorSlabBlock, DonorSlabMemory } from '../../internal/donor/donor.js';
import { VerbsError } from './errors.js';
import { ACCESS_ALL, type MemoryRegistrar, type RegisteredBuffer } from './memory.js';
import { FirstFitAllocator } from './slab-allocator.js';

/** Default largest registered chunk: 1 GiB. */
export const DEFAULT_CHUNK_BYTES = 1 << 30;
const PAGE_BYTES = 4096;

/** Options of {@link RegisteredSlabMemory}. */
export interface RegisteredSlabMemoryOptions {
  /** Registers the chunks (the device's protection domain, or the fake NIC's). */
  readonly registrar: MemoryRegistrar;
  /** Total bytes of slab memory at most (the donor's capacity). */
  readonly capacityBytes: number;
  /** Largest chunk in bytes, a multiple of 4096 (default 1 GiB): also the largest slab. */
  readonly chunkBytes?: number;
}

interface Chunk {
  readonly buffer: RegisteredBuffer;
  readonly allocator: FirstFitAllocator;
}

/** Counters of a {@link RegisteredSlabMemory}. */
export interface SlabMemoryCounters {
  /** Chunks registered now. */
  chunks: number;
  /** Bytes registered now. */
  registeredBytes: number;
  /** Slabs handed out now. */
  slabs: number;
  /** Allocations refused (no chunk had room and no more could be registered, or registration failed). */
  refused: number;
}

/** Slab memory in registered chunks (see the module comment). */
export class RegisteredSlabMemory implements DonorSlabMemory {
  readonly chunkBytes: number;
  readonly capacityBytes: number;
  private readonly registrar: MemoryRegistrar;
  private readonly chunks: Chunk[] = [];
  private readonly lent = new Map<Uint8Array, { chunk: Chunk; offsetBytes: number }>();
  private registered = 0;
  private refusedCount = 0;
  private closed = false;

  constructor(options: RegisteredSlabMemoryOptions) {
    const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    if (!Number.isSafeInteger(chunkBytes) || chunkBytes < PAGE_BYTES || chunkBytes % PAGE_BYTES !== 0) {
      throw new VerbsError('invalid-option', `chunkBytes must be a positive multiple of ${PAGE_BYTES}, got ${chunkBytes}`);
    }
    if (!Number.isSafeInteger(options.capacityBytes) || options.capacityBytes < 0) {
      throw new VerbsError('invalid-option', `the slab memory capacity must be a non-negative integer, got ${options.capacityBytes}`);
    }
    this.registrar = options.registrar;
    this.capacityBytes = Math.ceil(options.capacityBytes / PAGE_BYTES) * PAGE_BYTES;
    this.chunkBytes = Math.min(chunkBytes, Math.max(PAGE_BYTES, this.capacityBytes));
  }

  /** Current usage. */
  counters(): SlabMemoryCounters {
    return { chunks: this.chunks.length, registeredBytes: this.registered, slabs: this.lent.size, refused: this.refusedCount };
  }

  allocate(sizeBytes: number): DonorSlabBlock | string {
    if (this.closed) return this.refuse('the donor memory is closed');
    if (sizeBytes > this.chunkBytes) return this.refuse(`a slab of ${sizeBytes} bytes exceeds the registered chunk of ${this.chunkBytes} bytes`);
    for (const chunk of this.chunks) {
      const offset = chunk.allocator.allocate(sizeBytes);
      if (offset >= 0) return this.lend(chunk, offset, sizeBytes);
    }
    const left = this.capacityBytes - this.registered;
    const size = Math.min(this.chunkBytes, left);
    if (size < sizeBytes) {
      return this.refuse(`the donor's registered memory has no free range of ${sizeBytes} bytes (${this.registered} bytes registered in ${this.chunks.length} chunks, fragmented)`);
    }
    let buffer: RegisteredBuffer;
    try {
      buffer = this.registrar.register(size, ACCESS_ALL);
    } catch (err) {
      return this.refuse(`registering ${size} more bytes of donor memory failed: ${(err as Error).message}`);
    }
    const chunk: Chunk = { buffer, allocator: new FirstFitAllocator(size, PAGE_BYTES) };
    this.chunks.push(chunk);
    this.registered += size;
    return this.lend(chunk, chunk.allocator.allocate(sizeBytes), sizeBytes);
  }

  release(memory: Uint8Array): void {
    const entry = this.lent.get(memory);
    if (entry === undefined) return;
    this.lent.delete(memory);
    entry.chunk.allocator.free(entry.offsetBytes);
  }

  /** Deregisters and frees every chunk (after the donor stopped serving). Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.lent.clear();
    for (const chunk of this.chunks.splice(0)) chunk.buffer.release();
    this.registered = 0;
  }

  private lend(chunk: Chunk, offsetBytes: number, sizeBytes: number): DonorSlabBlock {
    const memory = chunk.buffer.bytes.subarray(offsetBytes, offsetBytes + sizeBytes);
    memory.fill(0);
    this.lent.set(memory, { chunk, offsetBytes });
    return { memory, rkey: chunk.buffer.rkey, remoteAddress: Number(chunk.buffer.address) + offsetBytes };
  }

  private refuse(reason: string): string {
    this.refusedCount += 1;
    return reason;
  }
}
