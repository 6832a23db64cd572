// The native text trace format: one record per line, `thread op page thinkNs` (op R or W;
// thinkNs optional, default 0), fields separated by spaces or tabs, `#` starts a comment. The
// writer's first line is a header comment that may carry the trace's shape:
//   # rackmem-trace v1 threads=0000000002 pages=0000000100 records=0000000000001000
// The parser works on bytes (ASCII), a line at a time, without building strings.

import { WorkloadError } from '../errors.js';
import type { ByteReader, TraceRecordReader, TraceRecords } from './records.js';
import { ChunkBuffer } from './records.js';

/** What a trace header says about the trace (all counts known, or none). */
export interface TraceShape {
  threadCount: number;
  pageCount: number;
  recordCount: number;
}

const HEADER_PREFIX = '# rackmem-trace v1';
const NL = 10;
const CR = 13;
const SPACE = 32;
const TAB = 9;
const HASH = 35;

/** The header line (without newline), with counts when `shape` is given; fixed width so it can be patched. */
export function textTraceHeader(shape?: TraceShape): string {
  if (shape === undefined) return HEADER_PREFIX;
  const pad = (value: number, width: number) => String(value).padStart(width, '0');
  return `${HEADER_PREFIX} threads=${pad(shape.threadCount, 10)} pages=${pad(shape.pageCount, 10)} records=${pad(shape.recordCount, 16)}`;
}

/** Parses the shape from a text trace's first line, if it is a writer header with counts. */
export function parseTextTraceHeader(firstLine: string): TraceShape | undefined {
  const match = /^# rackmem-trace v1 threads=(\d+) pages=(\d+) records=(\d+)\s*$/.exec(firstLine);
  if (match === null) return undefined;
  return { threadCount: Number(match[1]), pageCount: Number(match[2]), recordCount: Number(match[3]) };
}

/** One record as a text line (with newline). */
export function formatTextRecord(thread: number, write: boolean, page: number, thinkNs: number): string {
  return `${thread} ${write ? 'W' : 'R'} ${page} ${thinkNs}\n`;
}

/** Formats `count` records of a batch as text lines. */
export function formatTextRecords(records: TraceRecords, count: number): string {
  let text = '';
  for (let i = 0; i < count; i++) {
    text += `${records.threads[i]} ${records.writes[i] === 1 ? 'W' : 'R'} ${records.pages[i]} ${records.thinkNs[i]}\n`;
  }
  return text;
}

/** Streams records out of native text bytes, a chunk at a time. */
export class TextTraceReader implements TraceRecordReader {
  private readonly chunks: ChunkBuffer;
  private line = 0;
  private closed = false;

  constructor(reader: ByteReader, private readonly sourceName = 'trace', chunkBytes = 1 << 16) {
    this.chunks = new ChunkBuffer(reader, chunkBytes);
  }

  read(out: TraceRecords): number {
    if (this.closed) return 0;
    const chunks = this.chunks;
    let count = 0;
    let scanFrom = chunks.start;
    while (count < out.capacity) {
      const buffer = chunks.buffer;
      const end = chunks.end;
      let newline = scanFrom;
      while (newline < end && buffer[newline] !== NL) newline++;
      if (newline === end) {
        const consumed = chunks.start;
        if (chunks.more()) {
          scanFrom = newline - consumed + chunks.start; // the buffer may have been compacted
          continue;
        }
        if (chunks.start === chunks.end) break; // end of input
      }
      this.line++;
      if (this.parseLine(chunks.buffer, chunks.start, newline, out, count)) count++;
      chunks.start = newline < chunks.end ? newline + 1 : chunks.end;
      scanFrom = chunks.start;
    }
    return count;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.chunks.close();
  }

  private fail(problem: string): never {
    throw new WorkloadError('trace-format', `${this.sourceName}:${this.line}: ${problem} (expected "thread R|W page [thinkNs]")`, `${this.sourceName}:${this.line}`);
  }

  /** Parses one line; returns true if it held a record. */
  private parseLine(b: Uint8Array, from: number, to: number, out: TraceRecords, index: number): boolean {
    let p = skipBlanks(b, from, to);
    if (p === to || b[p] === HASH) return false;
    // thread
    let begin = p;
    let thread = 0;
    while (p < to && b[p] >= 48 && b[p] <= 57) thread = thread * 10 + (b[p++] - 48);
    if (p === begin || !endsField(b, p, to)) this.fail('thread must be a non-negative integer');
    if (thread > 0xffffffff) this.fail('thread must fit in 32 bits');
    p = skipBlanks(b, p, to);
    const op = p < to ? b[p++] : 0;
    let write: number;
    if (op === 82 || op === 114) write = 0; // R r
    else if (op === 87 || op === 119) write = 1; // W w
    else this.fail('op must be R or W');
    if (p < to && b[p] !== SPACE && b[p] !== TAB) this.fail('op must be R or W');
    // page
    p = skipBlanks(b, p, to);
    begin = p;
    let page = 0;
    while (p < to && b[p] >= 48 && b[p] <= 57) page = page * 10 + (b[p++] - 48);
    if (p === begin || !endsField(b, p, to)) this.fail('page must be a non-negative integer');
    if (page > 0x7ffffffe) this.fail('page must be below 2^31 - 1');
    // optional thinkNs
    p = skipBlanks(b, p, to);
    let thinkNs = 0;
    if (p < to && b[p] !== HASH) {
      begin = p;
      while (p < to && b[p] >= 48 && b[p] <= 57) thinkNs = thinkNs * 10 + (b[p++] - 48);
      if (p === begin || !endsField(b, p, to)) this.fail('thinkNs must be a non-negative integer');
      if (!Number.isSafeInteger(thinkNs)) this.fail('thinkNs is too large');
      p = skipBlanks(b, p, to);
      if (p < to && b[p] !== HASH) this.fail('unexpected text after thinkNs');
    }
    out.threads[index] = thread;
    out.pages[index] = page;
    out.writes[index] = write;
    out.thinkNs[index] = thinkNs;
    return true;
  }
}

function skipBlanks(b: Uint8Array, p: number, to: number): number {
  while (p < to && (b[p] === SPACE || b[p] === TAB || b[p] === CR)) p++;
  return p;
}

/** True if a number ends at p: end of line, a blank or a comment. */
function endsField(b: Uint8Array, p: number, to: number): boolean {
  return p === to || b[p] === SPACE || b[p] === TAB || b[p] === CR || b[p] === HASH;
}
