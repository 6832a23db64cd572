// Writers for the native text and binary formats. They emit bytes to a sink (the file adapter,
// or memory); when the shape was not given up front and the sink can patch, the header is
// rewritten at the end with the real counts, so readers need no scan.

import { WorkloadError } from '../errors.js';
import type { TraceRecordReader } from './records.js';
import { TraceRecords } from './records.js';
import type { TraceShape } from './text-format.js';
import { formatTextRecords, textTraceHeader } from './text-format.js';
import { encodeBinaryHeader, encodeBinaryRecords } from './binary-format.js';

/** Where a writer puts its bytes. */
export interface ByteSink {
  write(bytes: Uint8Array): void;
  /** Overwrites bytes at an absolute position already written (optional). */
  patch?(position: number, bytes: Uint8Array): void;
}

/** The native formats a writer can produce. */
export type NativeTraceFormat = 'text' | 'binary';

/** Writes records in one of the native formats. */
export class TraceWriter {
  private readonly encoder = new TextEncoder();
  private records = 0;
  private maxThread = -1;
  private maxPage = -1;
  private finished = false;
  private readonly patchHeader: boolean;

  constructor(
    private readonly sink: ByteSink,
    readonly format: NativeTraceFormat,
    private readonly declared?: TraceShape,
  ) {
    this.patchHeader = declared === undefined && sink.patch !== undefined;
    const placeholder: TraceShape | undefined = declared ?? (this.patchHeader ? { threadCount: 0, pageCount: 0, recordCount: 0 } : undefined);
    if (format === 'binary') sink.write(encodeBinaryHeader(placeholder));
    else sink.write(this.encoder.encode(`${textTraceHeader(placeholder)}\n`));
  }

  /** Appends the first `count` records of a batch. */
  write(batch: TraceRecords, count: number): void {
    if (this.finished) throw new WorkloadError('invalid-argument', 'This trace writer is finished; create a new one.');
    for (let i = 0; i < count; i++) {
      const thinkNs = batch.thinkNs[i];
      if (!Number.isSafeInteger(thinkNs) || thinkNs < 0) throw new WorkloadError('invalid-argument', `Record ${this.records + i}: thinkNs must be a non-negative safe integer, got ${thinkNs}.`);
      if (batch.pages[i] < 0 || batch.pages[i] > 0x7ffffffe) throw new WorkloadError('invalid-argument', `Record ${this.records + i}: page must be in [0, 2^31 - 2], got ${batch.pages[i]}.`);
      if (batch.threads[i] > this.maxThread) this.maxThread = batch.threads[i];
      if (batch.pages[i] > this.maxPage) this.maxPage = batch.pages[i];
    }
    this.records += count;
    if (this.format === 'binary') this.sink.write(encodeBinaryRecords(batch, count));
    else this.sink.write(this.encoder.encode(formatTextRecords(batch, count)));
  }

  /** Ends the trace and returns its shape; checks it against a shape declared up front. */
  finish(): TraceShape {
    this.finished = true;
    const shape: TraceShape = { threadCount: this.maxThread + 1, pageCount: this.maxPage + 1, recordCount: this.records };
    const declared = this.declared;
    if (declared !== undefined) {
      if (declared.recordCount !== shape.recordCount || shape.threadCount > declared.threadCount || shape.pageCount > declared.pageCount) {
        throw new WorkloadError('invalid-argument', `The trace written (${shape.recordCount} records, threads < ${shape.threadCount}, pages < ${shape.pageCount}) does not match the declared header (${declared.recordCount} records, ${declared.threadCount} threads, ${declared.pageCount} pages).`);
      }
      return declared;
    }
    if (this.patchHeader && shape.threadCount > 0) {
      const header = this.format === 'binary' ? encodeBinaryHeader(shape) : this.encoder.encode(textTraceHeader(shape));
      this.sink.patch!(0, header);
    }
    return shape;
  }
}

/** A sink that keeps everything in memory and can patch. */
export class MemorySink implements ByteSink {
  private chunks: Uint8Array[] = [];
  private length = 0;
  private patches: { position: number; bytes: Uint8Array }[] = [];

  write(bytes: Uint8Array): void {
    this.chunks.push(bytes.slice());
    this.length += bytes.length;
  }

  patch(position: number, bytes: Uint8Array): void {
    if (position + bytes.length > this.length) throw new WorkloadError('invalid-argument', 'Cannot patch beyond the bytes written.');
    this.patches.push({ position, bytes: bytes.slice() });
  }

  /** Everything written, with patches applied. */
  bytes(): Uint8Array {
    const all = new Uint8Array(this.length);
    let at = 0;
    for (const chunk of this.chunks) {
      all.set(chunk, at);
      at += chunk.length;
    }
    for (const { position, bytes } of this.patches) all.set(bytes, position);
    return all;
  }
}

/** Copies every record of a reader into a writer (a format converter); closes the reader. */
export function copyTrace(reader: TraceRecordReader, writer: TraceWriter, batchSize = 4096): TraceShape {
  const batch = new TraceRecords(batchSize);
  try {
    for (let n = reader.read(batch); n > 0; n = reader.read(batch)) writer.write(batch, n);
  } finally {
    reader.close();
  }
  return writer.finish();
}

/** Encodes records as a whole trace in memory (tests and small traces). */
export function encodeTrace(batch: TraceRecords, count: number, format: NativeTraceFormat): Uint8Array {
  const sink = new MemorySink();
  const writer = new TraceWriter(sink, format);
  if (count > 0) writer.write(batch, count);
  writer.finish();
  return sink.bytes();
}
