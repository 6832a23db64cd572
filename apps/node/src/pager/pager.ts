import type { Worker } from 'node:worker_threads';
import { EventFd } from '../native/eventfd.js';
import { mprotect } from '../native/libc.js';
import { UFFD_FEATURE, UFFDIO_REGISTER_MODE } from '../native/uffd-abi.js';
import { PAGE_SIZE_BYTES, PROT_NONE, PROT_READ, PROT_WRITE } from '../native/constants.js';
import type { RegionMemory } from '../native/region-memory.js';
import { Userfaultfd } from '../native/uffd.js';
import { probeUserfaultfd } from '../native/uffd-probe.js';
import { UserfaultfdUnavailableError } from '../native/errors.js';
import { ControlRing, DEFAULT_RING_CAPACITY, EvictMethod, PagerOp } from './control-ring.js';
import { PagerError } from './pager-error.js';
import { DEFAULT_FAULT_LINGER, type FaultLingerOptions } from './fault-linger.js';
import type { EngineWorkerConfig, PagerWorkerMessage } from './protocol.js';
import { spawnPagerWorker } from './spawn-worker.js';
import { PagerCounters, type PagerStats } from './stats.js';

/** Options of {@link Pager.start}. */
export interface PagerOptions {
  /** The region to page (mapped by the caller, not yet touched; the caller unmaps it after `stop`). */
  region: RegionMemory;
  /** Pin the pager thread to these CPUs (sched_setaffinity); default: free placement. */
  cpus?: number[];
  /**
   * How the pager waits between faults: it serves a stream of faults from its own blocking poll
   * and returns to its event loop after `lingerMs` without a fault (default 1; 0: after every
   * fault) or `maxTurnMs` of continuous service (default 5); with `storageReplies` (default true)
   * that poll also reads the replies of TCP storage, and while a faulting thread waits for one it
   * polls without sleeping for up to `spinUs` (default 100; 0: never). See FaultLinger.
   */
  linger?: Partial<FaultLingerOptions>;
  /** How long to wait for the worker to be ready; default 15 s (a cold tsx start takes ~0.5 s). */
  startTimeoutMs?: number;
  /** Bound on control commands in flight; default 256. */
  ringCapacity?: number;
  /** How long each command may take; default 10 s. */
  commandTimeoutMs?: number;
  /** Run libs/vm's PagingEngine in the pager (budget, eviction, write-back to storage). */
  engine?: EngineWorkerConfig;
  /** Called on main with pages storage lost (they are poisoned: touching them raises SIGBUS). */
  onPagesLost?: (pages: number[]) => void;
}

type Ready = Extract<PagerWorkerMessage, { type: 'ready' }>;

/**
 * The main-thread side of one region's pager worker (design a3): it starts the worker and waits
 * until the worker has its uffd polled and the range registered, sends commands over a
 * SharedArrayBuffer ring with an eventfd doorbell, reads counters from shared memory, and stops
 * the worker in order. Nothing here is on the fault path: the worker never waits for main.
 */
export class Pager {
  private readonly counters: PagerCounters;
  private readonly failures = new Map<number, string>();
  private exited = false;
  private stopping = false;
  private workerClosedUffd = false;
  /** After a worker crash: the SIGBUS-mode uffd the region is registered with (see releaseAfterCrash). */
  private sigbusUffd: Userfaultfd | undefined;
  private readonly exitPromise: Promise<number>;
  /** The uncaught error that ended the worker, if any. */
  workerError: Error | undefined;
  /** Receives pages storage lost (see PagerOptions.onPagesLost). */
  onPagesLost: ((pages: number[]) => void) | undefined;

  private constructor(
    private readonly worker: Worker,
    private readonly region: RegionMemory,
    private readonly ring: ControlRing,
    countersSab: SharedArrayBuffer,
    private readonly doorbell: EventFd,
    private readonly stopFd: EventFd,
    private readonly ready: Ready,
    private readonly commandTimeoutMs: number,
  ) {
    this.counters = new PagerCounters(countersSab);
    this.exitPromise = new Promise((resolve) => worker.once('exit', (code) => {
      this.exited = true;
      if (!this.stopping) this.releaseAfterCrash();
      resolve(code);
    }));
    // Without a listener an uncaught worker error would be rethrown on main.
    worker.on('error', (err) => {
      this.workerError = err;
    });
    worker.on('message', (msg: PagerWorkerMessage) => {
      if (msg.type === 'command-failed') this.failures.set(msg.seq, `${msg.code}: ${msg.message}`);
      else if (msg.type === 'pages-lost') this.onPagesLost?.(msg.pages);
      else if (msg.type === 'stopped') this.workerClosedUffd = true;
    });
  }

  /** Starts a pager for `options.region` and resolves once faults on it are being served. */
  static async start(options: PagerOptions): Promise<Pager> {
    const { region } = options;
    const linger = { ...DEFAULT_FAULT_LINGER, ...options.linger };
    if (typeof linger.storageReplies !== 'boolean') throw new PagerError('invalid-option', `linger.storageReplies must be true or false, got ${String(linger.storageReplies)}`);
    for (const [name, value] of Object.entries(linger)) {
      if (name === 'storageReplies') continue;
      if (!(typeof value === 'number' && value >= 0 && Number.isFinite(value))) {
        const unit = name === 'spinUs' ? 'microseconds' : 'milliseconds';
        throw new PagerError('invalid-option', `linger.${name} must be a non-negative number of ${unit}, got ${String(value)}`);
      }
    }
    const probe = probeUserfaultfd();
    if (!probe.available) throw probe.error ?? new UserfaultfdUnavailableError(probe.reason);
    const countersSab = new PagerCounters().sab;
    const ring = ControlRing.create(options.ringCapacity ?? DEFAULT_RING_CAPACITY);
    const doorbell = EventFd.create();
    const stopFd = EventFd.create();
    const lifecycleSab = new SharedArrayBuffer(4);
    const worker = spawnPagerWorker({
      regionAddress: region.address, sizeBytes: region.sizeBytes, countersSab, ringSab: ring.sab, lifecycleSab,
      doorbellFd: doorbell.fd, stopFd: stopFd.fd, cpus: options.cpus ?? [], engine: options.engine,
      linger,
    });
    try {
      const ready = await waitReady(worker, options.startTimeoutMs ?? 15_000);
      const pager = new Pager(worker, region, ring, countersSab, doorbell, stopFd, ready, options.commandTimeoutMs ?? 10_000);
      pager.onPagesLost = options.onPagesLost;
      pager.guardProcessExit(new Int32Array(lifecycleSab));
      return pager;
    } catch (err) {
      stopFd.ring();
      await Promise.race([new Promise((r) => worker.once('exit', r)), sleep(2000)]);
      await worker.terminate();
      doorbell.close();
      stopFd.close();
      throw err;
    }
  }

  private exitGuard: (() => void) | undefined;

  /**
   * `process.exit` with the pager running: stop it synchronously from the exit hook (unregister,
   * ring the stop fd, wait up to 1 s for the worker to close its poll handles). Without this the
   * worker is torn down with live koffi poll handles, whose callbacks abort the process.
   */
  private guardProcessExit(lifecycle: Int32Array): void {
    this.exitGuard = () => {
      if (this.stopping || this.exited) return;
      this.stopping = true;
      try {
        Userfaultfd.adopt(this.ready.uffdFd, { enabledFeatures: 0, supportedFeatures: 0, ioctls: 0n }).unregister(this.region.address, this.region.sizeBytes);
      } catch {
        // already gone
      }
      this.stopFd.ring();
      Atomics.wait(lifecycle, 0, 0, 1000);
    };
    process.once('exit', this.exitGuard);
  }

  /** Features enabled on the uffd, whether MOVE eviction and WP are available, and how the uffd was made. */
  get info(): { enabledFeatures: number; canMove: boolean; canProtect: boolean; source: string; registerIoctls: number } {
    const { enabledFeatures, canMove, canProtect, source, registerIoctls } = this.ready;
    return { enabledFeatures, canMove, canProtect, source, registerIoctls };
  }

  /** A snapshot of the pager's counters. */
  stats(): PagerStats {
    return this.counters.snapshot();
  }

  /** Evicts pages to the local store (`'move'`: UFFDIO_MOVE; `'copy-out'`: protect, copy, drop). */
  evict(firstPage: number, count: number, method: 'move' | 'copy-out' = 'move'): Promise<void> {
    return this.command(PagerOp.Evict, firstPage, count, method === 'move' ? EvictMethod.Move : EvictMethod.CopyOut);
  }

  /** Poisons pages: a later access raises SIGBUS in the touching thread. */
  poison(firstPage: number, count: number): Promise<void> {
    return this.command(PagerOp.Poison, firstPage, count, 0);
  }

  /** Fills stored pages before they are touched (one UFFDIO_COPY per contiguous run). */
  prefetch(firstPage: number, count: number): Promise<void> {
    return this.command(PagerOp.Prefetch, firstPage, count, 0);
  }

  /** Sends a runtime control operation (see RuntimeOp) and waits for it. */
  control(op: number, arg: number): Promise<void> {
    return this.command(op, 0, 1, arg);
  }

  /**
   * Like `evict`, but blocks the calling thread until done (benchmarks). Safe: the pager never
   * waits for this thread. Never call it from the pager thread.
   */
  evictSync(firstPage: number, count: number, method: 'move' | 'copy-out' = 'move'): void {
    const seq = this.send(PagerOp.Evict, firstPage, count, method === 'move' ? EvictMethod.Move : EvictMethod.CopyOut);
    if (!this.ring.waitSync(seq, this.commandTimeoutMs)) throw this.timeout(seq);
    this.checkResult(seq);
  }

  /**
   * Stops in order: unregister the range (later touches are ordinary faults: zero pages), the
   * worker closes its poll handles and the uffd, then exits; after `timeoutMs` it is terminated
   * (it never sits in a blocking read, so termination cannot hang, pitfall P1). Idempotent.
   */
  /**
   * Ends the worker abruptly, as a crash would (fault injection, and a last resort): resident
   * pages stay readable, a page that is not resident raises SIGBUS when touched. Call `stop()`
   * afterwards to release the rest.
   */
  async kill(): Promise<void> {
    if (this.exited) return;
    await this.worker.terminate();
    await this.exitPromise;
  }

  async stop(timeoutMs = 5_000): Promise<void> {
    if (this.stopping) {
      await this.exitPromise;
      return;
    }
    this.stopping = true;
    if (this.exitGuard) process.off('exit', this.exitGuard);
    if (!this.exited) {
      try {
        Userfaultfd.adopt(this.ready.uffdFd, { enabledFeatures: 0, supportedFeatures: 0, ioctls: 0n }).unregister(this.region.address, this.region.sizeBytes);
      } catch {
        // the worker already closed it
      }
      this.stopFd.ring();
      const exited = await Promise.race([this.exitPromise.then(() => true), sleep(timeoutMs).then(() => false)]);
      if (!exited) await this.worker.terminate();
    }
    await this.exitPromise;
    if (!this.workerClosedUffd) this.releaseAfterCrash();
    if (this.sigbusUffd) {
      try {
        this.sigbusUffd.unregister(this.region.address, this.region.sizeBytes);
      } catch {
        // the owner unmapped the region already
      }
      this.sigbusUffd.close();
      this.sigbusUffd = undefined;
    }
    this.doorbell.close();
    this.stopFd.close();
  }

  private send(op: number, firstPage: number, count: number, arg: number): number {
    if (this.stopping || this.exited) throw new PagerError('stopped', 'the pager is stopped: start a new one');
    if (!Number.isInteger(firstPage) || !Number.isInteger(count) || firstPage < 0 || count <= 0 || (firstPage + count) * PAGE_SIZE_BYTES > this.region.sizeBytes) {
      throw new RangeError(`pages ${firstPage}+${count} are outside the region of ${this.region.pages} pages`);
    }
    const seq = this.ring.push(op, firstPage, count, arg);
    this.doorbell.ring();
    return seq;
  }

  private async command(op: number, firstPage: number, count: number, arg: number): Promise<void> {
    const seq = this.send(op, firstPage, count, arg);
    if (!(await this.ring.wait(seq, this.commandTimeoutMs))) throw this.timeout(seq);
    // The failure detail arrives by postMessage; give it a turn to land.
    if (this.ring.result(seq) !== 0) await sleep(0);
    this.checkResult(seq);
  }

  private checkResult(seq: number): void {
    const result = this.ring.result(seq);
    if (result === 0) return;
    const detail = this.failures.get(seq) ?? `result ${result}`;
    this.failures.delete(seq);
    throw new PagerError('command-failed', `pager command ${seq} failed (${detail}); check the page range and the uffd features in pager.info`);
  }

  private timeout(seq: number): PagerError {
    return new PagerError('command-timeout', `pager command ${seq} did not complete within ${this.commandTimeoutMs} ms: the pager thread is stuck or dead; stop the pager`);
  }

  /** The worker died without closing the uffd: unregister and close it here so no thread sleeps for ever. */
  /**
   * The worker died without stopping (a crash, or `kill`): nobody serves the region's faults any
   * more, and simply unregistering would let every page that lives elsewhere read back as zeros.
   * So the region is fenced (PROT_NONE: a thread touching it during the switch gets SIGSEGV),
   * moved from the dead pager's uffd to one in SIGBUS mode (a missing page now raises SIGBUS in
   * the touching thread, like a poisoned page), and unfenced: resident pages stay usable.
   */
  private releaseAfterCrash(): void {
    if (this.workerClosedUffd) return;
    this.workerClosedUffd = true;
    const { address, sizeBytes } = this.region;
    const dead = Userfaultfd.adopt(this.ready.uffdFd, { enabledFeatures: 0, supportedFeatures: 0, ioctls: 0n });
    let fenced = false;
    try {
      mprotect(address, sizeBytes, PROT_NONE);
      fenced = true;
    } catch {
      // the region is already gone (unmapped by its owner): nothing can read it
    }
    try {
      dead.unregister(address, sizeBytes);
    } catch {
      // already unregistered
    }
    dead.close(); // waiters retry: fenced, they get SIGSEGV instead of zeros
    if (!fenced) return;
    const sigbus = Userfaultfd.open({ nonblocking: true, features: UFFD_FEATURE.SIGBUS });
    if ((sigbus.apiReply.enabledFeatures & UFFD_FEATURE.SIGBUS) === 0) {
      // Without SIGBUS mode the region stays fenced: a touch is a loud SIGSEGV, never zeros.
      sigbus.close();
      return;
    }
    sigbus.register(address, sizeBytes, UFFDIO_REGISTER_MODE.MISSING);
    this.sigbusUffd = sigbus;
    mprotect(address, sizeBytes, PROT_READ | PROT_WRITE);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

function waitReady(worker: Worker, timeoutMs: number): Promise<Ready> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => done(new PagerError('start-timeout', `the pager worker was not ready within ${timeoutMs} ms: check stderr for its diagnostics`)), timeoutMs);
    const onMessage = (msg: PagerWorkerMessage) => {
      if (msg.type === 'ready') done(undefined, msg);
      else if (msg.type === 'failed') done(new PagerError('start-failed', `the pager worker could not start: ${msg.code}: ${msg.message}`));
    };
    const onError = (err: Error) => done(new PagerError('start-failed', `the pager worker crashed while starting: ${err.message}`));
    const onExit = (code: number) => done(new PagerError('worker-exited', `the pager worker exited with code ${code} while starting`));
    function done(err: Error | undefined, ready?: Ready): void {
      clearTimeout(timer);
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
      if (err) reject(err);
      else resolve(ready as Ready);
    }
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}
