import koffi from 'koffi';
import { lastError } from './errors.js';

/**
 * Raw libc functions, declared once per thread (koffi declarations are per isolate) and cached.
 * Addresses are plain Numbers (`uintptr_t`): user-space addresses on x86-64 are below 2^47, so
 * they are exact, cheap to do arithmetic on, and need no BigInt. Failures return -1 and leave
 * errno set; the checked wrappers below turn them into {@link NativeError}s.
 */
export interface LibcRaw {
  mmap(addr: number, lengthBytes: number, prot: number, flags: number, fd: number, offsetBytes: number): number;
  munmap(addr: number, lengthBytes: number): number;
  madvise(addr: number, lengthBytes: number, advice: number): number;
  mprotect(addr: number, lengthBytes: number, prot: number): number;
  mincore(addr: number, lengthBytes: number, vec: Buffer): number;
  /** ioctl whose third argument is a buffer (struct); fixed prototype (safe on x86-64 glibc). */
  ioctlBuf(fd: number, request: number, arg: Buffer): number;
  /** ioctl whose third argument is an integer (flags). */
  ioctlInt(fd: number, request: number, arg: number): number;
  open(path: string, flags: number, mode: number): number;
  close(fd: number): number;
  read(fd: number, buf: Buffer, countBytes: number): number;
  write(fd: number, buf: Buffer, countBytes: number): number;
  poll(fds: Buffer, nfds: number, timeoutMs: number): number;
  eventfd(initval: number, flags: number): number;
  sched_setaffinity(pid: number, setSizeBytes: number, mask: Buffer): number;
  sched_getaffinity(pid: number, setSizeBytes: number, mask: Buffer): number;
  sched_getcpu(): number;
  getpid(): number;
  gettid(): number;
  memfd_create(name: string, flags: number): number;
  fallocate(fd: number, mode: number, offsetBytes: number, lengthBytes: number): number;
  ftruncate(fd: number, lengthBytes: number): number;
  memcpy(dst: number, src: number, lengthBytes: number): number;
  /** `syscall(nr, a1)`, fixed prototype (used for `SYS_userfaultfd`). */
  syscall1(nr: number, a1: number): number;
}

let cached: LibcRaw | undefined;

/** The libc bindings of this thread, declared on first use. */
export function libc(): LibcRaw {
  if (cached) return cached;
  const lib = koffi.load('libc.so.6');
  const f = (proto: string) => lib.func(proto) as (...args: unknown[]) => number;
  cached = {
    mmap: f('intptr_t mmap(uintptr_t addr, size_t len, int prot, int flags, int fd, int64_t off)'),
    munmap: f('int munmap(uintptr_t addr, size_t len)'),
    madvise: f('int madvise(uintptr_t addr, size_t len, int advice)'),
    mprotect: f('int mprotect(uintptr_t addr, size_t len, int prot)'),
    mincore: f('int mincore(uintptr_t addr, size_t len, _Out_ uint8_t *vec)'),
    ioctlBuf: f('int ioctl(int fd, unsigned long request, void *arg)'),
    ioctlInt: f('int ioctl(int fd, unsigned long request, unsigned long arg)'),
    open: f('int open(const char *path, int flags, unsigned int mode)'),
    close: f('int close(int fd)'),
    read: f('intptr_t read(int fd, void *buf, size_t count)'),
    write: f('intptr_t write(int fd, const void *buf, size_t count)'),
    poll: f('int poll(void *fds, unsigned long nfds, int timeout)'),
    eventfd: f('int eventfd(unsigned int initval, int flags)'),
    sched_setaffinity: f('int sched_setaffinity(int pid, size_t size, const void *mask)'),
    sched_getaffinity: f('int sched_getaffinity(int pid, size_t size, void *mask)'),
    sched_getcpu: f('int sched_getcpu()'),
    getpid: f('int getpid()'),
    gettid: f('int gettid()'),
    memfd_create: f('int memfd_create(const char *name, unsigned int flags)'),
    fallocate: f('int fallocate(int fd, int mode, int64_t offset, int64_t len)'),
    ftruncate: f('int ftruncate(int fd, int64_t length)'),
    memcpy: f('uintptr_t memcpy(uintptr_t dst, uintptr_t src, size_t n)'),
    syscall1: f('long syscall(long nr, long a1)'),
  };
  return cached;
}

/** Throws the typed error for the current errno when `result` is -1; returns `result` otherwise. */
export function check(result: number, call: string, detail = ''): number {
  if (result === -1) throw lastError(call, detail);
  return result;
}

/** mmap, checked. Returns the mapping's address. */
export function mmap(addr: number, lengthBytes: number, prot: number, flags: number, fd = -1, offsetBytes = 0): number {
  return check(libc().mmap(addr, lengthBytes, prot, flags, fd, offsetBytes), 'mmap', `${lengthBytes} bytes`);
}

/** munmap, checked. */
export function munmap(addr: number, lengthBytes: number): void {
  check(libc().munmap(addr, lengthBytes), 'munmap');
}

/** madvise, checked (MADV_DONTNEED, MADV_REMOVE, ...). */
export function madvise(addr: number, lengthBytes: number, advice: number): void {
  check(libc().madvise(addr, lengthBytes, advice), 'madvise', `advice ${advice}`);
}

/** mprotect, checked. */
export function mprotect(addr: number, lengthBytes: number, prot: number): void {
  check(libc().mprotect(addr, lengthBytes, prot), 'mprotect');
}

/** open, checked. */
export function open(path: string, flags: number, mode = 0): number {
  return check(libc().open(path, flags, mode), 'open', path);
}

/** close, checked. */
export function close(fd: number): void {
  check(libc().close(fd), 'close', `fd ${fd}`);
}

/** eventfd, checked. */
export function eventfd(initval: number, flags: number): number {
  return check(libc().eventfd(initval, flags), 'eventfd');
}

/** memfd_create, checked. */
export function memfdCreate(name: string, flags: number): number {
  return check(libc().memfd_create(name, flags), 'memfd_create', name);
}

/** fallocate, checked (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE punches a hole). */
export function fallocate(fd: number, mode: number, offsetBytes: number, lengthBytes: number): void {
  check(libc().fallocate(fd, mode, offsetBytes, lengthBytes), 'fallocate');
}

/** ftruncate, checked. */
export function ftruncate(fd: number, lengthBytes: number): void {
  check(libc().ftruncate(fd, lengthBytes), 'ftruncate');
}

/**
 * Which pages of `[addr, addr + lengthBytes)` are resident (mincore); one byte per page, bit 0 set
 * when resident. For tests and diagnostics: it never touches the pages.
 */
export function residentPages(addr: number, lengthBytes: number, pageSizeBytes = 4096): Uint8Array {
  const vec = Buffer.alloc(Math.ceil(lengthBytes / pageSizeBytes));
  check(libc().mincore(addr, lengthBytes, vec), 'mincore');
  return new Uint8Array(vec.buffer, vec.byteOffset, vec.length);
}
