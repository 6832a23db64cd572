import { KrdmaError } from '../errors.js';

/**
 * A bound on the bytes that frame decoders may hold for partial frames, shared by every
 * connection that is given it (a transport gives one budget to all its connections; the TCP
 * transport shares one per process by default). A decoder that cannot take the bytes it needs
 * refuses the frame (`receive-budget`) and its connection is closed, so a set of peers that
 * announce large frames and stall cannot pin more than `limitBytes`.
 */
export class ReceiveBudget {
  /** Bytes held now. */
  heldBytes = 0;
  /** Most bytes held at once so far. */
  peakBytes = 0;
  /** Takes refused for lack of room. */
  refusals = 0;

  constructor(readonly limitBytes: number) {
    if (!Number.isSafeInteger(limitBytes) || limitBytes < 0) {
      throw new KrdmaError('invalid-options', `receive budget must be a non-negative integer of bytes, got ${limitBytes}`);
    }
  }

  /** Takes `bytes` if they fit; returns false (and takes nothing) if not. */
  take(bytes: number): boolean {
    if (this.heldBytes + bytes > this.limitBytes) {
      this.refusals++;
      return false;
    }
    this.heldBytes += bytes;
    if (this.heldBytes > this.peakBytes) this.peakBytes = this.heldBytes;
    return true;
  }

  /** Gives back `bytes` taken earlier. */
  give(bytes: number): void {
    this.heldBytes = Math.max(0, this.heldBytes - bytes);
  }
}
