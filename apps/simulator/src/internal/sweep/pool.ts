// Runs sweep points on a pool of worker threads (one point per worker at a time), reporting
// progress and each outcome as it arrives. Outcomes are returned in point order, so nothing
// written afterwards depends on the number of workers or on their timing.

import { Worker } from 'node:worker_threads';
import type { SimResult } from '@rackmem/sim';
import type { SweepPoint } from './grid.js';
import type { RunRequest, SweepWorkerData, WorkerReply } from './protocol.js';

/** True when this module runs from TypeScript sources (vitest, tsx) rather than from dist. */
export const RUNNING_FROM_SOURCE = import.meta.url.endsWith('.ts');

/** The outcome of one point. */
export type PointOutcome =
  | { point: SweepPoint; status: 'ok'; result: SimResult }
  | { point: SweepPoint; status: 'failed'; kind: 'check' | 'input' | 'error'; code: string; message: string; repro?: string };

/** Pool callbacks. */
export interface PoolCallbacks {
  /** A running point reports progress (fraction of its accesses, when known). */
  onProgress?: (point: SweepPoint, fraction: number) => void;
  /** A point finished. */
  onOutcome?: (outcome: PointOutcome) => void;
}

/** Starts one sweep worker (dist: worker-main.js; sources: the .mjs bootstrap that registers tsx). */
export function spawnSweepWorker(data: SweepWorkerData): Worker {
  if (RUNNING_FROM_SOURCE) {
    return new Worker(new URL('./worker-source-entry.mjs', import.meta.url), {
      workerData: { ...data, entryUrl: new URL('./worker-main.ts', import.meta.url).href },
      execArgv: ['--conditions=@rackmem/source'],
    });
  }
  return new Worker(new URL('./worker-main.js', import.meta.url), { workerData: data, execArgv: [] });
}

/** Runs `points` on `jobs` workers; resolves with the outcomes in point order. */
export async function runPool(points: readonly SweepPoint[], jobs: number, callbacks: PoolCallbacks = {}): Promise<PointOutcome[]> {
  const outcomes = new Map<number, PointOutcome>();
  const byIndex = new Map(points.map((p) => [p.index, p]));
  const queue = [...points];
  const workers: Worker[] = [];
  const count = Math.max(1, Math.min(jobs, points.length));
  try {
    await new Promise<void>((resolve, reject) => {
      if (points.length === 0) {
        resolve();
        return;
      }
      let settled = false;
      const fail = (error: Error): void => {
        if (!settled) {
          settled = true;
          reject(error);
        }
      };
      const feed = (worker: Worker): void => {
        const point = queue.shift();
        if (point === undefined) return;
        const request: RunRequest = { type: 'run', index: point.index, scenario: point.scenario, seed: point.seed, baseDir: point.baseDir };
        worker.postMessage(request);
      };
      for (let w = 0; w < count; w++) {
        const worker = spawnSweepWorker({ progressEveryEvents: 200_000 });
        workers.push(worker);
        worker.on('message', (reply: WorkerReply) => {
          const point = byIndex.get(reply.index);
          if (point === undefined) return;
          if (reply.type === 'progress') {
            if (reply.accessesTotal !== undefined && reply.accessesTotal > 0) callbacks.onProgress?.(point, reply.accessesDone / reply.accessesTotal);
            return;
          }
          const outcome: PointOutcome = reply.type === 'done'
            ? { point, status: 'ok', result: reply.result }
            : { point, status: 'failed', kind: reply.kind, code: reply.code, message: reply.message, ...(reply.repro === undefined ? {} : { repro: reply.repro }) };
          outcomes.set(point.index, outcome);
          callbacks.onOutcome?.(outcome);
          if (outcomes.size === points.length) {
            settled = true;
            resolve();
          } else feed(worker);
        });
        worker.on('error', (error) => fail(error));
        worker.on('exit', (code) => {
          if (!settled) fail(new Error(`sweep worker exited with code ${code} before the sweep finished`));
        });
        feed(worker);
      }
    });
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return points.map((p) => outcomes.get(p.index) as PointOutcome);
}
