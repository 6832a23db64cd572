// Registered staging memory. RDMA reads and writes go between registered staging buffers and a
// remote MR; callers' buffers are copied in and out. Never register a userfaultfd range (pinning
// faults in every page) or a JS-heap buffer (it can move). Memory comes from posix_memalign
// (page-aligned, owned by native code) and is freed after ibv_dereg_mr.
import koffi from 'koffi';
import { IbvAccess } from './abi.js';
import { callError } from './errors.js';
import type { NativePointer, VerbsLibrary } from './library.js';
import { verbsTypes } from './structs.js';

/** A block of native memory registered with the NIC. */
export interface RegisteredBuffer {
  /** Start address (what goes in an SGE or is advertised to the peer). */
  readonly address: NativePointer;
  readonly sizeBytes: number;
  /** A Buffer over the native memory (no copy). Do not use it after `release()`. */
  readonly bytes: Buffer;
  readonly lkey: number;
  readonly rkey: number;
  /** Deregisters and frees the memory. Idempotent. */
  release(): void;
}

/** Registers staging memory: with a PD on a device, or with a fake NIC in tests. */
export interface MemoryRegistrar {
  /** Allocates `sizeBytes` of page-aligned native memory and registers it with `access` (IbvAccess bits). */
  register(sizeBytes: number, access: number): RegisteredBuffer;
}

/** Local access plus remote read and write: what a donor region and the staging areas need. */
export const ACCESS_ALL = IbvAccess.LOCAL_WRITE | IbvAccess.REMOTE_READ | IbvAccess.REMOTE_WRITE;

/** Page-aligned native memory (posix_memalign/free from libc). */
export interface NativeBlock {
  readonly address: NativePointer;
  readonly sizeBytes: number;
  readonly bytes: Buffer;
  free(): void;
}

interface Libc {
  posix_memalign: (out: [NativePointer | null], alignment: number, size: number) => number;
  free: (p: NativePointer) => void;
}
let libc: Libc | null = null;

function loadLibc(): Libc {
  if (libc === null) {
    const lib = koffi.load('libc.so.6');
    libc = {
      posix_memalign: lib.func('int posix_memalign(_Out_ void **memptr, size_t alignment, size_t size)'),
      free: lib.func('void free(void *p)'),
    };
  }
  return libc;
}

/** Allocates `sizeBytes` (> 0) of zeroed, page-aligned native memory. */
export function allocNativeBlock(sizeBytes: number, alignmentBytes = 4096): NativeBlock {
  const c = loadLibc();
  const out: [NativePointer | null] = [null];
  const rc = c.posix_memalign(out, alignmentBytes, sizeBytes);
  const address = out[0];
  if (rc !== 0 || address === null) throw callError(`posix_memalign(${sizeBytes})`, rc, 'out of memory');
  const bytes = Buffer.from(koffi.view(address, sizeBytes));
  bytes.fill(0);
  let freed = false;
  return {
    address,
    sizeBytes,
    bytes,
    free: () => {
      if (freed) return;
      freed = true;
      c.free(address);
    },
  };
}

/** Registers memory with a protection domain through ibv_reg_mr. */
export class VerbsMemoryRegistrar implements MemoryRegistrar {
  constructor(
    private readonly lib: VerbsLibrary,
    private readonly pd: NativePointer,
  ) {}

  register(sizeBytes: number, access: number): RegisteredBuffer {
    const block = allocNativeBlock(sizeBytes);
    const mr = this.lib.ibv_reg_mr(this.pd, block.address, sizeBytes, access);
    if (mr === null) {
      const errno = koffi.errno();
      block.free();
      throw callError(`ibv_reg_mr(${sizeBytes} bytes)`, errno, 'check `ulimit -l` (locked memory) and the device limits');
    }
    const fields = koffi.decode(mr, verbsTypes().structs.ibv_mr) as { lkey: number; rkey: number };
    const lib = this.lib;
    let released = false;
    return {
      address: block.address,
      sizeBytes,
      bytes: block.bytes,
      lkey: fields.lkey,
      rkey: fields.rkey,
      release: () => {
        if (released) return;
        released = true;
        lib.ibv_dereg_mr(mr);
        block.free();
      },
    };
  }
}
