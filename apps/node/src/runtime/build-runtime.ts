import { performance } from 'node:perf_hooks';
import { DvsRegion, type DvsRegionListener } from '@rackmem/dvs';
import { TcpFabric, type DirectReceiver } from '@rackmem/krdma';
import { PagingEngine, type PageStore } from '@rackmem/vm';
import { PAGE_SIZE_BYTES } from '../native/constants.js';
import type { PagemapScanner } from '../native/pagemap-scan.js';
import type { Userfaultfd } from '../native/uffd.js';
import { UFFDIO_REGISTER_MODE } from '../native/uffd-abi.js';
import type { EngineWorkerConfig } from '../pager/protocol.js';
import type { PagerCounters } from '../pager/stats.js';
import type { UffdMapper } from '../pager/uffd-mapper.js';
import { SharedEngineStats } from './engine-stats.js';
import { FrameStore } from './frame-store.js';
import { LocalPageStore } from './local-page-store.js';
import { openRemoteStorage } from './remote-storage.js';
import { TurnScheduler } from './turn-scheduler.js';
import { UffdRuntime } from './uffd-runtime.js';

/** Frames beyond the region's page count: write-back staging plus slack. */
const FRAME_SLACK = 16;

/**
 * Builds the engine runtime inside the pager worker: the engine, its storage (a dvs region), and
 * the frame store registered with the region's uffd (WP mode only, as UFFDIO_MOVE requires).
 */
export async function buildEngineRuntime(
  config: EngineWorkerConfig,
  uffd: Userfaultfd,
  mapper: UffdMapper,
  counters: PagerCounters,
  regionBytes: number,
  reportLost: (pages: number[]) => void = () => {},
  /** Set when the uffd is in WP_ASYNC mode (see EngineWorkerConfig.asyncDirtyTracking). */
  scanner: PagemapScanner | null = null,
): Promise<UffdRuntime> {
  const pageCount = regionBytes / PAGE_SIZE_BYTES;
  const engine = new PagingEngine({ ...config.vm, pageCount, pageSizeBytes: PAGE_SIZE_BYTES });
  const staging = engine.config.writebackMode === 'async' ? engine.config.writebackBatchPages * engine.config.writebackMaxInFlightBatches : 0;
  const frames = new FrameStore(pageCount + staging + FRAME_SLACK);
  uffd.register(frames.memory.address, frames.memory.sizeBytes, UFFDIO_REGISTER_MODE.WP);
  // Lost pages reported by storage become engine events once the runtime exists.
  const hook: { runtime?: UffdRuntime } = {};
  const listener: DvsRegionListener = { pagesLost: (pages) => hook.runtime?.pagesLost(pages) };
  const { store, close, io } = await openStorage(config, regionBytes, listener);
  const stats = new SharedEngineStats(config.statsSab);
  if (store instanceof DvsRegion) stats.publishDvsFrom(() => store.counters());
  const runtime = new UffdRuntime(engine, store, mapper, frames, counters, stats, () => performance.now(), close, reportLost, scanner, config.testHooks, io);
  hook.runtime = runtime;
  return runtime;
}

async function openStorage(config: EngineWorkerConfig, regionBytes: number, listener: DvsRegionListener): Promise<{ store: PageStore; close: () => Promise<void>; io: DirectReceiver | null }> {
  const storage = config.storage;
  if (storage.kind === 'local') {
    const pages = regionBytes / PAGE_SIZE_BYTES;
    const store = new LocalPageStore(pages, Math.min(pages, Math.floor((storage.capacityBytes ?? regionBytes) / PAGE_SIZE_BYTES)));
    return { store, close: async () => store.close(), io: null };
  }
  const turn = new TurnScheduler();
  const remote = await openRemoteStorage(storage, regionBytes, listener, {}, turn);
  // TCP storage: the pager may read its donor connections in its own poll (verbs completes on the loop).
  const fabric = remote.fabric;
  const io: DirectReceiver | null = fabric instanceof TcpFabric ? {
    get receiveFds() {
      return fabric.receiveFds;
    },
    receiveNow: (fd) => fabric.receiveNow(fd),
    endTurn: () => {
      turn.runNow();
      fabric.endTurn();
    },
  } : null;
  return { store: remote.region, close: () => remote.close(), io };
}
