// The native binary trace format, little-endian:
//   header, 32 bytes: magic "RMTRACE\0" (8), u32 version = 1, u32 recordBytes = 24,
//                     u32 threadCount, u32 pageCount, u64 recordCount
//                     (threadCount = 0 means the counts are unknown and readers scan the trace)
//   records, 24 bytes each: u32 thread, u32 page, u8 op (0 read, 1 write), 7 bytes of zero
//                     padding, u64 thinkNs (a safe integer)
// Readers stream it in chunks into typed arrays; nothing holds the whole file.

import { WorkloadError } from '../errors.js';
import type { TraceShape } from './text-format.js';
import type { ByteReader, TraceRecordReader, TraceRecords } from './records.js';
import { ChunkBuffer } from './records.js';

/** "RMTRACE\0". */
export const BINARY_TRACE_MAGIC = new Uint8Array([0x52, 0x4d, 0x54, 0x52, 0x41, 0x43, 0x45, 0x00]);
/** The binary format version this code reads and writes. */
export const BINARY_TRACE_VERSION = 1;
/** Size of the binary header. */
export const BINARY_HEADER_BYTES = 32;
/** Size of one binary record. */
export const BINARY_RECORD_BYTES = 24;
const TWO_POW_32 = 4294967296;

/** True if the bytes start with the binary trace magic. */
export function hasBinaryMagic(bytes: Uint8Array): boolean {
  if (bytes.length < BINARY_TRACE_MAGIC.length) return false;
  for (let i = 0; i < BINARY_TRACE_MAGIC.length; i++) if (bytes[i] !== BINARY_TRACE_MAGIC[i]) return false;
  return true;
}

/** The 32-byte header; without a shape the counts are zero (unknown). */
export function encodeBinaryHeader(shape?: TraceShape): Uint8Array {
  const bytes = new Uint8Array(BINARY_HEADER_BYTES);
  const view = new DataView(bytes.buffer);
  bytes.set(BINARY_TRACE_MAGIC, 0);
  view.setUint32(8, BINARY_TRACE_VERSION, true);
  view.setUint32(12, BINARY_RECORD_BYTES, true);
  if (shape !== undefined) {
    view.setUint32(16, shape.threadCount, true);
    view.setUint32(20, shape.pageCount, true);
    view.setUint32(24, shape.recordCount % TWO_POW_32, true);
    view.setUint32(28, Math.floor(shape.recordCount / TWO_POW_32), true);
  }
  return bytes;
}

/** Parses a header; returns the shape, or undefined when the counts are unknown. */
export function decodeBinaryHeader(bytes: Uint8Array, sourceName = 'trace'): TraceShape | undefined {
  if (bytes.length < BINARY_HEADER_BYTES || !hasBinaryMagic(bytes)) {
    throw new WorkloadError('trace-format', `${sourceName}: not a rackmem binary trace (no RMTRACE header).`, `${sourceName}:0`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, BINARY_HEADER_BYTES);
  const version = view.getUint32(8, true);
  if (version !== BINARY_TRACE_VERSION) {
    throw new WorkloadError('trace-format', `${sourceName}: binary trace version ${version} is not supported (this reader knows version 1); convert it again.`, `${sourceName}:8`);
  }
  const recordBytes = view.getUint32(12, true);
  if (recordBytes !== BINARY_RECORD_BYTES) {
    throw new WorkloadError('trace-format', `${sourceName}: record size ${recordBytes} is not the expected 24 bytes.`, `${sourceName}:12`);
  }
  const threadCount = view.getUint32(16, true);
  if (threadCount === 0) return undefined;
  return { threadCount, pageCount: view.getUint32(20, true), recordCount: view.getUint32(24, true) + view.getUint32(28, true) * TWO_POW_32 };
}

/** Encodes `count` records of a batch (no header). */
export function encodeBinaryRecords(records: TraceRecords, count: number): Uint8Array {
  const bytes = new Uint8Array(count * BINARY_RECORD_BYTES);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < count; i++) {
    const at = i * BINARY_RECORD_BYTES;
    const thinkNs = records.thinkNs[i];
    view.setUint32(at, records.threads[i], true);
    view.setUint32(at + 4, records.pages[i], true);
    bytes[at + 8] = records.writes[i];
    view.setUint32(at + 16, thinkNs % TWO_POW_32, true);
    view.setUint32(at + 20, Math.floor(thinkNs / TWO_POW_32), true);
  }
  return bytes;
}

/** Streams records out of native binary bytes, a chunk at a time. */
export class BinaryTraceReader implements TraceRecordReader {
  private readonly chunks: ChunkBuffer;
  private headerRead = false;
  private shapeValue: TraceShape | undefined;
  private closed = false;

  constructor(reader: ByteReader, private readonly sourceName = 'trace', chunkRecords = 4096) {
    this.chunks = new ChunkBuffer(reader, chunkRecords * BINARY_RECORD_BYTES);
  }

  /** The header's shape (reads the header if needed); undefined when the counts are unknown. */
  shape(): TraceShape | undefined {
    this.readHeader();
    return this.shapeValue;
  }

  read(out: TraceRecords): number {
    if (this.closed) return 0;
    this.readHeader();
    const chunks = this.chunks;
    let count = 0;
    while (count < out.capacity) {
      let available = chunks.available;
      if (available < BINARY_RECORD_BYTES) {
        available = chunks.fillAtLeast(Math.min(chunks.buffer.length, (out.capacity - count) * BINARY_RECORD_BYTES));
        if (available === 0) break;
        if (available < BINARY_RECORD_BYTES) {
          throw new WorkloadError('trace-format', `${this.sourceName}: the trace ends inside a record (${available} stray bytes at offset ${chunks.consumedBefore + chunks.start}); it is truncated.`, `${this.sourceName}:${chunks.consumedBefore + chunks.start}`);
        }
      }
      const buffer = chunks.buffer;
      const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
      let at = chunks.start;
      const records = Math.min(Math.floor(available / BINARY_RECORD_BYTES), out.capacity - count);
      for (let r = 0; r < records; r++, at += BINARY_RECORD_BYTES) {
        const page = view.getUint32(at + 4, true);
        const op = buffer[at + 8];
        const high = view.getUint32(at + 20, true);
        if (op > 1 || page > 0x7ffffffe || high >= 0x200000) this.badRecord(at, op, page);
        out.threads[count] = view.getUint32(at, true);
        out.pages[count] = page;
        out.writes[count] = op;
        out.thinkNs[count] = view.getUint32(at + 16, true) + high * TWO_POW_32;
        count++;
      }
      chunks.start = at;
    }
    return count;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.chunks.close();
  }

  private readHeader(): void {
    if (this.headerRead) return;
    this.headerRead = true;
    const chunks = this.chunks;
    chunks.fillAtLeast(BINARY_HEADER_BYTES);
    this.shapeValue = decodeBinaryHeader(chunks.buffer.subarray(chunks.start, chunks.end), this.sourceName);
    chunks.start += BINARY_HEADER_BYTES;
  }

  private badRecord(at: number, op: number, page: number): never {
    const offset = this.chunks.consumedBefore + at;
    const problem = op > 1 ? `op byte ${op} is not 0 (read) or 1 (write)` : page > 0x7ffffffe ? `page ${page} is not below 2^31 - 1` : 'thinkNs is not a safe integer';
    throw new WorkloadError('trace-format', `${this.sourceName}: record at byte ${offset}: ${problem}.`, `${this.sourceName}:${offset}`);
  }
}
