/**
 * The pager worker program (design a3 of native.md §3): it owns the userfaultfd (nonblocking),
 * polls it with koffi.node.poll on this thread's own event loop together with the doorbell and
 * stop eventfds, and resolves faults without ever needing the main thread (which may be the
 * faulting thread). Started by `spawnPagerWorker`; see README for the entry-file choice.
 */
import { parentPort, workerData } from 'node:worker_threads';
import koffi from 'koffi';
import { pinCurrentThread } from '../native/affinity.js';
import { EventFd } from '../native/eventfd.js';
import { PagemapScanner } from '../native/pagemap-scan.js';
import { RegionMemory } from '../native/region-memory.js';
import { Userfaultfd } from '../native/uffd.js';
import { UFFD_FEATURE, UFFDIO_REGISTER_MODE } from '../native/uffd-abi.js';
import { ControlRing } from './control-ring.js';
import { diagnose, FaultLoop } from './fault-loop.js';
import { FaultLinger } from './fault-linger.js';
import { CommandResult, LocalPageSource } from './local-page-source.js';
import type { PagerWorkerData, PagerWorkerMessage } from './protocol.js';
import { PAGER_COUNTER, PagerCounters } from './stats.js';
import { UffdMapper } from './uffd-mapper.js';
import type { FaultHandler } from './fault-handler.js';
import { buildEngineRuntime } from '../runtime/build-runtime.js';
import type { UffdRuntime } from '../runtime/uffd-runtime.js';

const ZERO_PAGES = 16;

interface PollHandle { close(): void }

/** Everything the worker holds; module-level so the poll handles stay reachable (P3). */
const held: { polls: PollHandle[]; uffd?: Userfaultfd; scanner?: PagemapScanner | null; handler?: FaultHandler; zero?: RegionMemory; ticker?: ReturnType<typeof setInterval>; stopped: boolean } = { polls: [], stopped: false };

/** How often the engine runtime gets a tick when no faults arrive (reclaim, stats). */
const ENGINE_TICK_MS = 20;

function post(msg: PagerWorkerMessage): void {
  parentPort?.postMessage(msg);
}

function poll(fd: number, onReadable: () => void): void {
  const handle = koffi.node.poll(fd, { readable: true }, (status: unknown) => {
    // The callback receives (status, events), unlike the .d.ts (native.md §1.1).
    if (typeof status === 'number' && status < 0) diagnose(`poll on fd ${fd} reported status ${status}`);
    onReadable();
  }) as unknown as PollHandle;
  held.polls.push(handle);
}

async function start(data: PagerWorkerData): Promise<void> {
  if (data.cpus.length > 0) pinCurrentThread(data.cpus);
  const counters = new PagerCounters(data.countersSab);
  const ring = new ControlRing(data.ringSab);
  // WP_ASYNC only together with a scanner that can find the writes it lets through.
  const asyncMode = data.engine?.asyncDirtyTracking ?? 'auto';
  held.scanner = data.engine && asyncMode !== 'off' ? PagemapScanner.open() : null;
  if (asyncMode === 'on' && held.scanner === null) throw new Error(`asynchronous dirty tracking cannot run: ${PagemapScanner.unavailableReason}; use asyncDirtyTracking "auto" or "off" here`);
  const wanted = UFFD_FEATURE.PAGEFAULT_FLAG_WP | UFFD_FEATURE.MOVE | UFFD_FEATURE.POISON | (held.scanner ? UFFD_FEATURE.WP_ASYNC : 0);
  const uffd = Userfaultfd.open({ nonblocking: true, features: wanted });
  held.uffd = uffd;
  const enabled = uffd.apiReply.enabledFeatures;
  if ((enabled & UFFD_FEATURE.WP_ASYNC) === 0) {
    if (asyncMode === 'on') throw new Error('asynchronous dirty tracking needs userfaultfd WP_ASYNC (Linux 6.7 or newer); use asyncDirtyTracking "auto" or "off" on this kernel');
    held.scanner?.close();
    held.scanner = null;
  }
  const canProtect = (enabled & UFFD_FEATURE.PAGEFAULT_FLAG_WP) !== 0;
  const canMove = canProtect && (enabled & UFFD_FEATURE.MOVE) !== 0;
  const pages = data.sizeBytes / 4096;
  held.zero = RegionMemory.map(ZERO_PAGES * 4096);
  const mapper = new UffdMapper(uffd, data.regionAddress, pages, counters, held.zero.address, ZERO_PAGES);
  let handler: FaultHandler;
  if (data.engine) {
    if (!canMove) throw new Error('the paging engine runtime needs UFFDIO_MOVE (Linux 6.8 or newer)');
    const runtime: UffdRuntime = await buildEngineRuntime(data.engine, uffd, mapper, counters, data.sizeBytes, (lost) => {
      // Bounded messages: at most 4096 page numbers each.
      for (let i = 0; i < lost.length; i += 4096) post({ type: 'pages-lost', pages: lost.slice(i, i + 4096) });
    }, held.scanner);
    handler = runtime;
    held.ticker = setInterval(() => runtime.tick(), ENGINE_TICK_MS);
  } else {
    const store = RegionMemory.map(data.sizeBytes);
    // MOVE needs its destination registered with the same uffd; WP mode only, so a missing store
    // page is an ordinary zero-fill for the pager, never a message (no self-deadlock).
    if (canMove) uffd.register(store.address, store.sizeBytes, UFFDIO_REGISTER_MODE.WP);
    handler = new LocalPageSource(mapper, store, counters, canMove, canProtect);
  }
  held.handler = handler;
  const loop = new FaultLoop(uffd, data.regionAddress, handler, counters, (page, err) => {
    diagnose(`cannot resolve the fault on page ${page}: ${(err as Error).message}; poisoning it`);
    try {
      mapper.drop(page, 1);
      mapper.poison(page, 1);
      mapper.wake(page, 1);
    } catch (again) {
      diagnose(`poisoning page ${page} failed too: ${(again as Error).message}`);
    }
  });
  const doorbell = EventFd.fromFd(data.doorbellFd);
  let seq = ring.done;
  const execute = (op: number, first: number, count: number, arg: number): number => {
    seq++;
    counters.add(PAGER_COUNTER.commands);
    try {
      return handler.onCommand(op, first, count, arg);
    } catch (err) {
      counters.add(PAGER_COUNTER.failedCommands);
      const e = err as Error & { code?: string };
      post({ type: 'command-failed', seq, code: e.code ?? 'error', message: e.message });
      return CommandResult.Failed;
    }
  };
  // Poll first, then register: the worker is ready before the range can fault.
  const linger = new FaultLinger(uffd.fd, [data.doorbellFd, data.stopFd], data.linger, data.linger.storageReplies ? handler.directIo : null, counters);
  const drain = (): number => loop.drain();
  // Storage I/O in flight keeps the pager in the loop, unless the linger reads its replies itself.
  const mayBlock = (): boolean => !held.stopped && (linger.readsStorage || !handler.awaitsLoop());
  const readFirst = (): boolean => !handler.storageInFlight();
  const awaitingStorage = (): boolean => handler.faultAwaitsStorage();
  poll(uffd.fd, () => {
    if (drain() > 0) linger.serve(drain, mayBlock, readFirst, awaitingStorage);
  });
  poll(data.doorbellFd, () => {
    doorbell.drain();
    ring.drain(execute);
  });
  poll(data.stopFd, () => stop(data, ring));
  const mode = UFFDIO_REGISTER_MODE.MISSING | (canProtect ? UFFDIO_REGISTER_MODE.WP : 0);
  const registerIoctls = uffd.register(data.regionAddress, data.sizeBytes, mode);
  post({ type: 'ready', uffdFd: uffd.fd, enabledFeatures: enabled, registerIoctls, source: uffd.source, canMove, canProtect });
}

/** Stop: unregister (main may already have), close the poll handles, close the uffd, fail queued commands. */
function stop(data: PagerWorkerData, ring: ControlRing | undefined): void {
  if (held.stopped) return;
  held.stopped = true;
  const uffd = held.uffd;
  try {
    if (uffd && !uffd.isClosed) uffd.unregister(data.regionAddress, data.sizeBytes);
  } catch (err) {
    diagnose(`unregister at stop failed: ${(err as Error).message}`);
  }
  if (held.ticker) clearInterval(held.ticker);
  for (const handle of held.polls) handle.close();
  held.polls = [];
  uffd?.close(); // wakes any remaining waiter; its retry is an ordinary fault
  ring?.drain(() => CommandResult.Failed);
  held.handler?.close();
  held.scanner?.close();
  held.zero?.unmap();
  post({ type: 'stopped' });
  // Main may be waiting in its exit hook for this (see Pager's exit guard). Signal only after the
  // poll handles' close callbacks ran (libuv's close phase): a timer fires in the next iteration.
  setTimeout(() => {
    const lifecycle = new Int32Array(data.lifecycleSab);
    Atomics.store(lifecycle, 0, 1);
    Atomics.notify(lifecycle, 0);
  }, 0);
  // Nothing is left on this loop: the worker exits by itself.
}

const data = workerData as PagerWorkerData;
start(data).catch((err) => {
  const e = err as Error & { code?: string };
  post({ type: 'failed', code: e.code ?? 'error', message: e.message });
  stop(data, undefined);
});
