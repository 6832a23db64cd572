// The module's `performance`, not the global: in a worker the global is a lazy accessor that runs
// a getter on every use (visible in the pager's profile).
import { performance } from 'node:perf_hooks';
import { libc } from '../native/libc.js';

/** `struct pollfd` is 8 bytes: int fd, short events, short revents. */
const POLLFD_BYTES = 8;
const POLLIN = 1;

/** Options of {@link FaultLinger}. */
export interface FaultLingerOptions {
  /** How long to wait in the blocking poll for the next fault before going back to the loop (ms). */
  readonly lingerMs: number;
  /** Longest stretch served without a turn of the event loop, so timers and sockets never starve (ms). */
  readonly maxTurnMs: number;
}

/** Defaults: a fault stream with gaps under 1 ms is served without the loop, for at most 5 ms at a time. */
export const DEFAULT_FAULT_LINGER: FaultLingerOptions = { lingerMs: 1, maxTurnMs: 5 };

/**
 * The pager's fast path between faults. Going back to libuv after every fault costs one event-loop
 * turn (epoll, koffi's poll callback into JS, the loop's phases): about 1.2–1.5 µs of the pager's
 * CPU per fault on the development VM, and with the faulting thread on the same CPU every µs of it
 * is fault latency. So after a drain the pager reads the uffd again at once (the next fault is often
 * queued already) and otherwise waits for it in a blocking `poll` on the uffd itself (design a2 of
 * native.md §3.1), together with the fds that need the loop (the control doorbell, the stop
 * eventfd): any of those, a quiet `lingerMs`, `maxTurnMs` of continuous service, or a handler that
 * has I/O in flight on the loop (`mayBlock()` false: a remote fetch whose reply only the loop can
 * deliver) ends the stretch and returns to libuv, which polls everything again.
 */
export class FaultLinger {
  private readonly pollfds: Buffer;
  private readonly count: number;

  constructor(uffdFd: number, loopFds: readonly number[], private readonly options: FaultLingerOptions = DEFAULT_FAULT_LINGER) {
    const fds = [uffdFd, ...loopFds];
    this.count = fds.length;
    this.pollfds = Buffer.alloc(fds.length * POLLFD_BYTES);
    fds.forEach((fd, i) => {
      this.pollfds.writeInt32LE(fd, i * POLLFD_BYTES);
      this.pollfds.writeInt16LE(POLLIN, i * POLLFD_BYTES + 4);
    });
  }

  /**
   * Serves faults with `drain` while they keep coming (call it after the loop's own drain). Returns
   * the number of messages drained here.
   */
  serve(drain: () => number, mayBlock: () => boolean): number {
    if (this.options.lingerMs <= 0) return 0;
    const deadline = performance.now() + this.options.maxTurnMs;
    const poll = libc().poll;
    const b = this.pollfds;
    let handled = 0;
    while (mayBlock()) {
      // Read first: with the faulting thread on this CPU, its next fault is usually queued by the
      // time the previous one's wake-up returns, and the read saves a poll.
      let n = drain();
      if (n === 0) {
        // revents (a short at byte 6 of each pollfd), cleared and read with plain byte access:
        // Buffer's validated accessors cost more than the rest of this loop.
        for (let i = 0; i < this.count; i++) b[i * POLLFD_BYTES + 6] = b[i * POLLFD_BYTES + 7] = 0;
        const ready = poll(b, this.count, this.options.lingerMs);
        if (ready <= 0) break; // quiet (or EINTR): the loop takes over
        for (let i = 1; i < this.count; i++) if ((b[i * POLLFD_BYTES + 6] | b[i * POLLFD_BYTES + 7]) !== 0) return handled;
        n = drain();
        if (n === 0) break; // nothing to read after all: let the loop look
      }
      handled += n;
      if (performance.now() >= deadline) break;
    }
    return handled;
  }
}
