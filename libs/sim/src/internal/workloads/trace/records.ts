// Trace records in struct-of-arrays batches, and the byte sources traces are read from. Parsers
// take bytes from a `ByteReader` (a file adapter, or memory in tests) and never do I/O themselves.

import { WorkloadError } from '../errors.js';

/** A reusable batch of trace records (struct of arrays). */
export class TraceRecords {
  readonly threads: Uint32Array;
  readonly pages: Int32Array;
  /** 1 for a write, 0 for a read. */
  readonly writes: Uint8Array;
  /** Integer think time in ns before the access. */
  readonly thinkNs: Float64Array;
  readonly capacity: number;

  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1 || capacity > 1 << 24) {
      throw new WorkloadError('invalid-argument', `TraceRecords needs an integer capacity in [1, 2^24], got ${capacity}.`);
    }
    this.capacity = capacity;
    this.threads = new Uint32Array(capacity);
    this.pages = new Int32Array(capacity);
    this.writes = new Uint8Array(capacity);
    this.thinkNs = new Float64Array(capacity);
  }
}

/** One trace record as an object (for tests and small fixtures, never on a hot path). */
export interface TraceRecord {
  thread: number;
  write: boolean;
  page: number;
  thinkNs: number;
}

/** Copies records into a TraceRecords batch of exactly their number (at least capacity 1). */
export function toTraceRecords(records: readonly TraceRecord[]): TraceRecords {
  const out = new TraceRecords(Math.max(1, records.length));
  records.forEach((r, i) => {
    out.threads[i] = r.thread;
    out.pages[i] = r.page;
    out.writes[i] = r.write ? 1 : 0;
    out.thinkNs[i] = r.thinkNs;
  });
  return out;
}

/** Reads trace records in batches. */
export interface TraceRecordReader {
  /** Fills `out` from index 0 and returns how many records it wrote; 0 at the end of the trace. */
  read(out: TraceRecords): number;
  /** Releases the underlying bytes (idempotent). */
  close(): void;
}

/** Reads all records of a reader into objects (tests and small traces only). */
export function readAllRecords(reader: TraceRecordReader, batchSize = 1024): TraceRecord[] {
  const batch = new TraceRecords(batchSize);
  const all: TraceRecord[] = [];
  try {
    for (let n = reader.read(batch); n > 0; n = reader.read(batch)) {
      for (let i = 0; i < n; i++) {
        all.push({ thread: batch.threads[i], write: batch.writes[i] === 1, page: batch.pages[i], thinkNs: batch.thinkNs[i] });
      }
    }
  } finally {
    reader.close();
  }
  return all;
}

/** A synchronous, chunked source of bytes (a file, or memory). */
export interface ByteReader {
  /** Reads up to into.length bytes into `into`; returns how many, 0 at the end. */
  read(into: Uint8Array): number;
  /** Releases the source (idempotent). */
  close(): void;
}

/** Something that can be read from the start any number of times (a trace file). */
export interface ByteSource {
  /** For error messages (a path, or "memory"). */
  readonly name: string;
  /** A new reader positioned at the first byte. */
  open(): ByteReader;
}

/** A byte source over bytes (or a string, encoded as UTF-8) held in memory. */
export function memoryByteSource(content: Uint8Array | string, name = 'memory', chunkBytes = 1 << 16): ByteSource {
  const bytes = typeof content === 'string' ? new TextEncoder().encode(content) : content;
  return {
    name,
    open(): ByteReader {
      let position = 0;
      return {
        read(into: Uint8Array): number {
          const n = Math.min(into.length, chunkBytes, bytes.length - position);
          into.set(bytes.subarray(position, position + n));
          position += n;
          return n;
        },
        close(): void {
          position = bytes.length;
        },
      };
    },
  };
}

/** A window over a ByteReader: bytes [start, end) of `buffer` are read and not yet consumed. */
export class ChunkBuffer {
  buffer: Uint8Array;
  start = 0;
  end = 0;
  eof = false;
  /** Bytes consumed before buffer[0] (for error positions). */
  consumedBefore = 0;

  constructor(
    private readonly reader: ByteReader,
    chunkBytes: number,
    private readonly maxBytes = 1 << 24,
  ) {
    this.buffer = new Uint8Array(chunkBytes);
  }

  get available(): number {
    return this.end - this.start;
  }

  /** Reads until at least `bytes` are available or the source ends; returns what is available. */
  fillAtLeast(bytes: number): number {
    if (this.end - this.start >= bytes || this.eof) return this.end - this.start;
    if (this.start > 0) {
      this.buffer.copyWithin(0, this.start, this.end);
      this.consumedBefore += this.start;
      this.end -= this.start;
      this.start = 0;
    }
    if (bytes > this.buffer.length) {
      if (bytes > this.maxBytes) throw new WorkloadError('trace-format', `A trace line or record needs more than ${this.maxBytes} bytes of buffer.`);
      const grown = new Uint8Array(Math.min(this.maxBytes, Math.max(bytes, this.buffer.length * 2)));
      grown.set(this.buffer.subarray(0, this.end));
      this.buffer = grown;
    }
    while (this.end < bytes && this.end < this.buffer.length) {
      const n = this.reader.read(this.buffer.subarray(this.end));
      if (n === 0) {
        this.eof = true;
        break;
      }
      this.end += n;
    }
    return this.end - this.start;
  }

  /** Reads more bytes (keeping the unconsumed ones), growing the buffer when it is full. */
  more(): boolean {
    if (this.eof) return false;
    const before = this.end - this.start;
    const want = before < this.buffer.length ? this.buffer.length : before * 2;
    return this.fillAtLeast(want) > before;
  }

  close(): void {
    this.eof = true;
    this.start = this.end = 0;
    this.reader.close();
  }
}
