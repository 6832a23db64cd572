// File-level trace operations: write records to a trace file, convert between formats (native
// text, native binary, Lackey in), and build workloads whose `trace` specs name files.

import type { Workload } from '../../internal/workloads/access-batch.js';
import type { CreateWorkloadOptions } from '../../internal/workloads/create-workload.js';
import { createWorkload } from '../../internal/workloads/create-workload.js';
import type { WorkloadRandomFactory } from '../../internal/workloads/random.js';
import type { LackeyOptions, WorkloadSpec } from '../../internal/workloads/spec.js';
import type { LackeyLineStats } from '../../internal/workloads/trace/lackey.js';
import type { TraceFormat } from '../../internal/workloads/trace/open-trace.js';
import { openTrace } from '../../internal/workloads/trace/open-trace.js';
import type { TraceRecords } from '../../internal/workloads/trace/records.js';
import type { TraceShape } from '../../internal/workloads/trace/text-format.js';
import type { NativeTraceFormat } from '../../internal/workloads/trace/trace-writer.js';
import { TraceWriter, copyTrace } from '../../internal/workloads/trace/trace-writer.js';
import { FileSink, fileByteSource, traceFileOpener } from './file-source.js';

/** createWorkload whose `trace` specs open files (relative paths resolve against `baseDir`). */
export function createFileWorkload(
  spec: WorkloadSpec,
  rng: WorkloadRandomFactory,
  options: Omit<CreateWorkloadOptions, 'openTraceSource'> & { baseDir?: string } = {},
): Workload {
  const { baseDir, ...rest } = options;
  return createWorkload(spec, rng, { ...rest, openTraceSource: traceFileOpener(baseDir) });
}

/** Writes batches of records to a native trace file; returns the trace's shape. */
export function writeTraceFile(path: string, format: NativeTraceFormat, batches: Iterable<{ records: TraceRecords; count: number }>): TraceShape {
  const sink = new FileSink(path);
  try {
    const writer = new TraceWriter(sink, format);
    for (const { records, count } of batches) writer.write(records, count);
    return writer.finish();
  } finally {
    sink.close();
  }
}

/** What a conversion did. */
export interface ConversionResult {
  from: TraceFormat;
  to: NativeTraceFormat;
  shape: TraceShape;
  /** For Lackey input: instructions seen, lines ignored, accesses dropped. */
  lackeyStats: LackeyLineStats | undefined;
}

/** Converts a trace file (text, binary or Lackey; auto-detected by default) to a native format. */
export function convertTraceFile(
  inputPath: string,
  outputPath: string,
  options: { from?: TraceFormat | 'auto'; to: NativeTraceFormat; lackey?: LackeyOptions },
): ConversionResult {
  const trace = openTrace(fileByteSource(inputPath), options.from ?? 'auto', options.lackey ?? {});
  const sink = new FileSink(outputPath);
  try {
    const shape = copyTrace(trace.openReader(), new TraceWriter(sink, options.to, trace.shape));
    return { from: trace.format, to: options.to, shape, lackeyStats: trace.lackeyStats };
  } finally {
    sink.close();
  }
}
