// Messages between the sweep's main thread and its worker threads.

import type { Scenario, SimResult } from '@rackmem/sim';

/** Main thread -> worker: run one point. */
export interface RunRequest {
  type: 'run';
  index: number;
  scenario: Scenario;
  seed: string;
  baseDir: string;
}

/** Worker -> main thread. */
export type WorkerReply =
  | { type: 'progress'; index: number; accessesDone: number; accessesTotal: number | undefined }
  | { type: 'done'; index: number; result: SimResult }
  | { type: 'failed'; index: number; kind: 'check' | 'input' | 'error'; code: string; message: string; repro?: string };

/** Data every worker starts with. */
export interface SweepWorkerData {
  /** Progress message every this many events. */
  progressEveryEvents: number;
  /** From sources only: the worker-main.ts URL the .mjs bootstrap imports. */
  entryUrl?: string;
}
