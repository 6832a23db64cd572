// Worker entry used when @rackmem/node runs from its TypeScript sources (vitest, tsx): Node 20
// cannot load a .ts file as a Worker entry, and `--import tsx` in a Worker's execArgv does not
// take effect for the worker's own entry module. So this plain-JS file registers tsx's ESM
// loader on the worker thread, then imports worker-main.ts. The built package starts
// dist/pager/worker-main.js directly and never loads this file (tsx is a dev dependency).
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
await import(workerData.entryUrl);
