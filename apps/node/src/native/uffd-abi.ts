/**
 * userfaultfd ABI for x86-64 (native.md §2.2–2.3). Numbers are hardcoded because Debian 12's 6.1
 * headers lack MOVE and POISON (pitfall P9); support is probed at run time through UFFDIO_API.
 */

export const UFFD_API = 0xaa;

/** ioctl request numbers. */
export const UFFDIO = {
  /** On /dev/userfaultfd: creates a userfaultfd (kernel >= 6.1). */
  IOC_NEW: 0x0000aa00,
  API: 0xc018aa3f,
  REGISTER: 0xc020aa00,
  UNREGISTER: 0x8010aa01,
  WAKE: 0x8010aa02,
  COPY: 0xc028aa03,
  ZEROPAGE: 0xc020aa04,
  MOVE: 0xc028aa05,
  WRITEPROTECT: 0xc018aa06,
  CONTINUE: 0xc020aa07,
  POISON: 0xc020aa08,
} as const;

/** Bit numbers (`_UFFDIO_*`) of the `ioctls` masks returned by UFFDIO_API and UFFDIO_REGISTER. */
export const UFFDIO_BIT = {
  REGISTER: 0x00, UNREGISTER: 0x01, WAKE: 0x02, COPY: 0x03, ZEROPAGE: 0x04,
  MOVE: 0x05, WRITEPROTECT: 0x06, CONTINUE: 0x07, POISON: 0x08, API: 0x3f,
} as const;

/** Feature bits of `uffdio_api.features`. */
export const UFFD_FEATURE = {
  PAGEFAULT_FLAG_WP: 1 << 0,
  EVENT_FORK: 1 << 1,
  EVENT_REMAP: 1 << 2,
  EVENT_REMOVE: 1 << 3,
  MISSING_HUGETLBFS: 1 << 4,
  MISSING_SHMEM: 1 << 5,
  EVENT_UNMAP: 1 << 6,
  SIGBUS: 1 << 7,
  THREAD_ID: 1 << 8,
  MINOR_HUGETLBFS: 1 << 9,
  MINOR_SHMEM: 1 << 10,
  EXACT_ADDRESS: 1 << 11,
  WP_HUGETLBFS_SHMEM: 1 << 12,
  WP_UNPOPULATED: 1 << 13,
  POISON: 1 << 14,
  WP_ASYNC: 1 << 15,
  MOVE: 1 << 16,
} as const;

/** Feature names by bit, for printing. */
export type UffdFeatureName = keyof typeof UFFD_FEATURE;

/** Flags for USERFAULTFD_IOC_NEW / userfaultfd(2). Never UFFD_USER_MODE_ONLY (pitfall P7). */
export const UFFD_USER_MODE_ONLY = 1;

export const UFFDIO_REGISTER_MODE = { MISSING: 1, WP: 2, MINOR: 4 } as const;
export const UFFDIO_COPY_MODE = { DONTWAKE: 1, WP: 2 } as const;
export const UFFDIO_ZEROPAGE_MODE_DONTWAKE = 1;
export const UFFDIO_WRITEPROTECT_MODE = { WP: 1, DONTWAKE: 2 } as const;
export const UFFDIO_CONTINUE_MODE = { DONTWAKE: 1, WP: 2 } as const;
export const UFFDIO_MOVE_MODE = { DONTWAKE: 1, ALLOW_SRC_HOLES: 2 } as const;
export const UFFDIO_POISON_MODE_DONTWAKE = 1;

/** `uffd_msg.event` codes. */
export const UFFD_EVENT = { PAGEFAULT: 0x12, FORK: 0x13, REMAP: 0x14, REMOVE: 0x15, UNMAP: 0x16 } as const;

/** `uffd_msg.arg.pagefault.flags` bits. */
export const UFFD_PAGEFAULT_FLAG = { WRITE: 1, WP: 2, MINOR: 4 } as const;

/** Size of one `uffd_msg`. */
export const UFFD_MSG_BYTES = 32;

/** Struct sizes (bytes) of the ioctl arguments. */
export const UFFDIO_ARG_BYTES = {
  API: 24, RANGE: 16, REGISTER: 32, COPY: 40, ZEROPAGE: 32, WRITEPROTECT: 24, CONTINUE: 32, MOVE: 40, POISON: 32,
} as const;
