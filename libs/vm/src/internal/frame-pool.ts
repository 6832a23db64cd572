/**
 * Local frames (buffers of one page each). Frames are numbered densely from 0 as they are first
 * needed; a released frame goes on a free stack and is reused before a new number is created. The
 * engine decides *whether* a frame may be taken (budget, staging); this only hands out numbers.
 */
export class FramePool {
  /** Frames handed out and not yet released. */
  inUse = 0;
  /** Frame numbers ever created (the runtime's buffer table needs this many). */
  created = 0;
  private free = new Int32Array(16);
  private freeCount = 0;

  /** Takes a frame number: a released one if any, else a new one. */
  take(): number {
    this.inUse++;
    if (this.freeCount > 0) return this.free[--this.freeCount];
    return this.created++;
  }

  /** Returns a frame number for reuse. */
  release(frame: number): void {
    this.inUse--;
    if (this.freeCount === this.free.length) {
      const grown = new Int32Array(this.free.length * 2);
      grown.set(this.free);
      this.free = grown;
    }
    this.free[this.freeCount++] = frame;
  }

  /** Bytes of bookkeeping held (for the metadata-per-page measurement). */
  get metadataBytes(): number {
    return this.free.byteLength;
  }
}
