import { Worker } from 'node:worker_threads';
import type { PagerWorkerData } from './protocol.js';

/** True when this module runs from TypeScript sources (vitest, tsx) rather than from dist. */
export const RUNNING_FROM_SOURCE = import.meta.url.endsWith('.ts');

/**
 * Starts the pager worker. From dist: `dist/pager/worker-main.js` (plain JS). From sources:
 * `worker-source-entry.mjs`, which registers tsx inside the worker and imports worker-main.ts,
 * with the `@rackmem/source` condition so workspace packages resolve to their sources too.
 */
export function spawnPagerWorker(data: PagerWorkerData): Worker {
  if (RUNNING_FROM_SOURCE) {
    return new Worker(new URL('./worker-source-entry.mjs', import.meta.url), {
      workerData: { ...data, entryUrl: new URL('./worker-main.ts', import.meta.url).href },
      execArgv: ['--conditions=@rackmem/source'],
    });
  }
  return new Worker(new URL('./worker-main.js', import.meta.url), { workerData: data, execArgv: [] });
}
