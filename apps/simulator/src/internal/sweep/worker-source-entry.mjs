// Worker entry used when @rackmem/simulator runs from its TypeScript sources (vitest, tsx): Node
// 20 cannot start a .ts file as a Worker, and `--import tsx` in a Worker's execArgv does not
// apply to the worker's own entry module. So this plain-JS file registers tsx's ESM loader on
// the worker thread, then imports worker-main.ts. The built package starts
// dist/internal/sweep/worker-main.js directly and never loads this file.
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
await import(workerData.entryUrl);
