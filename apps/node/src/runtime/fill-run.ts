import { PAGE_SIZE_BYTES } from '../native/constants.js';

/**
 * Consecutive pages whose bytes lie back to back (a prefetch window: over local storage in the
 * store itself, over remote storage gathered into a staging buffer as the replies arrive),
 * collected so one UFFDIO_COPY installs them all instead of one ioctl per page. Only pages nobody
 * waits for join a run: a demanded page is mapped (and its thread woken) at once.
 */
export class FillRun {
  /** First page of the run, and how many pages it has. */
  firstPage = -1;
  size = 0;
  /** Address of the first page's bytes; page i of the run is at `source + i * 4096`. */
  source = 0;
  /** Whether the run is installed write-protected (clean pages under dirty tracking). */
  writeProtect = false;
  /** The engine frame of each page of the run (their slots are released after the copy). */
  readonly frames: Int32Array;

  constructor(readonly maxPages = 64) {
    this.frames = new Int32Array(maxPages);
  }

  /** Adds the page when the run is empty or the page extends it; false when the run must be installed first. */
  tryAppend(page: number, frame: number, source: number, writeProtect: boolean): boolean {
    if (this.size === 0) {
      this.firstPage = page;
      this.source = source;
      this.writeProtect = writeProtect;
    } else if (this.size === this.maxPages || page !== this.firstPage + this.size || source !== this.source + this.size * PAGE_SIZE_BYTES || writeProtect !== this.writeProtect) {
      return false;
    }
    this.frames[this.size++] = frame;
    return true;
  }

  /** Empties the run (after it was installed). */
  clear(): void {
    this.size = 0;
    this.firstPage = -1;
  }
}
