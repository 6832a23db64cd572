import type { Socket } from 'node:net';
import { libcFunction } from './libc-function.js';

const MSG_DONTWAIT = 0x40;
const MSG_NOSIGNAL = 0x4000;

type SendFn = (fd: number, buf: Buffer, lengthBytes: number, flags: number) => number;
const SEND = 'intptr_t send(int fd, const void *buf, size_t len, int flags)';
/** Resolved on first use (a module variable: this is on every request's path). */
let send: SendFn | null | undefined;

/**
 * The socket's fd when a write may bypass Node's stream: connected, writable and nothing queued
 * (so bytes cannot overtake earlier ones); else -1. Node keeps the fd in an internal handle; when
 * it is not there, -1 as well.
 */
export function idleSocketFd(socket: Socket): number {
  if (socket.writableLength !== 0 || !socket.writable || socket.connecting) return -1;
  const fd = (socket as unknown as { _handle?: { fd?: unknown } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : -1;
}

/**
 * Writes `bytes` with one non-blocking send(2) on `fd`, skipping Node's stream and libuv's write
 * request (about 5 µs per write on the development VM, which is most of a small request's cost).
 * Returns the bytes the kernel took (possibly fewer), or -1 when nothing was sent (EAGAIN, an
 * error, or no send here): the caller writes the rest through the socket, which also reports
 * any error the normal way.
 */
export function directSend(fd: number, bytes: Buffer): number {
  const fn = send === undefined ? (send = libcFunction<SendFn>(SEND)) : send;
  if (fn === null) return -1;
  const sent = fn(fd, bytes, bytes.length, MSG_DONTWAIT | MSG_NOSIGNAL);
  return sent > 0 ? sent : -1;
}
