import { DvsError } from './errors.js';
import { inSlabBounds, type AllocDone, type Backend, type IoDone } from './types.js';

/** Options of {@link createDramBackend}. */
export interface DramBackendOptions {
  /** Node id reported by the backend (default 'dram'). */
  nodeId?: string;
  /** Upper bound on the bytes of all live slabs. */
  capacityBytes: number;
}

class DramBackend implements Backend {
  private readonly slabs = new Map<number, Uint8Array>();
  private nextSlab = 1;
  private usedBytes = 0;

  constructor(readonly nodeId: string, private readonly capacity: number) {}

  capacityBytes(): number {
    return this.capacity;
  }

  freeBytes(): number {
    return this.capacity - this.usedBytes;
  }

  alloc(sizeBytes: number, done: AllocDone): void {
    if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0) {
      done('error', -1);
      return;
    }
    if (sizeBytes > this.freeBytes()) {
      done('no-space', -1);
      return;
    }
    const slab = this.nextSlab++;
    this.slabs.set(slab, new Uint8Array(sizeBytes));
    this.usedBytes += sizeBytes;
    done('ok', slab);
  }

  free(slab: number): void {
    const bytes = this.slabs.get(slab);
    if (bytes === undefined) return;
    this.slabs.delete(slab);
    this.usedBytes -= bytes.length;
  }

  read(slab: number, offsetBytes: number, into: Uint8Array, done: IoDone): void {
    const bytes = this.slabs.get(slab);
    if (bytes === undefined || !inSlabBounds(offsetBytes, into.length, bytes.length)) {
      done('error');
      return;
    }
    into.set(bytes.subarray(offsetBytes, offsetBytes + into.length));
    done('ok');
  }

  write(slab: number, offsetBytes: number, data: Uint8Array, done: IoDone): void {
    const bytes = this.slabs.get(slab);
    if (bytes === undefined || !inSlabBounds(offsetBytes, data.length, bytes.length)) {
      done('error');
      return;
    }
    bytes.set(data, offsetBytes);
    done('ok');
  }
}

/** A backend of local memory: zeroed slabs allocated on demand, synchronous completions. */
export function createDramBackend(options: DramBackendOptions): Backend {
  const { capacityBytes } = options;
  if (!Number.isSafeInteger(capacityBytes) || capacityBytes < 0) {
    throw new DvsError('invalid-option', `capacityBytes must be a non-negative safe integer, got ${capacityBytes}`);
  }
  return new DramBackend(options.nodeId ?? 'dram', capacityBytes);
}
