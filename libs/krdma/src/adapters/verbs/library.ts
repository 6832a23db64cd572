// Loading libibverbs.so.1 and binding its exported (non-inline) verbs. Pointers are BigInt
// (koffi 3); a NULL pointer comes back as null. Handles are passed as `void *` and wrapped by
// the classes that own them, so a wrong handle cannot be passed by accident from outside.
import koffi, { type LibraryHandle, type TypeObject } from 'koffi';
import { VerbsError } from './errors.js';
import { verbsTypes } from './structs.js';

/** The shared library the binding loads. */
export const LIBIBVERBS = 'libibverbs.so.1';

/** A native pointer (koffi 3 represents pointers as BigInt). */
export type NativePointer = bigint;

type Fn<A extends unknown[], R> = (...args: A) => R;

/** The bound verbs. Every symbol is an exported, versioned function of libibverbs.so.1. */
export interface VerbsLibrary {
  readonly handle: LibraryHandle;
  ibv_get_device_list: Fn<[numDevices: number[]], NativePointer | null>;
  ibv_free_device_list: Fn<[list: NativePointer], void>;
  ibv_get_device_name: Fn<[device: NativePointer], string | null>;
  ibv_open_device: Fn<[device: NativePointer], NativePointer | null>;
  ibv_close_device: Fn<[context: NativePointer], number>;
  ibv_query_port: Fn<[context: NativePointer, portNum: number, attr: Record<string, unknown>], number>;
  ibv_query_gid: Fn<[context: NativePointer, portNum: number, index: number, gid: Uint8Array], number>;
  ibv_alloc_pd: Fn<[context: NativePointer], NativePointer | null>;
  ibv_dealloc_pd: Fn<[pd: NativePointer], number>;
  ibv_reg_mr: Fn<[pd: NativePointer, addr: NativePointer, length: number, access: number], NativePointer | null>;
  ibv_dereg_mr: Fn<[mr: NativePointer], number>;
  ibv_create_cq: Fn<[context: NativePointer, cqe: number, cqContext: null, channel: null, compVector: number], NativePointer | null>;
  ibv_destroy_cq: Fn<[cq: NativePointer], number>;
  ibv_create_qp: Fn<[pd: NativePointer, initAttr: Record<string, unknown>], NativePointer | null>;
  ibv_destroy_qp: Fn<[qp: NativePointer], number>;
  ibv_modify_qp: Fn<[qp: NativePointer, attr: Record<string, unknown>, attrMask: number], number>;
  ibv_wc_status_str: Fn<[status: number], string | null>;
}

/** Prototypes of every bound symbol (the symbol test checks each one resolves). */
function prototypes(): Record<string, [result: string | TypeObject, args: (string | TypeObject | ReturnType<typeof koffi.out>)[]]> {
  const t = verbsTypes().structs;
  return {
    ibv_get_device_list: ['void *', [koffi.out(koffi.pointer('int'))]],
    ibv_free_device_list: ['void', ['void *']],
    ibv_get_device_name: ['const char *', ['void *']],
    ibv_open_device: ['void *', ['void *']],
    ibv_close_device: ['int', ['void *']],
    ibv_query_port: ['int', ['void *', 'uint8_t', koffi.out(koffi.pointer(t.ibv_port_attr))]],
    ibv_query_gid: ['int', ['void *', 'uint8_t', 'int', 'void *']],
    ibv_alloc_pd: ['void *', ['void *']],
    ibv_dealloc_pd: ['int', ['void *']],
    ibv_reg_mr: ['void *', ['void *', 'void *', 'size_t', 'int']],
    ibv_dereg_mr: ['int', ['void *']],
    ibv_create_cq: ['void *', ['void *', 'int', 'void *', 'void *', 'int']],
    ibv_destroy_cq: ['int', ['void *']],
    ibv_create_qp: ['void *', ['void *', koffi.inout(koffi.pointer(t.ibv_qp_init_attr))]],
    ibv_destroy_qp: ['int', ['void *']],
    ibv_modify_qp: ['int', ['void *', koffi.pointer(t.ibv_qp_attr), 'int']],
    ibv_wc_status_str: ['const char *', ['int']],
  };
}

/** Names of every symbol the binding binds with `lib.func` (all must be exported). */
export const BOUND_SYMBOLS: readonly string[] = [
  'ibv_get_device_list', 'ibv_free_device_list', 'ibv_get_device_name', 'ibv_open_device', 'ibv_close_device',
  'ibv_query_port', 'ibv_query_gid', 'ibv_alloc_pd', 'ibv_dealloc_pd', 'ibv_reg_mr', 'ibv_dereg_mr', 'ibv_create_cq',
  'ibv_destroy_cq', 'ibv_create_qp', 'ibv_destroy_qp', 'ibv_modify_qp', 'ibv_wc_status_str',
];

/**
 * Verbs that are `static inline` in verbs.h and therefore NOT exported: they must be reached
 * through the context's ops table (see ops.ts), never bound with `lib.func`.
 */
export const INLINE_VERBS: readonly string[] = ['ibv_post_send', 'ibv_post_recv', 'ibv_poll_cq', 'ibv_req_notify_cq'];

/**
 * Loads a libibverbs build from `path` and binds every symbol of BOUND_SYMBOLS (uncached; use
 * loadVerbsLibrary). Throws `libibverbs-missing` when the library cannot be loaded or lacks a symbol.
 */
export function openVerbsLibrary(path: string): VerbsLibrary {
  let handle: LibraryHandle;
  try {
    handle = koffi.load(path);
  } catch (err) {
    throw new VerbsError(
      'libibverbs-missing',
      `cannot load ${path} (${(err as Error).message}); install libibverbs (Debian/Ubuntu: \`apt-get install libibverbs1 ibverbs-providers\`) or run with \`--transport tcp\``,
    );
  }
  const lib: Record<string, unknown> = { handle };
  try {
    for (const [name, [result, args]] of Object.entries(prototypes())) lib[name] = handle.func(name, result, args);
  } catch (err) {
    throw new VerbsError('libibverbs-missing', `${path} lacks a verb rackmem needs (${(err as Error).message}); install libibverbs1 from rdma-core 28 or newer`);
  }
  return lib as unknown as VerbsLibrary;
}

let cached: VerbsLibrary | null = null;
let loadFailure: VerbsError | null = null;

/** Loads libibverbs.so.1 and binds the verbs (once per process); throws `libibverbs-missing`. */
export function loadVerbsLibrary(): VerbsLibrary {
  if (cached !== null) return cached;
  if (loadFailure !== null) throw loadFailure;
  try {
    cached = openVerbsLibrary(LIBIBVERBS);
  } catch (err) {
    loadFailure = err as VerbsError;
    throw err;
  }
  return cached;
}

/** Whether libibverbs.so.1 can be loaded on this machine (never throws). */
export function verbsLibraryAvailable(): boolean {
  try {
    loadVerbsLibrary();
    return true;
  } catch {
    return false;
  }
}
