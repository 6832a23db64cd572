import { KrdmaError } from '../errors.js';
import type { ReadVectorEntry, WriteVectorEntry } from '../wire/messages.js';

/** Why a donor refused a request (each maps to a wire error code of the same name). */
export type DonorErrorCode = 'no-space' | 'not-owner' | 'unknown-slab' | 'bad-request';

/** A donor's refusal: a code and a message for the requester's log. */
export class DonorError extends KrdmaError {
  declare readonly code: DonorErrorCode;

  constructor(code: DonorErrorCode, message: string) {
    super(code, message);
    this.name = 'DonorError';
  }
}

/** Options of a {@link DonorService}. */
export interface DonorOptions {
  /** Total bytes this donor lends to all peers together. */
  readonly capacityBytes: number;
  /** Largest single slab in bytes (default: `capacityBytes`). */
  readonly maxSlabBytes?: number;
  /** Most slabs held at once, over all peers (default 65536); bounds the slab table. */
  readonly maxSlabs?: number;
  /** Free all of a peer's slabs when that peer is gone (default true). */
  readonly freeOnPeerLoss?: boolean;
  /** Allocator of slab memory (default zero-filled `new Uint8Array`); must return zeroed memory. */
  readonly allocateSlab?: (sizeBytes: number) => Uint8Array;
  /**
   * Memory that slabs are carved from when it is not the JS heap (RDMA-registered memory that
   * peers access one-sided). Takes precedence over `allocateSlab`; its rkey and address go into
   * the alloc reply.
   */
  readonly slabMemory?: DonorSlabMemory | null;
}

/** One block of slab memory from a {@link DonorSlabMemory}. */
export interface DonorSlabBlock {
  /** The slab's bytes, zeroed. */
  readonly memory: Uint8Array;
  /** Remote key peers use for one-sided access (0: none). */
  readonly rkey: number;
  /** Address of byte 0 for one-sided access (0: none). */
  readonly remoteAddress: number;
}

/**
 * Where a donor's slabs live when peers access them one-sided (registered memory): it hands out
 * zeroed blocks with their rkey and address, and takes them back when slabs are freed.
 */
export interface DonorSlabMemory {
  /** A zeroed block of `sizeBytes`, or a reason why none fits (the donor answers `no-space`). */
  allocate(sizeBytes: number): DonorSlabBlock | string;
  /** Takes back a block's memory (its slab was freed). */
  release(memory: Uint8Array): void;
}

/** A slab a donor lent: its id, size, owner and memory. */
export interface DonorSlab {
  readonly slabId: number;
  readonly sizeBytes: number;
  /** Name of the authenticated peer that allocated it. */
  readonly owner: string;
  /** The slab's bytes (zeroed at allocation). */
  readonly memory: Uint8Array;
  /** Remote key for one-sided access to the slab (0 unless the donor has {@link DonorSlabMemory}). */
  readonly rkey: number;
  /** Address of the slab's byte 0 for one-sided access (0 unless the donor has {@link DonorSlabMemory}). */
  readonly remoteAddress: number;
}

/** A donor's usage figures. */
export interface DonorStats {
  readonly capacityBytes: number;
  readonly usedBytes: number;
  readonly slabCount: number;
  /** Bytes lent to the peer that asked (0 when no peer given). */
  readonly peerUsedBytes: number;
}

const MAX_SLAB_ID = 0xffffffff;

/**
 * The donor service (I/O-free): lends slabs of memory it owns to authenticated peers. It refuses
 * allocations beyond its capacity (`no-space`), serves a peer only the slabs that peer allocated
 * (`not-owner`), bounds-checks every offset and length (`bad-request`), checks every entry of a
 * vectored request before it touches memory (a refused request changes nothing), and frees all
 * of a peer's slabs when the peer is gone (unless configured not to).
 */
export class DonorService {
  readonly capacityBytes: number;
  readonly maxSlabBytes: number;
  readonly maxSlabs: number;
  readonly freeOnPeerLoss: boolean;
  private readonly allocateSlab: (sizeBytes: number) => Uint8Array;
  private readonly slabMemory: DonorSlabMemory | null;
  private readonly slabs = new Map<number, DonorSlab>();
  private readonly usedByOwner = new Map<string, number>();
  private nextSlabId = 1;
  private used = 0;

  constructor(options: DonorOptions) {
    const { capacityBytes } = options;
    const maxSlabBytes = options.maxSlabBytes ?? capacityBytes;
    const maxSlabs = options.maxSlabs ?? 65536;
    for (const [name, value] of [['capacityBytes', capacityBytes], ['maxSlabBytes', maxSlabBytes], ['maxSlabs', maxSlabs]] as const) {
      if (!Number.isSafeInteger(value) || value < 0) {
        throw new KrdmaError('invalid-donor-options', `donor ${name} must be a non-negative integer, got ${value}; fix the donor configuration`);
      }
    }
    this.capacityBytes = capacityBytes;
    this.maxSlabBytes = maxSlabBytes;
    this.maxSlabs = maxSlabs;
    this.freeOnPeerLoss = options.freeOnPeerLoss ?? true;
    this.allocateSlab = options.allocateSlab ?? ((sizeBytes) => new Uint8Array(sizeBytes));
    this.slabMemory = options.slabMemory ?? null;
  }

  /** Bytes lent out now. */
  get usedBytes(): number {
    return this.used;
  }

  /** Lends a zeroed slab of `sizeBytes` to `owner`, or refuses. */
  alloc(owner: string, sizeBytes: number): DonorSlab | DonorError {
    if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0) return new DonorError('bad-request', `slab size must be a positive integer, got ${sizeBytes}`);
    if (sizeBytes > this.maxSlabBytes) return new DonorError('bad-request', `slab of ${sizeBytes} bytes exceeds this donor's largest slab of ${this.maxSlabBytes} bytes; ask for smaller slabs`);
    if (this.used + sizeBytes > this.capacityBytes) {
      return new DonorError('no-space', `donor has ${this.capacityBytes - this.used} of ${this.capacityBytes} bytes free, cannot lend ${sizeBytes}; place the slab on another node`);
    }
    if (this.slabs.size >= this.maxSlabs) return new DonorError('no-space', `donor holds its maximum of ${this.maxSlabs} slabs; place the slab on another node`);
    let block: DonorSlabBlock;
    if (this.slabMemory !== null) {
      const got = this.slabMemory.allocate(sizeBytes);
      if (typeof got === 'string') return new DonorError('no-space', `${got}; place the slab on another node`);
      block = got;
    } else {
      block = { memory: this.allocateSlab(sizeBytes), rkey: 0, remoteAddress: 0 };
    }
    const slabId = this.takeSlabId();
    const slab: DonorSlab = { slabId, sizeBytes, owner, memory: block.memory, rkey: block.rkey, remoteAddress: block.remoteAddress };
    this.slabs.set(slabId, slab);
    this.used += sizeBytes;
    this.usedByOwner.set(owner, (this.usedByOwner.get(owner) ?? 0) + sizeBytes);
    return slab;
  }

  /** Frees one of `owner`'s slabs, or refuses. */
  free(owner: string, slabId: number): DonorError | null {
    const slab = this.owned(owner, slabId);
    if (slab instanceof DonorError) return slab;
    this.release(slab);
    return null;
  }

  /** A view of `lengthBytes` at `offsetBytes` of one of `owner`'s slabs (valid until the slab is freed), or a refusal. */
  read(owner: string, slabId: number, offsetBytes: number, lengthBytes: number): Uint8Array | DonorError {
    const slab = this.checkRange(owner, slabId, offsetBytes, lengthBytes);
    if (slab instanceof DonorError) return slab;
    return slab.memory.subarray(offsetBytes, offsetBytes + lengthBytes);
  }

  /** Copies `data` to `offsetBytes` of one of `owner`'s slabs, or refuses (and writes nothing). */
  write(owner: string, slabId: number, offsetBytes: number, data: Uint8Array): DonorError | null {
    const slab = this.checkRange(owner, slabId, offsetBytes, data.length);
    if (slab instanceof DonorError) return slab;
    slab.memory.set(data, offsetBytes);
    return null;
  }

  /** Views of every entry, or the first refusal. */
  readv(owner: string, entries: readonly ReadVectorEntry[]): Uint8Array[] | DonorError {
    const views: Uint8Array[] = new Array(entries.length);
    for (let i = 0; i < entries.length; i++) {
      const { slabId, offsetBytes, lengthBytes } = entries[i];
      const view = this.read(owner, slabId, offsetBytes, lengthBytes);
      if (view instanceof DonorError) return view;
      views[i] = view;
    }
    return views;
  }

  /** Checks every entry first, then writes them all; a refusal writes nothing. */
  writev(owner: string, entries: readonly WriteVectorEntry[]): DonorError | null {
    const targets: DonorSlab[] = new Array(entries.length);
    for (let i = 0; i < entries.length; i++) {
      const { slabId, offsetBytes, data } = entries[i];
      const slab = this.checkRange(owner, slabId, offsetBytes, data.length);
      if (slab instanceof DonorError) return slab;
      targets[i] = slab;
    }
    for (let i = 0; i < entries.length; i++) targets[i].memory.set(entries[i].data, entries[i].offsetBytes);
    return null;
  }

  /** Usage figures; `owner` selects whose `peerUsedBytes` to report. */
  stats(owner?: string): DonorStats {
    return {
      capacityBytes: this.capacityBytes,
      usedBytes: this.used,
      slabCount: this.slabs.size,
      peerUsedBytes: owner === undefined ? 0 : (this.usedByOwner.get(owner) ?? 0),
    };
  }

  /** The slabs lent to `owner`. */
  slabsOf(owner: string): DonorSlab[] {
    return [...this.slabs.values()].filter((slab) => slab.owner === owner);
  }

  /** The peer is gone: frees its slabs if `freeOnPeerLoss`; returns the bytes freed. */
  peerGone(owner: string): number {
    return this.freeOnPeerLoss ? this.releaseAll(owner) : 0;
  }

  /** Frees every slab lent to `owner`; returns the bytes freed. */
  releaseAll(owner: string): number {
    let freed = 0;
    for (const slab of this.slabsOf(owner)) {
      freed += slab.sizeBytes;
      this.release(slab);
    }
    return freed;
  }

  private owned(owner: string, slabId: number): DonorSlab | DonorError {
    const slab = this.slabs.get(slabId);
    if (slab === undefined) return new DonorError('unknown-slab', `slab ${slabId} is not allocated on this donor (freed, or lost in a restart)`);
    if (slab.owner !== owner) return new DonorError('not-owner', `slab ${slabId} was not allocated by "${owner}"; a peer may only use its own slabs`);
    return slab;
  }

  private checkRange(owner: string, slabId: number, offsetBytes: number, lengthBytes: number): DonorSlab | DonorError {
    const slab = this.owned(owner, slabId);
    if (slab instanceof DonorError) return slab;
    if (!Number.isSafeInteger(offsetBytes) || offsetBytes < 0 || !Number.isSafeInteger(lengthBytes) || lengthBytes < 0 || offsetBytes + lengthBytes > slab.sizeBytes) {
      return new DonorError('bad-request', `range [${offsetBytes}, +${lengthBytes}) is outside slab ${slabId} of ${slab.sizeBytes} bytes`);
    }
    return slab;
  }

  private release(slab: DonorSlab): void {
    this.slabs.delete(slab.slabId);
    this.slabMemory?.release(slab.memory);
    this.used -= slab.sizeBytes;
    const left = (this.usedByOwner.get(slab.owner) ?? 0) - slab.sizeBytes;
    if (left > 0) this.usedByOwner.set(slab.owner, left);
    else this.usedByOwner.delete(slab.owner);
  }

  private takeSlabId(): number {
    // Ids grow and wrap at 2^32 - 1, skipping ids in use (the table is bounded by maxSlabs, so this ends).
    for (;;) {
      const id = this.nextSlabId;
      this.nextSlabId = id >= MAX_SLAB_ID ? 1 : id + 1;
      if (!this.slabs.has(id)) return id;
    }
  }
}
