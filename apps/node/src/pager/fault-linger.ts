// The module's `performance`, not the global: in a worker the global is a lazy accessor that runs
// a getter on every use (visible in the pager's profile).
import { performance } from 'node:perf_hooks';
import type { DirectReceiver } from '@rackmem/krdma';
import { libc } from '../native/libc.js';
import { PAGER_COUNTER, type PagerCounters } from './stats.js';

/** `struct pollfd` is 8 bytes: int fd, short events, short revents. */
const POLLFD_BYTES = 8;
const POLLIN = 1;
/** Storage waits that outlast the spin this many times in a row mean the round trip is longer than `spinUs`... */
const SPIN_BACKOFF_MISSES = 8;
/** ...so the next this many waits sleep at once, then the spin is tried again. */
const SPIN_BACKOFF_WAITS = 64;

/** Options of {@link FaultLinger}. */
export interface FaultLingerOptions {
  /** How long to wait in the blocking poll for the next fault or reply before going back to the loop (ms). */
  readonly lingerMs: number;
  /** Longest stretch served without a turn of the event loop, so timers and sockets never starve (ms). */
  readonly maxTurnMs: number;
  /** Read storage replies in the same poll (TCP storage; see {@link DirectReceiver}). */
  readonly storageReplies: boolean;
  /**
   * While a faulting thread waits for a storage reply, poll without sleeping for up to this long
   * before the blocking poll (µs; 0: always sleep). Needs `storageReplies`.
   */
  readonly spinUs: number;
}

/**
 * Defaults: a fault stream with gaps under 1 ms is served without the loop, for at most 5 ms at a
 * time; a thread waiting for a page over TCP is watched for up to 100 µs without sleeping (a
 * loopback or in-rack round trip).
 */
export const DEFAULT_FAULT_LINGER: FaultLingerOptions = { lingerMs: 1, maxTurnMs: 5, storageReplies: true, spinUs: 100 };

/**
 * The pager's fast path between faults. Going back to libuv after every fault costs one event-loop
 * turn (epoll, koffi's poll callback into JS, which builds an events object per call, the loop's
 * phases): about 1.5 µs of the pager's CPU per wake-up on the development VM, and with the
 * faulting thread on the same CPU every µs of it is fault latency. A reply read by the loop costs
 * as much again (libuv's read path and Node's stream callback). So after a drain the pager reads
 * the uffd again at once (the next fault is often queued already) and otherwise waits in a
 * blocking `poll` on the uffd itself (design a2 of native.md §3.1), together with
 *  - the storage connections (`io`, when the handler has them): a readable one is read and its
 *    replies complete here, so a remote fault is served without the loop too;
 *  - the fds that need the loop (the control doorbell, the stop eventfd).
 * Any loop fd, a quiet `lingerMs`, `maxTurnMs` of continuous service, a connection the loop must
 * take over (end of stream, error), or a handler that has I/O in flight that only the loop can
 * complete (`mayBlock()` false) ends the stretch and returns to libuv, which polls everything.
 * Microtasks do not run in here: before each sleep `io.endTurn()` does the end-of-turn work that
 * would wait for them (queued writes, batched completions).
 *
 * While a faulting thread waits for a storage reply, the pager first polls without sleeping, for
 * at most `spinUs`. On the development VM (guest halt-polling off) a pager that sleeps lets its
 * CPU halt, and the reply then pays for waking a halted vCPU: about half of a remote fault's
 * time, pinned (A/B: 110 against 55 µs per fault over loopback TCP). The spin costs CPU only
 * while a thread is blocked on the page anyway, and at most `spinUs` per wait; where replies keep
 * taking longer than that (a slow network), it backs off: after 8 waits in a row that outlasted
 * it, the next 64 sleep at once.
 */
export class FaultLinger {
  private pollfds: Buffer = Buffer.alloc(0);
  private count = 0;
  /** The storage fds the table was built for (rebuilt when the connection set changes). */
  private ioFds: readonly number[] | null = null;
  private readonly fixedFds: readonly number[];
  private readonly spinMs: number;
  private spinMissesInRow = 0;
  private spinSkips = 0;

  constructor(
    uffdFd: number,
    loopFds: readonly number[],
    private readonly options: FaultLingerOptions = DEFAULT_FAULT_LINGER,
    private readonly io: DirectReceiver | null = null,
    private readonly counters: PagerCounters | null = null,
  ) {
    this.fixedFds = [uffdFd, ...loopFds];
    this.spinMs = options.spinUs / 1000;
    this.build([]);
  }

  /** Whether the poll reads the handler's storage connections (false: replies go through the loop). */
  get readsStorage(): boolean {
    return this.io !== null;
  }

  /**
   * Serves faults with `drain` while they keep coming (call it after the loop's own drain). Returns
   * the number of messages drained here.
   */
  serve(drain: () => number, mayBlock: () => boolean, readFirst: () => boolean = () => true, awaitingStorage: () => boolean = () => false): number {
    if (this.options.lingerMs <= 0) return 0;
    const deadline = performance.now() + this.options.maxTurnMs;
    const poll = libc().poll;
    const io = this.io;
    const loopEnd = this.fixedFds.length;
    let handled = 0;
    let rounds = 0;
    let readNext = readFirst();
    while (mayBlock()) {
      // Read first: with the faulting thread on this CPU, its next fault is usually queued by the
      // time the previous one's wake-up returns, and the read saves a poll. Not while the last
      // faults wait for storage (`readFirst()` false): nothing is queued yet, the read would be
      // one wasted syscall per remote fault.
      let n = readNext ? drain() : 0;
      if (n === 0) {
        if (io !== null) {
          io.endTurn();
          if (io.receiveFds !== this.ioFds) this.build(io.receiveFds);
        }
        const b = this.pollfds;
        // revents (a short at byte 6 of each pollfd), cleared and read with plain byte access:
        // Buffer's validated accessors cost more than the rest of this loop.
        for (let i = 0; i < this.count; i++) b[i * POLLFD_BYTES + 6] = b[i * POLLFD_BYTES + 7] = 0;
        let ready = 0;
        if (this.spinMs > 0 && io !== null && awaitingStorage()) {
          if (this.spinSkips > 0) this.spinSkips--;
          else ready = this.spin(poll);
        }
        if (ready === 0) ready = poll(b, this.count, this.options.lingerMs);
        if (ready <= 0) break; // quiet (or EINTR): the loop takes over
        // Returning without endTurn is safe: what a turn leaves undone also waits in a microtask,
        // which runs as soon as this callback returns to the loop.
        for (let i = 1; i < loopEnd; i++) if ((b[i * POLLFD_BYTES + 6] | b[i * POLLFD_BYTES + 7]) !== 0) return handled;
        let received = false;
        for (let i = loopEnd; i < this.count; i++) {
          if ((b[i * POLLFD_BYTES + 6] | b[i * POLLFD_BYTES + 7]) === 0) continue;
          // Replies complete inside (their pages are mapped); -1: the loop must see this socket.
          const bytes = io!.receiveNow(b.readInt32LE(i * POLLFD_BYTES));
          if (bytes < 0) return handled;
          if (bytes > 0) this.counters?.add(PAGER_COUNTER.storageReceives);
          received = true;
        }
        n = drain();
        if (n === 0 && !received) break; // nothing to read after all: let the loop look
      }
      handled += n;
      readNext = readFirst();
      // The clock every 8th round: a fault is a few µs, so the turn ends at most ~0.1 ms late
      // locally (~1 ms with remote faults), and most rounds skip a clock read.
      if ((++rounds & 7) === 0 && performance.now() >= deadline) break;
    }
    io?.endTurn();
    return handled;
  }

  /** Polls without sleeping until an fd is ready or `spinUs` passed; returns poll's result (0: nothing). */
  private spin(poll: (fds: Buffer, nfds: number, timeoutMs: number) => number): number {
    this.counters?.add(PAGER_COUNTER.storageSpins);
    const until = performance.now() + this.spinMs;
    let ready: number;
    do ready = poll(this.pollfds, this.count, 0);
    while (ready === 0 && performance.now() < until);
    if (ready > 0) {
      this.spinMissesInRow = 0;
    } else {
      this.counters?.add(PAGER_COUNTER.storageSpinMisses);
      if (++this.spinMissesInRow === SPIN_BACKOFF_MISSES) {
        this.spinMissesInRow = 0;
        this.spinSkips = SPIN_BACKOFF_WAITS;
      }
    }
    return ready;
  }

  private build(ioFds: readonly number[]): void {
    const fds = [...this.fixedFds, ...ioFds];
    this.ioFds = ioFds;
    this.count = fds.length;
    this.pollfds = Buffer.alloc(fds.length * POLLFD_BYTES);
    fds.forEach((fd, i) => {
      this.pollfds.writeInt32LE(fd, i * POLLFD_BYTES);
      this.pollfds.writeInt16LE(POLLIN, i * POLLFD_BYTES + 4);
    });
  }
}
