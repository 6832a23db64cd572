// Opening a trace: detect its format, find its shape (from a header, or by one streaming scan),
// and hand out fresh record readers (one per replaying thread).

import { WorkloadError } from '../errors.js';
import type { LackeyOptions } from '../spec.js';
import { BinaryTraceReader, hasBinaryMagic } from './binary-format.js';
import type { LackeyLineStats } from './lackey.js';
import { LackeyTraceReader, lackeyNeedsScan, resolveLackeyMapping, scanLackey } from './lackey.js';
import type { ByteSource, TraceRecordReader } from './records.js';
import { TraceRecords } from './records.js';
import type { TraceShape } from './text-format.js';
import { TextTraceReader, parseTextTraceHeader } from './text-format.js';

/** A concrete trace format. */
export type TraceFormat = 'text' | 'binary' | 'lackey';

/** Reads up to `bytes` bytes from the start of a source. */
export function readHead(source: ByteSource, bytes = 4096): Uint8Array {
  const reader = source.open();
  const head = new Uint8Array(bytes);
  let length = 0;
  try {
    while (length < bytes) {
      const n = reader.read(head.subarray(length));
      if (n === 0) break;
      length += n;
    }
  } finally {
    reader.close();
  }
  return head.subarray(0, length);
}

/**
 * The format of a trace from its first bytes: binary by its magic; Lackey if the first line
 * that is not a `#` comment is a Valgrind message (`==`, `--`) or a Lackey record (`I `, ` L`,
 * ` S`, ` M`); otherwise native text.
 */
export function detectTraceFormat(head: Uint8Array): TraceFormat {
  if (hasBinaryMagic(head)) return 'binary';
  const text = new TextDecoder('utf-8', { fatal: false }).decode(head);
  for (const line of text.split('\n')) {
    if (line.trim().length === 0 || line.trimStart().startsWith('#')) continue;
    if (/^(==|--)/.test(line) || /^I\s+[0-9a-fA-F]+,\d/.test(line) || /^\s+[LSM]\s+[0-9a-fA-F]+,\d/.test(line)) return 'lackey';
    return 'text';
  }
  return 'text';
}

/** A trace ready for replay. */
export interface OpenedTrace {
  readonly format: TraceFormat;
  /** Threads (largest id + 1), pages (largest page + 1) and records. */
  readonly shape: TraceShape;
  /** For Lackey input: what the conversion skipped or dropped. */
  readonly lackeyStats: LackeyLineStats | undefined;
  /** A new reader from the first record. */
  openReader(): TraceRecordReader;
}

/** Reads a whole trace once and measures it. */
export function scanTraceShape(reader: TraceRecordReader): TraceShape {
  const batch = new TraceRecords(4096);
  let maxThread = -1;
  let maxPage = -1;
  let records = 0;
  try {
    for (let n = reader.read(batch); n > 0; n = reader.read(batch)) {
      records += n;
      const { threads, pages } = batch;
      for (let i = 0; i < n; i++) {
        if (threads[i] > maxThread) maxThread = threads[i];
        if (pages[i] > maxPage) maxPage = pages[i];
      }
    }
  } finally {
    reader.close();
  }
  return { threadCount: maxThread + 1, pageCount: maxPage + 1, recordCount: records };
}

/** Opens a trace of the given (or detected) format; Lackey options apply to Lackey input only. */
export function openTrace(source: ByteSource, format: TraceFormat | 'auto' = 'auto', lackey: LackeyOptions = {}): OpenedTrace {
  const resolved = format === 'auto' ? detectTraceFormat(readHead(source)) : format;
  const name = source.name;
  if (resolved === 'lackey') {
    const mapping = resolveLackeyMapping(lackey, lackeyNeedsScan(lackey) ? scanLackey(source, lackey) : undefined);
    const counter = new LackeyTraceReader(source.open(), mapping, name);
    const shape = scanTraceShape(counter);
    const lackeyStats = { ...counter.stats };
    return { format: resolved, shape, lackeyStats, openReader: () => new LackeyTraceReader(source.open(), mapping, name) };
  }
  if (resolved === 'binary') {
    const openReader = () => new BinaryTraceReader(source.open(), name);
    const probe = new BinaryTraceReader(source.open(), name);
    let shape: TraceShape | undefined;
    try {
      shape = probe.shape();
    } finally {
      probe.close();
    }
    return { format: resolved, shape: shape ?? scanTraceShape(openReader()), lackeyStats: undefined, openReader };
  }
  const openReader = () => new TextTraceReader(source.open(), name);
  const head = new TextDecoder().decode(readHead(source, 256));
  const header = parseTextTraceHeader(head.split('\n')[0]);
  const shape = header !== undefined && header.threadCount > 0 ? header : scanTraceShape(openReader());
  return { format: resolved, shape, lackeyStats: undefined, openReader };
}

/** Checks a record against the trace's shape (headers can lie; records are validated on replay). */
export function traceRecordOutOfShape(source: string, thread: number, page: number, shape: TraceShape): WorkloadError {
  return new WorkloadError(
    'trace-format',
    `${source}: record (thread ${thread}, page ${page}) is outside the trace's ${shape.threadCount} threads x ${shape.pageCount} pages; the header is wrong or pageCount/threadCount is set too low.`,
    source,
  );
}
