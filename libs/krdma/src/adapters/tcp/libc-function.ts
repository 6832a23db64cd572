import koffi from 'koffi';

const cache = new Map<string, unknown>();

/**
 * A libc function through koffi, declared once per thread and cached (koffi declarations are per
 * isolate, and this module is loaded once per isolate); null where libc cannot be loaded this way,
 * and the caller takes the path through Node's socket instead.
 */
export function libcFunction<F>(signature: string): F | null {
  if (cache.has(signature)) return cache.get(signature) as F | null;
  let fn: F | null;
  try {
    fn = koffi.load('libc.so.6').func(signature) as F;
  } catch {
    fn = null;
  }
  cache.set(signature, fn);
  return fn;
}
