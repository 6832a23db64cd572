// A sweep worker thread: runs one point at a time with runScenario and posts its result (or its
// failure) to the main thread, with progress messages in between.

import { parentPort, workerData } from 'node:worker_threads';
import { runScenario, ScenarioError, SimCheckError, traceFileOpener, WorkloadError } from '@rackmem/sim';
import type { RunRequest, SweepWorkerData, WorkerReply } from './protocol.js';

const port = parentPort;
if (port === null) throw new Error('worker-main.ts must run in a worker thread');
const data = workerData as SweepWorkerData;

function post(reply: WorkerReply): void {
  port?.postMessage(reply);
}

port.on('message', (request: RunRequest) => {
  const { index } = request;
  try {
    const result = runScenario(request.scenario, {
      seed: request.seed,
      openTraceSource: traceFileOpener(request.baseDir),
      progressEveryEvents: data.progressEveryEvents,
      onProgress: (p) => post({ type: 'progress', index, accessesDone: p.accessesDone, accessesTotal: p.accessesTotal }),
    });
    post({ type: 'done', index, result });
  } catch (error) {
    if (error instanceof SimCheckError) post({ type: 'failed', index, kind: 'check', code: error.code, message: error.message.split('\n')[0], repro: error.repro });
    else if (error instanceof ScenarioError || error instanceof WorkloadError) post({ type: 'failed', index, kind: 'input', code: error.code, message: error.message });
    else post({ type: 'failed', index, kind: 'error', code: (error as { code?: string }).code ?? 'error', message: (error as Error)?.stack ?? String(error) });
  }
});
