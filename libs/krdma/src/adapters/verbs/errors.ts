import { KrdmaError } from '../../internal/errors.js';

/** Codes of {@link VerbsError}. */
export type VerbsErrorCode =
  /** libibverbs.so.1 could not be loaded (install libibverbs1 and ibverbs-providers). */
  | 'libibverbs-missing'
  /** Device discovery found no RDMA device (or the kernel has no RDMA support). */
  | 'no-rdma-device'
  /** A device was named that discovery does not list. */
  | 'device-not-found'
  /** A verbs call failed (the message names the call and errno). */
  | 'verbs-call-failed'
  /** The TCP side channel failed (connect, exchange, close). */
  | 'side-channel-failed'
  /** A wait on the TCP side channel timed out. */
  | 'side-channel-timeout'
  /** The peer sent connection information that does not parse or does not fit. */
  | 'bad-connection-info'
  /** An option is out of range. */
  | 'invalid-option'
  /** The endpoint or transport is closed. */
  | 'closed';

/** A typed error of the verbs binding: a stable `code` and a message that says what to do. */
export class VerbsError extends KrdmaError {
  declare readonly code: VerbsErrorCode;
  /** The errno that went with the failure, when there was one, else 0. */
  readonly errno: number;

  constructor(code: VerbsErrorCode, message: string, errno = 0) {
    super(code, message);
    this.name = 'VerbsError';
    this.errno = errno;
  }
}

const ERRNO_NAMES: Record<number, string> = {
  1: 'EPERM', 2: 'ENOENT', 5: 'EIO', 9: 'EBADF', 11: 'EAGAIN', 12: 'ENOMEM', 13: 'EACCES', 14: 'EFAULT', 16: 'EBUSY',
  19: 'ENODEV', 22: 'EINVAL', 28: 'ENOSPC', 38: 'ENOSYS', 95: 'EOPNOTSUPP', 110: 'ETIMEDOUT',
};

/** `ENOSYS (38)` style text for an errno. */
export function errnoText(errno: number): string {
  const name = ERRNO_NAMES[errno];
  return name === undefined ? `errno ${errno}` : `${name} (${errno})`;
}

/** The typed error for "device discovery found nothing", with the errno's likely cause. */
export function noDeviceError(errno: number): VerbsError {
  const cause =
    errno === 38
      ? `ibv_get_device_list failed with ${errnoText(errno)}: the kernel has no RDMA support (CONFIG_INFINIBAND unset or ib_uverbs not loaded)`
      : errno !== 0
        ? `ibv_get_device_list failed with ${errnoText(errno)}`
        : 'ibv_get_device_list listed no devices (no RDMA NIC, or its driver and ib_uverbs are not loaded)';
  return new VerbsError(
    'no-rdma-device',
    `no RDMA device was found: ${cause}. Check \`ibv_devices\`, or run with \`--transport tcp\` to page over TCP instead.`,
    errno,
  );
}

/** The typed error for a failed verbs call. */
export function callError(call: string, errno: number, hint = ''): VerbsError {
  const tail = hint === '' ? '' : `; ${hint}`;
  return new VerbsError('verbs-call-failed', `${call} failed with ${errnoText(errno)}${tail}`, errno);
}
