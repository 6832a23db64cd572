// The `trace` workload: each thread replays the records of its thread id, in file order, with
// its own reader over the trace (so threads progress independently and nothing is buffered
// beyond one chunk per thread).

import type { AccessBatch, AccessStream, Workload } from '../access-batch.js';
import { checkFillArguments } from '../access-batch.js';
import { WorkloadError } from '../errors.js';
import type { TraceSpec } from '../spec.js';
import type { OpenedTrace } from './open-trace.js';
import { traceRecordOutOfShape } from './open-trace.js';
import type { TraceRecordReader } from './records.js';
import { TraceRecords } from './records.js';
import type { TraceShape } from './text-format.js';

class TraceStream implements AccessStream {
  private readonly records = new TraceRecords(4096);
  private position = 0;
  private length = 0;
  private done = false;

  constructor(
    private readonly reader: TraceRecordReader,
    private readonly thread: number,
    private readonly filter: boolean,
    private readonly shape: TraceShape,
    private readonly sourceName: string,
  ) {}

  fill(batch: AccessBatch, max: number): number {
    const limit = checkFillArguments(batch, max);
    const { records, shape } = this;
    let count = 0;
    while (count < limit && !this.done) {
      if (this.position === this.length) {
        this.length = this.reader.read(records);
        this.position = 0;
        if (this.length === 0) {
          this.done = true;
          this.reader.close();
          break;
        }
      }
      const { threads, pages, writes, thinkNs } = records;
      let i = this.position;
      const end = this.length;
      for (; i < end && count < limit; i++) {
        const thread = threads[i];
        if (this.filter && thread !== this.thread) {
          if (thread >= shape.threadCount) throw traceRecordOutOfShape(this.sourceName, thread, pages[i], shape);
          continue;
        }
        const page = pages[i];
        if (page >= shape.pageCount || thread >= shape.threadCount) throw traceRecordOutOfShape(this.sourceName, thread, page, shape);
        batch.pages[count] = page;
        batch.writes[count] = writes[i];
        batch.thinkNs[count] = thinkNs[i];
        count++;
      }
      this.position = i;
    }
    return count;
  }

  close(): void {
    this.done = true;
    this.reader.close();
  }
}

/** Builds the workload of an opened trace; pageCount/threadCount in the spec may only widen it. */
export function createTraceWorkload(spec: TraceSpec, trace: OpenedTrace, sourceName: string, path = 'workload'): Workload {
  const found = trace.shape;
  if (spec.pageCount !== undefined && spec.pageCount < found.pageCount) {
    throw new WorkloadError('invalid-workload', `${path}.pageCount: the trace addresses pages up to ${found.pageCount - 1}, so it must be at least ${found.pageCount}, got ${spec.pageCount}`, `${path}.pageCount`);
  }
  if (spec.threadCount !== undefined && spec.threadCount < found.threadCount) {
    throw new WorkloadError('invalid-workload', `${path}.threadCount: the trace has thread ids up to ${found.threadCount - 1}, so it must be at least ${found.threadCount}, got ${spec.threadCount}`, `${path}.threadCount`);
  }
  const shape: TraceShape = {
    pageCount: Math.max(1, spec.pageCount ?? found.pageCount),
    threadCount: Math.max(1, spec.threadCount ?? found.threadCount),
    recordCount: found.recordCount,
  };
  const open: TraceStream[] = [];
  return {
    name: `trace ${trace.format} ${sourceName}`,
    pageCount: shape.pageCount,
    threadCount: shape.threadCount,
    totalAccesses: shape.recordCount,
    stream(thread: number): AccessStream {
      if (!Number.isInteger(thread) || thread < 0 || thread >= shape.threadCount) {
        throw new WorkloadError('invalid-argument', `Thread ${thread} does not exist; this trace has threads 0 .. ${shape.threadCount - 1}.`);
      }
      const stream = new TraceStream(trace.openReader(), thread, shape.threadCount > 1, shape, sourceName);
      open.push(stream);
      return stream;
    },
    close(): void {
      for (const stream of open) stream.close();
      open.length = 0;
    },
  };
}
