import koffi from 'koffi';
import { libcFunction } from './libc-function.js';

const MSG_DONTWAIT = 0x40;
const EAGAIN = 11;

type RecvFn = (fd: number, buf: Buffer, lengthBytes: number, flags: number) => number;
const RECV = 'intptr_t recv(int fd, void *buf, size_t len, int flags)';
/** Resolved on first use (a module variable: this is on every reply's path). */
let recv: RecvFn | null | undefined;

function recvFunction(): RecvFn | null {
  return recv === undefined ? (recv = libcFunction<RecvFn>(RECV)) : recv;
}

/** True when this process can read sockets with recv(2) through koffi. */
export function canReceiveDirectly(): boolean {
  return recvFunction() !== null;
}

/**
 * Reads what is ready on `fd` with one non-blocking recv(2) into `into`. Returns the bytes read,
 * 0 when nothing was ready (EAGAIN), or -1 at end of stream or on an error: the event loop's own
 * read then sees the same condition and ends the connection the normal way.
 */
export function receiveNow(fd: number, into: Buffer): number {
  const fn = recvFunction();
  if (fn === null) return -1;
  const n = fn(fd, into, into.length, MSG_DONTWAIT);
  if (n > 0) return n;
  if (n < 0 && koffi.errno() === EAGAIN) return 0;
  return -1;
}

/**
 * A transport whose connections a thread may read in its own poll(2) loop instead of waiting in
 * the event loop for them (the paging runtime does, between faults: one syscall and no trip
 * through libuv's read path and Node's stream callback per reply). The loop keeps watching the
 * same fds, so whatever is left (end of stream, errors, bytes that arrive while the thread is
 * back in the loop) is read there as usual; both reads happen on the fabric's own thread, in
 * order, into the same decoder.
 */
export interface DirectReceiver {
  /**
   * Fds of the connections to poll for readability. The same array while the set of connections
   * is unchanged, so a caller can keep its pollfd table until the identity changes.
   */
  readonly receiveFds: readonly number[];
  /**
   * Reads what is ready on connection `fd` and feeds it to its session (completions run inside).
   * Returns the bytes read, 0 when nothing was ready, -1 when the event loop must take over
   * (end of stream, an error, or an fd that is not a connection of this fabric any more).
   */
  receiveNow(fd: number): number;
  /**
   * Writes the frames this turn left for its end-of-turn microtask. A thread about to sleep
   * outside the event loop calls it first: microtasks do not run until it returns to the loop.
   */
  endTurn(): void;
}
