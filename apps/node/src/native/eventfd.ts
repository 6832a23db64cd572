import { check, close, eventfd, libc } from './libc.js';
import { EFD_CLOEXEC, EFD_NONBLOCK } from './constants.js';

/**
 * A nonblocking eventfd used as a doorbell or stop signal between threads. The fd number is
 * process-wide, so a worker can build its own `EventFd.fromFd(n)` to read or ring it.
 */
export class EventFd {
  private readonly buf = Buffer.alloc(8);

  private constructor(readonly fd: number, private owned: boolean) {}

  /** Creates a new nonblocking, close-on-exec eventfd owned by the caller. */
  static create(): EventFd {
    return new EventFd(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC), true);
  }

  /** Wraps an fd created elsewhere (another thread); `close()` will not close it. */
  static fromFd(fd: number): EventFd {
    return new EventFd(fd, false);
  }

  /** Adds 1 to the counter, waking a poller. Never blocks (the counter cannot overflow in practice). */
  ring(): void {
    this.buf.writeBigUInt64LE(1n, 0);
    check(libc().write(this.fd, this.buf, 8), 'write(eventfd)');
  }

  /** Reads and resets the counter; returns 0 when it was 0 (EAGAIN). */
  drain(): number {
    const n = libc().read(this.fd, this.buf, 8);
    if (n === 8) return Number(this.buf.readBigUInt64LE(0));
    return 0;
  }

  /** Closes the fd if this object created it. Idempotent. */
  close(): void {
    if (!this.owned) return;
    this.owned = false;
    close(this.fd);
  }
}
