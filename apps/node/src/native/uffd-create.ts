import koffi from 'koffi';
import { errnoName, UserfaultfdUnavailableError } from './errors.js';
import { libc } from './libc.js';
import { O_CLOEXEC, O_NONBLOCK, O_RDWR, SYS_USERFAULTFD } from './constants.js';
import { UFFDIO } from './uffd-abi.js';

/** How the fd was obtained. */
export type UffdSource = 'device' | 'syscall';

/**
 * Creates a raw userfaultfd: `/dev/userfaultfd` + USERFAULTFD_IOC_NEW first (kernel >= 6.1,
 * access by file mode), then `syscall(SYS_userfaultfd)` (needs root or CAP_SYS_PTRACE unless
 * vm.unprivileged_userfaultfd=1). Never passes UFFD_USER_MODE_ONLY (pitfall P7): Node hands user
 * buffers to syscalls, and with that flag a fault inside a syscall fails with EFAULT.
 * Throws {@link UserfaultfdUnavailableError} naming both failures.
 */
export function createUffdFd(nonblocking: boolean): { fd: number; source: UffdSource } {
  const c = libc();
  const flags = O_CLOEXEC | (nonblocking ? O_NONBLOCK : 0);
  let deviceReason: string;
  const dev = c.open('/dev/userfaultfd', O_RDWR | O_CLOEXEC, 0);
  if (dev >= 0) {
    const fd = c.ioctlInt(dev, UFFDIO.IOC_NEW, flags);
    const errno = koffi.errno();
    c.close(dev);
    if (fd >= 0) return { fd, source: 'device' };
    deviceReason = `/dev/userfaultfd USERFAULTFD_IOC_NEW: ${errnoName(errno)}`;
  } else {
    deviceReason = `/dev/userfaultfd: ${errnoName(koffi.errno())}`;
  }
  const fd = c.syscall1(SYS_USERFAULTFD, flags);
  if (fd >= 0) return { fd, source: 'syscall' };
  throw new UserfaultfdUnavailableError(`${deviceReason}; userfaultfd(2): ${errnoName(koffi.errno())}`);
}
