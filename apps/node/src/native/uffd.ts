import koffi from 'koffi';
import { lastError, NativeError, ERRNO } from './errors.js';
import { libc } from './libc.js';
import { PAGE_SIZE_BYTES } from './constants.js';
import { createUffdFd, type UffdSource } from './uffd-create.js';
import { getS64, getU32, getU64, putU64 } from './u64.js';
import {
  UFFD_API, UFFD_MSG_BYTES, UFFDIO, UFFDIO_COPY_MODE, UFFDIO_WRITEPROTECT_MODE,
} from './uffd-abi.js';

const EAGAIN = ERRNO.EAGAIN;
const EEXIST = ERRNO.EEXIST;

/** Result of a fill ioctl when the first page already exists: wake the waiters (pitfall P7). */
export const UFFD_EXISTS = -EEXIST;
/** Result of a fill ioctl that made no progress because mappings were changing: retry. */
export const UFFD_RETRY = -EAGAIN;

/** Messages read per `readMessages()` call: 16 × 32 bytes. */
export const UFFD_MAX_MESSAGES = 16;

/** Retries of an EAGAIN before giving up (each retry is a fresh ioctl; they are rare). */
const MAX_EAGAIN_RETRIES = 10_000;

/** What UFFDIO_API reported. */
export interface UffdApiReply {
  /** Features enabled on this fd (those requested). */
  enabledFeatures: number;
  /** Every feature the kernel supports (UFFDIO_API reports all of them). */
  supportedFeatures: number;
  /** Mask of `_UFFDIO_*` bits the fd supports (bit 63 is API; hence a BigInt). */
  ioctls: bigint;
}

/**
 * One userfaultfd. The hot-path ioctls (COPY, ZEROPAGE, WAKE, MOVE, ...) fill a preallocated
 * Buffer per request type and pass it as `void *` (about 0.2 µs, against about 1.4 µs for koffi
 * struct marshalling, pitfall P6). Single-shot operations return bytes done, or
 * {@link UFFD_EXISTS} / {@link UFFD_RETRY}; the `*Range` forms loop over short results, retry
 * EAGAIN and wake pages that already existed. Other errors throw {@link NativeError}.
 * Use the object from one thread only (its buffers are shared between calls).
 */
export class Userfaultfd {
  /** Event code of each message from the last `readMessages()` (UFFD_EVENT_*). */
  readonly msgEvent = new Uint8Array(UFFD_MAX_MESSAGES);
  /** Page-fault flags of each message (WRITE = 1, WP = 2, MINOR = 4). */
  readonly msgFlags = new Uint32Array(UFFD_MAX_MESSAGES);
  /** Faulting address of each message (page-masked). */
  readonly msgAddress = new Float64Array(UFFD_MAX_MESSAGES);
  /** Pages found already present by the last `*Range` call (they were woken). */
  lastExistingPages = 0;

  private readonly msgBuf = Buffer.alloc(UFFD_MAX_MESSAGES * UFFD_MSG_BYTES);
  private readonly copyBuf = Buffer.alloc(40);
  private readonly zeroBuf = Buffer.alloc(32);
  private readonly moveBuf = Buffer.alloc(40);
  private readonly rangeBuf = Buffer.alloc(16);
  private readonly wpBuf = Buffer.alloc(24);
  private readonly misc32 = Buffer.alloc(32);
  private closed = false;
  private api: UffdApiReply = { enabledFeatures: 0, supportedFeatures: 0, ioctls: 0n };

  private constructor(
    /** The fd number (process-wide; a worker may wrap it with `Userfaultfd.adopt`). */
    readonly fd: number,
    /** How it was created. */
    readonly source: UffdSource | 'adopted',
  ) {}

  /**
   * Creates a userfaultfd and performs the UFFDIO_API handshake, enabling `features`
   * (only those the kernel supports are requested; check `enabledFeatures`).
   */
  static open(options: { nonblocking: boolean; features: number }): Userfaultfd {
    const { fd, source } = createUffdFd(options.nonblocking);
    const uffd = new Userfaultfd(fd, source);
    try {
      const probe = uffd.handshake(0, true);
      uffd.close();
      const { fd: fd2 } = createUffdFd(options.nonblocking);
      const real = new Userfaultfd(fd2, source);
      real.handshake(options.features & probe.supportedFeatures, false);
      return real;
    } catch (err) {
      uffd.close();
      throw err;
    }
  }

  /** Wraps an fd on which UFFDIO_API was already done (e.g. handed over by another thread). */
  static adopt(fd: number, api: UffdApiReply): Userfaultfd {
    const uffd = new Userfaultfd(fd, 'adopted');
    uffd.api = api;
    return uffd;
  }

  /**
   * UFFDIO_API, once per fd. With `probeOnly` the reply is recorded but the fd is meant to be
   * thrown away (callers close it): the kernel reports all supported features whatever was asked.
   */
  handshake(features: number, probeOnly: boolean): UffdApiReply {
    const b = Buffer.alloc(24);
    putU64(b, 0, UFFD_API);
    putU64(b, 8, features);
    if (libc().ioctlBuf(this.fd, UFFDIO.API, b) === -1) throw lastError('UFFDIO_API', `features 0x${features.toString(16)}`);
    const supported = getU64(b, 8);
    this.api = { enabledFeatures: probeOnly ? 0 : features, supportedFeatures: supported, ioctls: b.readBigUInt64LE(16) };
    return this.api;
  }

  /** The UFFDIO_API reply of this fd. */
  get apiReply(): UffdApiReply {
    return this.api;
  }

  /** Registers `[start, start + lengthBytes)` (page-aligned) with `mode` (MISSING = 1, WP = 2, MINOR = 4); returns the range's ioctl mask. */
  register(start: number, lengthBytes: number, mode: number): number {
    const b = this.misc32;
    putU64(b, 0, start);
    putU64(b, 8, lengthBytes);
    putU64(b, 16, mode);
    putU64(b, 24, 0);
    if (libc().ioctlBuf(this.fd, UFFDIO.REGISTER, b) === -1) throw lastError('UFFDIO_REGISTER', `${lengthBytes} bytes at 0x${start.toString(16)}, mode ${mode}`);
    return getU64(b, 24);
  }

  /** Unregisters the range: later touches are ordinary faults (zero-fill for anonymous memory). */
  unregister(start: number, lengthBytes: number): void {
    this.rangeIoctl(UFFDIO.UNREGISTER, 'UFFDIO_UNREGISTER', start, lengthBytes);
  }

  /** Wakes the threads waiting on faults in the range (after EEXIST, or after DONTWAKE fills). */
  wake(start: number, lengthBytes: number): void {
    this.rangeIoctl(UFFDIO.WAKE, 'UFFDIO_WAKE', start, lengthBytes);
  }

  /**
   * UFFDIO_COPY, single shot: copies `lengthBytes` from `src` (any address, need not be aligned,
   * must not be uffd-registered) to the page-aligned `dst`. `mode`: DONTWAKE = 1, WP = 2.
   * Returns bytes copied (possibly short), {@link UFFD_EXISTS} or {@link UFFD_RETRY}.
   */
  copy(dst: number, src: number, lengthBytes: number, mode: number): number {
    const b = this.copyBuf;
    putU64(b, 0, dst);
    putU64(b, 8, src);
    putU64(b, 16, lengthBytes);
    putU64(b, 24, mode);
    putU64(b, 32, 0);
    if (libc().ioctlBuf(this.fd, UFFDIO.COPY, b) === 0) return lengthBytes;
    return this.partial(b, 32, 'UFFDIO_COPY', dst);
  }

  /** UFFDIO_ZEROPAGE, single shot (maps the zero page; a later write copies it). Same results as `copy`. */
  zeropage(start: number, lengthBytes: number, mode: number): number {
    const b = this.zeroBuf;
    putU64(b, 0, start);
    putU64(b, 8, lengthBytes);
    putU64(b, 16, mode);
    putU64(b, 24, 0);
    if (libc().ioctlBuf(this.fd, UFFDIO.ZEROPAGE, b) === 0) return lengthBytes;
    return this.partial(b, 24, 'UFFDIO_ZEROPAGE', start);
  }

  /**
   * UFFDIO_MOVE, single shot: moves pages from `src` to `dst` (both private anonymous, same
   * protections; `dst` must be registered with this uffd, pitfall P8). `mode`: DONTWAKE = 1,
   * ALLOW_SRC_HOLES = 2. Returns bytes moved, {@link UFFD_EXISTS} (a destination page is present)
   * or {@link UFFD_RETRY}; EBUSY (pinned page) and ENOENT (hole without ALLOW_SRC_HOLES) throw.
   */
  move(dst: number, src: number, lengthBytes: number, mode: number): number {
    const b = this.moveBuf;
    putU64(b, 0, dst);
    putU64(b, 8, src);
    putU64(b, 16, lengthBytes);
    putU64(b, 24, mode);
    putU64(b, 32, 0);
    if (libc().ioctlBuf(this.fd, UFFDIO.MOVE, b) === 0) return lengthBytes;
    return this.partial(b, 32, 'UFFDIO_MOVE', dst);
  }

  /** UFFDIO_POISON, single shot: later accesses get SIGBUS. Same results as `copy`. */
  poison(start: number, lengthBytes: number, mode: number): number {
    return this.rangeModeResult(UFFDIO.POISON, 'UFFDIO_POISON', start, lengthBytes, mode);
  }

  /** UFFDIO_CONTINUE, single shot (MINOR mode, shmem / hugetlbfs): maps the existing page-cache page. */
  continue(start: number, lengthBytes: number, mode: number): number {
    return this.rangeModeResult(UFFDIO.CONTINUE, 'UFFDIO_CONTINUE', start, lengthBytes, mode);
  }

  /** UFFDIO_WRITEPROTECT: `protect` sets write protection, otherwise removes it (and wakes, unless `dontWake`). */
  writeProtect(start: number, lengthBytes: number, protect: boolean, dontWake = false): void {
    const b = this.wpBuf;
    putU64(b, 0, start);
    putU64(b, 8, lengthBytes);
    putU64(b, 16, (protect ? UFFDIO_WRITEPROTECT_MODE.WP : 0) | (dontWake ? UFFDIO_WRITEPROTECT_MODE.DONTWAKE : 0));
    for (let tries = 0; ; tries++) {
      if (libc().ioctlBuf(this.fd, UFFDIO.WRITEPROTECT, b) === 0) return;
      const errno = koffi.errno();
      if (errno !== EAGAIN || tries >= MAX_EAGAIN_RETRIES) throw new NativeError('UFFDIO_WRITEPROTECT', errno);
    }
  }

  /**
   * COPY of a whole range: loops over short copies, retries EAGAIN, skips (and wakes, unless
   * DONTWAKE) pages that already exist. Returns bytes newly installed; `lastExistingPages` says
   * how many pages were already there.
   */
  copyRange(dst: number, src: number, lengthBytes: number, mode: number): number {
    this.lastExistingPages = 0;
    let done = 0;
    let retries = 0;
    let installed = 0;
    while (done < lengthBytes) {
      const r = this.copy(dst + done, src + done, lengthBytes - done, mode);
      if (r > 0) {
        done += r;
        installed += r;
      } else if (r === UFFD_EXISTS) {
        this.lastExistingPages++;
        if (!(mode & UFFDIO_COPY_MODE.DONTWAKE)) this.wake(dst + done, PAGE_SIZE_BYTES);
        done += PAGE_SIZE_BYTES;
      } else if (++retries > MAX_EAGAIN_RETRIES) {
        throw new NativeError('UFFDIO_COPY', EAGAIN, `still EAGAIN after ${MAX_EAGAIN_RETRIES} retries`);
      }
    }
    return installed;
  }

  /** ZEROPAGE of a whole range, with the same looping as `copyRange`. */
  zeropageRange(start: number, lengthBytes: number, mode: number): number {
    this.lastExistingPages = 0;
    let done = 0;
    let retries = 0;
    let installed = 0;
    while (done < lengthBytes) {
      const r = this.zeropage(start + done, lengthBytes - done, mode);
      if (r > 0) {
        done += r;
        installed += r;
      } else if (r === UFFD_EXISTS) {
        this.lastExistingPages++;
        if (!(mode & 1)) this.wake(start + done, PAGE_SIZE_BYTES);
        done += PAGE_SIZE_BYTES;
      } else if (++retries > MAX_EAGAIN_RETRIES) {
        throw new NativeError('UFFDIO_ZEROPAGE', EAGAIN, `still EAGAIN after ${MAX_EAGAIN_RETRIES} retries`);
      }
    }
    return installed;
  }

  /**
   * Reads pending messages without blocking (the fd must be O_NONBLOCK): up to 16 per call,
   * parsed into `msgEvent`, `msgFlags`, `msgAddress`. Returns how many; 0 when none (EAGAIN).
   */
  readMessages(): number {
    const n = libc().read(this.fd, this.msgBuf, this.msgBuf.length);
    if (n <= 0) {
      if (n === 0) return 0;
      const errno = koffi.errno();
      if (errno === EAGAIN) return 0;
      throw new NativeError('read(userfaultfd)', errno);
    }
    const count = (n / UFFD_MSG_BYTES) | 0;
    const b = this.msgBuf;
    for (let i = 0; i < count; i++) {
      const o = i * UFFD_MSG_BYTES;
      this.msgEvent[i] = b[o];
      this.msgFlags[i] = getU32(b, o + 8);
      this.msgAddress[i] = getU64(b, o + 16);
    }
    return count;
  }

  /** Closes the fd (pending faults are woken and retried as ordinary faults). Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    libc().close(this.fd);
  }

  /** True once `close()` was called. */
  get isClosed(): boolean {
    return this.closed;
  }

  private rangeIoctl(request: number, name: string, start: number, lengthBytes: number): void {
    const b = this.rangeBuf;
    putU64(b, 0, start);
    putU64(b, 8, lengthBytes);
    if (libc().ioctlBuf(this.fd, request, b) === -1) throw lastError(name, `${lengthBytes} bytes at 0x${start.toString(16)}`);
  }

  private rangeModeResult(request: number, name: string, start: number, lengthBytes: number, mode: number): number {
    const b = this.misc32;
    putU64(b, 0, start);
    putU64(b, 8, lengthBytes);
    putU64(b, 16, mode);
    putU64(b, 24, 0);
    if (libc().ioctlBuf(this.fd, request, b) === 0) return lengthBytes;
    return this.partial(b, 24, name, start);
  }

  /** After a failed fill ioctl: progress if any, else EEXIST / EAGAIN as results, else throw. */
  private partial(b: Buffer, resultOffset: number, name: string, at: number): number {
    const errno = koffi.errno();
    const progress = getS64(b, resultOffset);
    if (progress > 0) return progress;
    if (errno === EEXIST) return UFFD_EXISTS;
    if (errno === EAGAIN) return UFFD_RETRY;
    throw new NativeError(name, errno, `at 0x${at.toString(16)}`);
  }
}
