/**
 * Page states and per-page flag bits of the page table. States follow the original rack_vm
 * (IDLE, ACTIVE, INACTIVE, NOT_PRESENT, ERROR) plus the transient states that the original hid
 * behind a per-page spinlock held across I/O: a fetch or write-back in flight, or a fault waiting
 * for a frame.
 */
export const PageState = {
  /** Never touched: a first touch needs no read, only a zeroed frame. */
  Idle: 0,
  /** Resident and mapped; on the active FIFO. */
  Active: 1,
  /** Resident, unmapped, with a valid stored copy; on the inactive FIFO (a clean victim). */
  Inactive: 2,
  /** Only in storage. */
  NotPresent: 3,
  /** A read into a frame is in flight (demand or prefetch). */
  Fetching: 4,
  /** Unmapped, write-back in flight or queued; the frame still holds the data. */
  Evicting: 5,
  /** A fault waits for a frame to become free. */
  WaitFrame: 6,
  /** The page could not be restored: every access gets SIGBUS. */
  Poisoned: 7,
  /** Unmapped and queued for write-back (not yet sent); a fault takes it back at once. */
  WritebackQueued: 8,
} as const;
export type PageStateValue = (typeof PageState)[keyof typeof PageState];

/** Names for printing, indexed by state value. */
export const PAGE_STATE_NAMES = ['idle', 'active', 'inactive', 'not-present', 'fetching', 'evicting', 'wait-frame', 'poisoned', 'writeback-queued'] as const;

// Flag bits (one byte per page).
/** Frame content differs from the stored copy, or there is no stored copy. */
export const FLAG_DIRTY = 1;
/** Resident because of a prefetch and not yet accessed. */
export const FLAG_PREFETCHED = 2;
/** A demand fault waits on the fetch in flight. */
export const FLAG_DEMANDED = 4;
/** The write-back in flight moves the page to the inactive list instead of dropping it. */
export const FLAG_TO_INACTIVE = 8;
/** A prefetched page left unmapped on purpose: its soft fault keeps the prefetch stream going. */
export const FLAG_PREFETCH_MARKER = 16;
/** The fetch in flight was issued as a prefetch. */
export const FLAG_PREFETCH_FETCH = 32;
/** The waiting fault was a write. */
export const FLAG_WRITE_PENDING = 64;
/** Storage holds a live copy of this page. */
export const FLAG_REMOTE_VALID = 128;
