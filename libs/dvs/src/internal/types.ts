/** Completion status of a backend or region operation. */
export type IoStatus = 'ok' | 'timeout' | 'peer-lost' | 'rejected' | 'no-space' | 'lost' | 'not-found' | 'error';

/** Uniform random integers; the simulator passes a seeded stream that has this method. */
export interface RandomSource {
  /** A uniform integer in [0, bound). */
  intBelow(bound: number): number;
}

/** Completion of a read or write. */
export type IoDone = (status: IoStatus) => void;

/** Completion of an allocation; `slab` is meaningful only when status is 'ok'. */
export type AllocDone = (status: IoStatus, slab: number) => void;

/**
 * The Backend port: one memory node (or local DRAM). Completions may be called synchronously
 * inside the call or later; callers must handle both. The caller keeps `into` / `data`
 * untouched until the completion.
 */
export interface Backend {
  readonly nodeId: string;
  capacityBytes(): number;
  freeBytes(): number;
  alloc(sizeBytes: number, done: AllocDone): void;
  free(slab: number): void;
  read(slab: number, offsetBytes: number, into: Uint8Array, done: IoDone): void;
  write(slab: number, offsetBytes: number, data: Uint8Array, done: IoDone): void;
}

/** True when [offsetBytes, offsetBytes + lengthBytes) lies inside a slab of `slabBytes`. */
export function inSlabBounds(offsetBytes: number, lengthBytes: number, slabBytes: number): boolean {
  return Number.isSafeInteger(offsetBytes) && offsetBytes >= 0 && offsetBytes + lengthBytes <= slabBytes;
}
