// A simulated memory node's donor: slabs of stored bytes lent to named peers, with a capacity,
// ownership and bounds checks (the rules of krdma's DonorService), crash and restart.
//
// Scaling: a simulated page stores an 8-byte "content" (u32 version, u32 page id) instead of its
// 4 KiB. The dvs regions of the simulator use 8 bytes per 4 KiB of real memory (a dvs page of
// 8 x blockPages bytes; slabs of realSlabBytes / 512), so one stored byte stands for
// STORAGE_SCALE = 512 real bytes. Capacities, slab sizes and offsets are in stored bytes; the
// SimFabric charges every transfer for its real size (stored length x its storage scale).

import type { NicStatus } from './nic-model.js';

/** Real bytes per stored (dvs) byte: 4096 real bytes per 8-byte content. */
export const STORAGE_SCALE = 512;
/** Bytes of stored content per 4 KiB page. */
export const CONTENT_BYTES = 8;

/** A slab lent by a memory node. */
export interface SimSlab {
  readonly slabId: number;
  readonly sizeBytes: number;
  /** Name of the peer that allocated it. */
  readonly owner: string;
  readonly memory: Uint8Array;
}

/** One entry of a vectored request as the donor sees it. */
export interface SimVectorEntry {
  readonly slabId: number;
  readonly offsetBytes: number;
  readonly bytes: Uint8Array;
}

/** The usage figures of a memory node (stored bytes), as `stats` reports them. */
export interface SimDonorStats {
  readonly capacityBytes: number;
  readonly usedBytes: number;
  readonly slabCount: number;
  readonly peerUsedBytes: number;
}

/**
 * The storage of one memory node: slabs lent to peers by name. Refusals follow krdma's
 * DonorService: `no-space` beyond the capacity, `rejected` for a slab that is not the asking
 * peer's (`not-owner`), unknown (freed, or lost in a restart) or a range outside the slab; a
 * refused vectored request changes nothing. Slab ids grow across restarts, so a slab of an
 * earlier incarnation is never confused with a new one. `lastReason` says why the last request
 * was refused (for the requester's log).
 */
export class SimMemoryNode {
  readonly slabs = new Map<number, SimSlab>();
  usedBytes = 0;
  down = false;
  /** Restarts so far. */
  incarnation = 0;
  /** Status and reason of the last refusal. */
  lastStatus: NicStatus = 'ok';
  lastReason = '';
  private readonly usedByOwner = new Map<string, number>();
  private nextSlab = 1;

  /**
   * @param nodeId the node's name
   * @param capacityBytes capacity in stored bytes
   * @param storageScale real bytes per stored byte (for `usedRealBytes`)
   */
  constructor(readonly nodeId: string, readonly capacityBytes: number, readonly storageScale = STORAGE_SCALE) {}

  /** Free capacity in stored bytes (0 while crashed). */
  freeBytes(): number {
    return this.down ? 0 : this.capacityBytes - this.usedBytes;
  }

  /** Real bytes held by live slabs. */
  get usedRealBytes(): number {
    return this.usedBytes * this.storageScale;
  }

  /** Crash: every slab is gone. */
  crash(): void {
    this.down = true;
    this.clear();
  }

  /** Restart empty (a new incarnation). */
  restart(): void {
    this.down = false;
    this.incarnation++;
    this.clear();
  }

  /** Lends a zeroed slab to `owner`: its id, or -1 with the status in `lastStatus` and why in `lastReason`. */
  alloc(owner: string, sizeBytes: number): number {
    if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0) return this.refuse('rejected', `slab size must be a positive integer, got ${sizeBytes}`);
    if (this.usedBytes + sizeBytes > this.capacityBytes) {
      return this.refuse('no-space', `memory node ${this.nodeId} has ${this.capacityBytes - this.usedBytes} of ${this.capacityBytes} bytes free, cannot lend ${sizeBytes}; place the slab on another node`);
    }
    const slabId = this.nextSlab++;
    this.slabs.set(slabId, { slabId, sizeBytes, owner, memory: new Uint8Array(sizeBytes) });
    this.usedBytes += sizeBytes;
    this.usedByOwner.set(owner, (this.usedByOwner.get(owner) ?? 0) + sizeBytes);
    return slabId;
  }

  /** Frees one of `owner`'s slabs. */
  free(owner: string, slabId: number): NicStatus {
    const slab = this.owned(owner, slabId);
    if (slab === null) return 'rejected';
    this.release(slab);
    return 'ok';
  }

  /** Copies `into.length` bytes at `offsetBytes` of one of `owner`'s slabs into `into`. */
  read(owner: string, slabId: number, offsetBytes: number, into: Uint8Array): NicStatus {
    const slab = this.inRange(owner, slabId, offsetBytes, into.length);
    if (slab === null) return 'rejected';
    const memory = slab.memory;
    if (into.length <= 16) {
      for (let i = 0; i < into.length; i++) into[i] = memory[offsetBytes + i];
    } else into.set(memory.subarray(offsetBytes, offsetBytes + into.length));
    return 'ok';
  }

  /** Copies `data` to `offsetBytes` of one of `owner`'s slabs. */
  write(owner: string, slabId: number, offsetBytes: number, data: Uint8Array): NicStatus {
    const slab = this.inRange(owner, slabId, offsetBytes, data.length);
    if (slab === null) return 'rejected';
    slab.memory.set(data, offsetBytes);
    return 'ok';
  }

  /** Checks every entry, then reads them all (`bytes` is the destination); a refusal reads nothing. */
  readv(owner: string, entries: readonly SimVectorEntry[]): NicStatus {
    if (!this.checkAll(owner, entries)) return 'rejected';
    for (const e of entries) this.read(owner, e.slabId, e.offsetBytes, e.bytes);
    return 'ok';
  }

  /** Checks every entry, then writes them all; a refusal writes nothing. */
  writev(owner: string, entries: readonly SimVectorEntry[]): NicStatus {
    if (!this.checkAll(owner, entries)) return 'rejected';
    for (const e of entries) this.write(owner, e.slabId, e.offsetBytes, e.bytes);
    return 'ok';
  }

  /** Usage figures; `owner` selects whose `peerUsedBytes` to report. */
  stats(owner: string): SimDonorStats {
    return { capacityBytes: this.capacityBytes, usedBytes: this.usedBytes, slabCount: this.slabs.size, peerUsedBytes: this.usedByOwner.get(owner) ?? 0 };
  }

  /** Frees every slab lent to `owner` (the peer is gone); returns the bytes freed. */
  releaseAll(owner: string): number {
    let freed = 0;
    for (const slab of [...this.slabs.values()]) {
      if (slab.owner !== owner) continue;
      freed += slab.sizeBytes;
      this.release(slab);
    }
    return freed;
  }

  private checkAll(owner: string, entries: readonly SimVectorEntry[]): boolean {
    for (const e of entries) if (this.inRange(owner, e.slabId, e.offsetBytes, e.bytes.length) === null) return false;
    return true;
  }

  private owned(owner: string, slabId: number): SimSlab | null {
    const slab = this.slabs.get(slabId);
    if (slab === undefined) {
      this.refuse('rejected', `slab ${slabId} is not allocated on memory node ${this.nodeId} (freed, or lost in a restart)`);
      return null;
    }
    if (slab.owner !== owner) {
      this.refuse('rejected', `slab ${slabId} was not allocated by "${owner}"; a peer may only use its own slabs`);
      return null;
    }
    return slab;
  }

  private inRange(owner: string, slabId: number, offsetBytes: number, lengthBytes: number): SimSlab | null {
    const slab = this.owned(owner, slabId);
    if (slab === null) return null;
    if (!Number.isSafeInteger(offsetBytes) || offsetBytes < 0 || offsetBytes + lengthBytes > slab.sizeBytes) {
      this.refuse('rejected', `range [${offsetBytes}, +${lengthBytes}) is outside slab ${slabId} of ${slab.sizeBytes} bytes`);
      return null;
    }
    return slab;
  }

  private refuse(status: NicStatus, reason: string): -1 {
    this.lastStatus = status;
    this.lastReason = reason;
    return -1;
  }

  private release(slab: SimSlab): void {
    this.slabs.delete(slab.slabId);
    this.usedBytes -= slab.sizeBytes;
    const left = (this.usedByOwner.get(slab.owner) ?? 0) - slab.sizeBytes;
    if (left > 0) this.usedByOwner.set(slab.owner, left);
    else this.usedByOwner.delete(slab.owner);
  }

  private clear(): void {
    this.slabs.clear();
    this.usedByOwner.clear();
    this.usedBytes = 0;
  }
}
