import { Command } from './commands.js';
import type { PagingEngine } from './engine.js';
import { VmError } from './errors.js';
import { writeBackBatch } from './write-back-batch.js';

/**
 * Where pages live when they are not local: the shape of a dvs region, page-indexed, with
 * completion callbacks that may run synchronously or later. `status` is `'ok'` on success.
 */
export interface PageStore {
  readPage(page: number, into: Uint8Array, done: (status: string) => void): void;
  writePage(page: number, data: Uint8Array, done: (status: string) => void): void;
  discardPage(page: number): void;
}

/** Completion of an access: an error for a poisoned page (SIGBUS), else the page's bytes. */
export type AccessCallback = (error: PoisonedPageError | null, bytes: Uint8Array) => void;

/** The access touched a page whose data could not be restored (a real runtime raises SIGBUS). */
export class PoisonedPageError extends Error {
  readonly code = 'page-poisoned';
  constructor(readonly page: number) {
    super(`page ${page} is poisoned: its data could not be restored from storage`);
    this.name = 'PoisonedPageError';
  }
}

interface Waiter {
  readonly isWrite: boolean;
  readonly callback: AccessCallback;
}

const EMPTY = new Uint8Array(0);

/**
 * A runtime for the paging engine that keeps frames in ordinary memory and pages out to a
 * `PageStore` (a dvs region). Threads are modelled by callbacks: `access` completes at once when
 * the page is mapped, or later, once the engine maps it. Used by `npm start` before the production
 * runtime exists, by property tests, and as the reference for what a runtime must do per command.
 */
export class InMemoryPager {
  private readonly frameBytes: Uint8Array[] = [];
  private readonly mappedFrame: Int32Array;
  private readonly writeProtected: Uint8Array;
  private readonly waiters = new Map<number, Waiter[]>();
  private readonly batchScratch: Int32Array;
  private draining = false;
  private readonly pageSize: number;

  /** Writes to write-protected pages go through unreported (userfaultfd WP_ASYNC); the engine's dirty probe finds them. */
  private readonly asyncDirty: boolean;

  /**
   * @param options `asyncDirtyTracking`: model userfaultfd's WP_ASYNC mode. A write to a
   * write-protected page clears the protection and completes at once, with no `dirtied` event;
   * the engine learns of it through its dirty probe (here: "is the page mapped without protection").
   */
  constructor(readonly engine: PagingEngine, private readonly store: PageStore, options: { asyncDirtyTracking?: boolean } = {}) {
    this.pageSize = engine.config.pageSizeBytes;
    this.mappedFrame = new Int32Array(engine.config.pageCount).fill(-1);
    this.writeProtected = new Uint8Array(engine.config.pageCount);
    this.batchScratch = new Int32Array(Math.max(engine.config.writebackBatchPages, 1));
    this.asyncDirty = options.asyncDirtyTracking === true;
    if (this.asyncDirty) engine.setDirtyProbe((page) => this.mappedFrame[page] >= 0 && this.writeProtected[page] === 0);
  }

  /** Touches `page`; `callback` gets the page's bytes (valid until the next event). */
  access(page: number, isWrite: boolean, callback: AccessCallback): void {
    const frame = this.mappedFrame[page];
    if (frame >= 0 && isWrite && this.asyncDirty) this.writeProtected[page] = 0; // the kernel lets it through
    if (frame >= 0 && !(isWrite && this.writeProtected[page])) {
      callback(null, this.frameBytes[frame]);
      return;
    }
    let list = this.waiters.get(page);
    if (!list) this.waiters.set(page, (list = []));
    list.push({ isWrite, callback });
    if (frame >= 0) this.engine.dirtied(page); // write to a write-protected page
    else this.engine.fault(page, isWrite);
    this.pump();
  }

  /** Reads a little-endian u32 at `offsetBytes` of `page`; throws if the access cannot finish now. */
  readU32(page: number, offsetBytes: number): number {
    let value = -1;
    this.accessNow(page, false, (bytes) => {
      value = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(offsetBytes, true);
    });
    return value;
  }

  /** Writes a little-endian u32 at `offsetBytes` of `page`; throws if the access cannot finish now. */
  writeU32(page: number, offsetBytes: number, value: number): void {
    this.accessNow(page, true, (bytes) => {
      new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).setUint32(offsetBytes, value, true);
    });
  }

  /** Whether `page` is mapped now. */
  isMapped(page: number): boolean {
    return this.mappedFrame[page] >= 0;
  }

  /** Accesses waiting for the engine. */
  get waitingAccesses(): number {
    let n = 0;
    for (const list of this.waiters.values()) n += list.length;
    return n;
  }

  /** Carries out every queued engine command, then completes the accesses that became possible. */
  pump(): void {
    if (this.draining) return;
    this.draining = true;
    try {
      this.drainCommands();
    } finally {
      this.draining = false;
    }
  }

  private accessNow(page: number, isWrite: boolean, use: (bytes: Uint8Array) => void): void {
    let done = false;
    let failure: Error | null = null;
    this.access(page, isWrite, (error, bytes) => {
      done = true;
      if (error) failure = error;
      else use(bytes);
    });
    if (failure) throw failure;
    if (!done) throw new VmError('unexpected-completion', `access to page ${page} did not complete synchronously: use access() with an asynchronous store`);
  }

  private frame(frame: number): Uint8Array {
    let bytes = this.frameBytes[frame];
    if (!bytes) this.frameBytes[frame] = bytes = new Uint8Array(this.pageSize);
    return bytes;
  }

  private drainCommands(): void {
    const q = this.engine.commands;
    while (q.next()) {
      const page = q.page;
      switch (q.kind) {
        case Command.Fetch:
        case Command.Prefetch:
          this.store.readPage(page, this.frame(q.frame), (status) => {
            this.engine.fetchDone(page, status === 'ok');
            this.pump();
          });
          break;
        case Command.ZeroFill:
          this.frame(q.frame).fill(0);
          break;
        case Command.Map:
          this.mappedFrame[page] = q.frame;
          this.writeProtected[page] = q.arg;
          this.resolveWaiters(page);
          break;
        case Command.Unmap:
          this.mappedFrame[page] = -1;
          break;
        case Command.Writeback:
          this.writeBatch(q.arg);
          break;
        case Command.Discard:
          this.store.discardPage(page);
          break;
        case Command.Poison:
          this.mappedFrame[page] = -1;
          this.resolveWaiters(page);
          break;
        case Command.Wake:
          this.resolveWaiters(page);
          break;
        case Command.Unprotect:
          this.writeProtected[page] = 0;
          this.resolveWaiters(page);
          break;
        default:
          throw new VmError('unexpected-completion', `unknown command kind ${q.kind}`);
      }
    }
  }

  private writeBatch(batchId: number): void {
    writeBackBatch(this.engine, batchId, this.batchScratch, (page, frame, done) => this.store.writePage(page, this.frame(frame), done), () => this.pump());
  }

  /**
   * Runs the threads waiting on `page` at the moment the engine maps (or wakes, or poisons) it,
   * before any later command can unmap it again, as a woken thread would. A thread that finds the
   * page unmapped faults again; a write to a write-protected page reports the write first.
   */
  private resolveWaiters(page: number): void {
    const list = this.waiters.get(page);
    if (!list) return;
    const frame = this.mappedFrame[page];
    if (frame < 0) {
      if (this.engine.pageState(page) === 7 /* poisoned */) {
        this.waiters.delete(page);
        for (const waiter of list) waiter.callback(new PoisonedPageError(page), EMPTY);
      } else {
        this.engine.fault(page, list.some((w) => w.isWrite));
      }
      return;
    }
    if (this.asyncDirty && list.some((w) => w.isWrite)) this.writeProtected[page] = 0;
    const blocked = list.filter((w) => w.isWrite && this.writeProtected[page]);
    if (blocked.length === 0) this.waiters.delete(page);
    else this.waiters.set(page, blocked);
    for (const waiter of list) if (!blocked.includes(waiter)) waiter.callback(null, this.frameBytes[frame]);
    if (blocked.length > 0) this.engine.dirtied(page);
  }
}
