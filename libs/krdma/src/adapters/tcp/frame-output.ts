// Per-connection output of the TCP transport: frames are encoded into an append-only arena and
// written once per event-loop turn (one socket write, or a corked batch = one writev). Caller
// data of `write` and `writev` requests is not copied: the socket writes a Buffer view of the
// caller's Uint8Array after the header (the caller keeps it unchanged until the completion, as
// with RDMA verbs). Everything else (including donor read replies, which must be a snapshot of
// the slab) is copied once into the arena.
import type { Socket } from 'node:net';
import { writeU32, writeU64 } from '../../internal/wire/bytes.js';
import { encodeCheckedFrame, payloadByteLength, writeHeader } from '../../internal/wire/encode.js';
import { HEADER_BYTES, MessageType, type WireMessage } from '../../internal/wire/messages.js';
import { deferMicrotask } from '../runtime.js';
import { directSend, idleSocketFd } from './direct-send.js';

const ARENA_BYTES = 256 * 1024;
/** Caller data at least this long is gathered without a copy; shorter data is cheaper copied. */
const ZERO_COPY_MIN_BYTES = 1024;
/**
 * A turn that produces this much output writes it before going on (a donor answering a batch
 * of 32 page reads sends the first 16 pages while it encodes the rest). On this machine the
 * effect on the bench was within its noise; it also bounds the size of one write.
 */
export const FLUSH_EARLY_BYTES = 64 * 1024;
export const FLUSH_EARLY_FRAMES = 64;

function bufferView(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Counters of one connection's output. */
export interface FrameOutputCounters {
  frames: number;
  flushes: number;
  /** Flushes written with one send(2) on the idle socket's fd (see direct-send.ts). */
  directSends: number;
  bytesCopied: number;
  bytesGathered: number;
}

export class FrameOutput {
  readonly counters: FrameOutputCounters = { frames: 0, flushes: 0, directSends: 0, bytesCopied: 0, bytesGathered: 0 };
  private arena: Buffer = Buffer.allocUnsafe(ARENA_BYTES);
  private arenaAt = 0;
  /** Start of the arena bytes not yet listed in `parts`. */
  private segmentStart = 0;
  private parts: Buffer[] = [];
  private scheduled = false;
  /** The turn's first frame was sent alone; the rest of the turn is batched. */
  private leadSent = false;
  private inReceive = false;
  private closed = false;

  constructor(
    private readonly socket: Socket,
    private readonly flushEarlyBytes = FLUSH_EARLY_BYTES,
    private readonly flushEarlyFrames = FLUSH_EARLY_FRAMES,
  ) {}

  /** Bytes waiting for this turn's flush. */
  pendingBytes = 0;
  private pendingFrames = 0;

  /** Encodes one frame for this turn's write. Throws `encode-invalid` before writing anything. */
  write(requestId: number, message: WireMessage): void {
    if (this.closed) return;
    const payloadBytes = payloadByteLength(message); // validates every field first
    if (message.type === 'write' && message.data.length >= ZERO_COPY_MIN_BYTES) {
      const at = this.room(HEADER_BYTES + 12);
      writeHeader(this.arena, at, MessageType.write, requestId, payloadBytes);
      writeU32(this.arena, at + HEADER_BYTES, message.slabId);
      writeU64(this.arena, at + HEADER_BYTES + 4, message.offsetBytes);
      this.arenaAt = at + HEADER_BYTES + 12;
      this.gather(message.data);
    } else if (message.type === 'writev' && payloadBytes >= ZERO_COPY_MIN_BYTES * message.entries.length) {
      const head = HEADER_BYTES + 4 + 16 * message.entries.length;
      let at = this.room(head);
      writeHeader(this.arena, at, MessageType.writev, requestId, payloadBytes);
      at += HEADER_BYTES;
      writeU32(this.arena, at, message.entries.length);
      at += 4;
      for (const entry of message.entries) {
        writeU32(this.arena, at, entry.slabId);
        writeU64(this.arena, at + 4, entry.offsetBytes);
        writeU32(this.arena, at + 12, entry.data.length);
        at += 16;
      }
      this.arenaAt = at;
      for (const entry of message.entries) this.gather(entry.data);
    } else {
      const total = HEADER_BYTES + payloadBytes;
      if (total > ARENA_BYTES / 2) {
        const own = Buffer.allocUnsafe(total);
        encodeCheckedFrame(requestId, message, payloadBytes, own, 0);
        this.cutSegment();
        this.parts.push(own);
      } else {
        const at = this.room(total);
        encodeCheckedFrame(requestId, message, payloadBytes, this.arena, at);
        this.arenaAt = at + total;
      }
      this.counters.bytesCopied += total;
    }
    this.counters.frames++;
    this.pendingBytes += HEADER_BYTES + payloadBytes;
    this.pendingFrames++;
    // Flush early when a turn produces a lot, so the peer starts on the first part while this
    // side encodes the rest (pipelining between the two processes); else once per turn. The first
    // frame of a turn outside a receive goes out at once: it is usually a request someone waits
    // for (a demand fetch), and the frames that follow it in the turn still share one write.
    if (this.pendingBytes >= this.flushEarlyBytes || this.pendingFrames >= this.flushEarlyFrames) {
      this.flush();
    } else if (!this.inReceive && !this.leadSent && this.pendingFrames === 1) {
      this.flush();
      this.leadSent = true;
      this.schedule(); // the end of the turn: sends what the turn adds, and the next lead goes alone again
    } else {
      this.schedule();
    }
  }

  /** Writes everything pending now (used before closing). */
  flush(): void {
    if (this.closed) return;
    this.pendingBytes = 0;
    this.pendingFrames = 0;
    this.cutSegment();
    const parts = this.parts;
    if (parts.length === 0) return;
    this.parts = [];
    this.counters.flushes++;
    const socket = this.socket;
    if (!socket.writable) return;
    if (parts.length === 1) {
      // Idle socket: one send(2) straight from here; whatever the kernel did not take goes
      // through the socket (in order: nothing else is queued).
      const part = parts[0];
      const fd = idleSocketFd(socket);
      const sent = fd >= 0 ? directSend(fd, part) : -1;
      if (sent > 0) this.counters.directSends++;
      if (sent < part.length) socket.write(sent > 0 ? part.subarray(sent) : part);
    } else {
      socket.cork();
      for (const part of parts) socket.write(part);
      socket.uncork();
    }
    // If the kernel took everything, nothing references the arena any more: reuse it. Otherwise
    // queued writes still point into it, so continue in a fresh one.
    if (socket.writableLength !== 0) this.arena = Buffer.allocUnsafe(ARENA_BYTES);
    this.arenaAt = 0;
    this.segmentStart = 0;
  }

  /** Drops pending output; later writes are ignored. */
  close(): void {
    this.closed = true;
    this.parts = [];
    this.pendingBytes = 0;
  }

  /**
   * Runs `fn` (feeding received bytes to the session) and writes what it produced right after,
   * without a microtask hop: the replies and follow-up requests of one socket read go out in one write.
   */
  receiving(fn: () => void): void {
    this.inReceive = true;
    try {
      fn();
    } finally {
      this.inReceive = false;
    }
    if (this.pendingFrames > 0) this.flush();
  }

  /**
   * Runs the end of the turn now (what the scheduled microtask does): for a thread about to sleep
   * outside the event loop, where that microtask would not run until it returns.
   */
  endTurn(): void {
    if (this.scheduled) this.flushScheduled();
  }

  private schedule(): void {
    if (this.scheduled || this.inReceive) return;
    this.scheduled = true;
    deferMicrotask(this.flushScheduled);
  }

  private readonly flushScheduled = (): void => {
    this.scheduled = false;
    this.leadSent = false;
    this.flush();
  };

  /** Returns an arena offset with `bytes` of room (starting a new arena when full). */
  private room(bytes: number): number {
    if (this.arenaAt + bytes > this.arena.length) {
      this.cutSegment();
      this.arena = Buffer.allocUnsafe(Math.max(ARENA_BYTES, bytes));
      this.arenaAt = 0;
      this.segmentStart = 0;
    }
    return this.arenaAt;
  }

  private cutSegment(): void {
    if (this.arenaAt > this.segmentStart) this.parts.push(this.arena.subarray(this.segmentStart, this.arenaAt));
    this.segmentStart = this.arenaAt;
  }

  private gather(data: Uint8Array): void {
    this.cutSegment();
    if (data.length > 0) this.parts.push(bufferView(data));
    this.counters.bytesGathered += data.length;
  }
}
