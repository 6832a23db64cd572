import koffi from 'koffi';

/** errno numbers by name, from koffi's table for this platform (ENOSYS = 38, EAGAIN = 11, ...). */
export const ERRNO: Readonly<Record<string, number>> = koffi.os.errno;

const namesByNumber = new Map<number, string>();
for (const [name, value] of Object.entries(ERRNO)) {
  // Aliases (EWOULDBLOCK = EAGAIN, EDEADLOCK = EDEADLK): keep the first, canonical name.
  if (!namesByNumber.has(value)) namesByNumber.set(value, name);
}

/** The symbolic name of an errno number (`'EPERM'`), or `'E<number>'` when unknown. */
export function errnoName(errno: number): string {
  return namesByNumber.get(errno) ?? `E${errno}`;
}

/** What an operator or caller can do about an errno, for error messages. */
const HINTS: Readonly<Record<string, string>> = {
  EPERM: 'run as root or grant the missing capability',
  EACCES: 'check the file mode and owner of the device or file',
  ENOENT: 'the file or device does not exist on this machine',
  ENOMEM: 'the address range is not mapped, or memory is exhausted: check sizes and vm.overcommit settings',
  EINVAL: 'an argument is out of range or not page-aligned: check addresses, lengths and flags',
  EBADF: 'the file descriptor is closed or was never opened: check the object was not used after close()',
  EFAULT: 'a pointer argument points outside the address space: check buffer lengths',
  ENOSYS: 'the kernel lacks this system call: upgrade the kernel or disable the feature',
  ENOTTY: 'the ioctl is not supported by this fd or kernel: probe features first',
  EAGAIN: 'the operation would block or raced with a mapping change: retry',
  EEXIST: 'the target already exists (for userfaultfd: the page is already mapped; wake the waiters instead)',
  EBUSY: 'the resource is busy (for UFFDIO_MOVE: the page is pinned, e.g. by an RDMA MR): use COPY instead',
  ESRCH: 'the target process or mm is gone: the region was closed',
  ENOSPC: 'no space: the mm is exiting or the file system is full',
  EMFILE: 'too many open files: raise the RLIMIT_NOFILE limit or close unused descriptors',
};

/** A failed native call: `code` is the errno name, `errno` its number, `call` what failed. */
export class NativeError extends Error {
  /** The errno name, e.g. `'EPERM'`. */
  readonly code: string;

  constructor(
    /** The libc function or ioctl that failed, e.g. `'mmap'` or `'UFFDIO_COPY'`. */
    readonly call: string,
    /** The errno number. */
    readonly errno: number,
    detail = '',
  ) {
    const code = errnoName(errno);
    const hint = HINTS[code] ?? 'see the man page of this call for what this errno means';
    super(`${call} failed with ${code} (errno ${errno})${detail ? `: ${detail}` : ''}; ${hint}`);
    this.name = 'NativeError';
    this.code = code;
  }
}

/** Reads errno right after a failed call (same thread) and builds the typed error. */
export function lastError(call: string, detail = ''): NativeError {
  return new NativeError(call, koffi.errno(), detail);
}

/** How to allow userfaultfd, for messages and the CLI. */
export const HOW_TO_ALLOW_USERFAULTFD =
  'to allow it: run as root; or `sysctl vm.unprivileged_userfaultfd=1`; or give the user read-write ' +
  'access to /dev/userfaultfd (e.g. a udev rule: KERNEL=="userfaultfd", GROUP="rackmem", MODE="0660"); ' +
  'the kernel must be built with CONFIG_USERFAULTFD=y';

/** userfaultfd cannot be created by this process (not permitted, or not built into the kernel). */
export class UserfaultfdUnavailableError extends Error {
  readonly code = 'userfaultfd-unavailable';

  constructor(
    /** Why, e.g. `/dev/userfaultfd: EACCES; userfaultfd(2): EPERM`. */
    readonly reason: string,
  ) {
    super(`userfaultfd is not available (${reason}); ${HOW_TO_ALLOW_USERFAULTFD}`);
    this.name = 'UserfaultfdUnavailableError';
  }
}
