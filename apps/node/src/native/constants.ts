/** Linux x86-64 constants used by the bindings (from the glibc and kernel uapi headers). */

/** Size of a base page on x86-64. */
export const PAGE_SIZE_BYTES = 4096;

export const PROT_NONE = 0;
export const PROT_READ = 1;
export const PROT_WRITE = 2;

export const MAP_SHARED = 0x01;
export const MAP_PRIVATE = 0x02;
export const MAP_FIXED = 0x10;
export const MAP_ANONYMOUS = 0x20;
export const MAP_NORESERVE = 0x4000;

export const MADV_DONTNEED = 4;
export const MADV_REMOVE = 9;
export const MADV_NOHUGEPAGE = 15;

export const O_RDONLY = 0;
export const O_WRONLY = 1;
export const O_RDWR = 2;
export const O_CREAT = 0o100;
export const O_TRUNC = 0o1000;
export const O_NONBLOCK = 0o4000;
export const O_CLOEXEC = 0o2000000;

export const EFD_CLOEXEC = O_CLOEXEC;
export const EFD_NONBLOCK = O_NONBLOCK;

export const POLLIN = 0x001;
export const POLLERR = 0x008;
export const POLLHUP = 0x010;

export const MFD_CLOEXEC = 1;

export const FALLOC_FL_KEEP_SIZE = 1;
export const FALLOC_FL_PUNCH_HOLE = 2;

/** `SYS_userfaultfd` on x86-64. */
export const SYS_USERFAULTFD = 323;
