import type { PagingEngine } from './engine.js';

/**
 * Carries out one Writeback command for a runtime: stores every page of batch `batchId` through
 * `write` (given the page and the frame holding its data), and once every page answered, reports
 * the batch to the engine (ok only if every page was stored), then calls `finished` so the runtime
 * can drain the commands that completion produced. `scratch` must hold a batch's pages.
 */
export function writeBackBatch(
  engine: PagingEngine,
  batchId: number,
  scratch: Int32Array,
  write: (page: number, frame: number, done: (status: string) => void) => void,
  finished: () => void,
): void {
  const count = engine.copyBatchPages(batchId, scratch);
  let remaining = count;
  let allOk = true;
  const done = (status: string): void => {
    if (status !== 'ok') allOk = false;
    if (--remaining === 0) {
      engine.writebackDone(batchId, allOk);
      finished();
    }
  };
  for (let i = 0; i < count; i++) {
    const page = scratch[i];
    write(page, engine.frameOf(page), done);
  }
}
