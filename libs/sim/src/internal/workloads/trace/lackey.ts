// Valgrind Lackey (`valgrind --tool=lackey --trace-mem=yes`) output to page accesses.
//   `I  addr,size`  an instruction fetch: dropped, or counted as think time (instructionNs each)
//   ` L addr,size`  a load: a read of every page the bytes [addr, addr + size) touch
//   ` S addr,size`  a store: a write of every such page
//   ` M addr,size`  a modify (load then store): per page, a read then a write
// Addresses are hexadecimal without 0x. Lines starting with `==` or `--` (Valgrind's own
// messages) are skipped; other unrecognised lines are counted in `ignoredLines`. All accesses
// are thread 0 (Lackey does not print thread ids). See README.md for the page mapping.

import { WorkloadError } from '../errors.js';
import type { LackeyOptions } from '../spec.js';
import { parseAddress } from '../validate.js';
import type { ByteReader, ByteSource, TraceRecordReader, TraceRecords } from './records.js';
import { ChunkBuffer } from './records.js';

const NL = 10;
const SPACE = 32;
const TAB = 9;
const CR = 13;
const COMMA = 44;

/** Resolved conversion parameters (after a scan has found the base address when needed). */
export interface LackeyMapping {
  pageSizeBytes: number;
  baseAddress: number;
  /** Accesses are clipped to [addressStart, addressEnd). */
  addressStart: number;
  addressEnd: number;
  /** Dense mapping: absolute page (floor(address / pageSize)) to its rank; undefined for offset mapping. */
  densePages: Map<number, number> | undefined;
  instructionNs: number | undefined;
}

/** What a pass over Lackey output saw. */
export interface LackeyLineStats {
  instructions: number;
  dataLines: number;
  /** Lines that were neither Lackey records nor Valgrind messages. */
  ignoredLines: number;
  /** Data accesses above 2^53 or wholly outside the address range. */
  droppedAccesses: number;
}

type LineHandler = (kind: number, address: number, size: number) => void;

/** Splits Lackey bytes into records and hands them to a handler; counts what it skips. */
class LackeyLineParser {
  readonly stats: LackeyLineStats = { instructions: 0, dataLines: 0, ignoredLines: 0, droppedAccesses: 0 };
  private readonly chunks: ChunkBuffer;

  constructor(reader: ByteReader, chunkBytes = 1 << 16) {
    this.chunks = new ChunkBuffer(reader, chunkBytes);
  }

  /** Parses lines until `wanted()` is false or the input ends; returns false at the end. */
  run(handler: LineHandler, wanted: () => boolean): boolean {
    const chunks = this.chunks;
    let scanFrom = chunks.start;
    while (wanted()) {
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
        if (chunks.start === chunks.end) return false;
      }
      this.parseLine(chunks.buffer, chunks.start, newline, handler);
      chunks.start = newline < chunks.end ? newline + 1 : chunks.end;
      scanFrom = chunks.start;
    }
    return true;
  }

  close(): void {
    this.chunks.close();
  }

  private parseLine(b: Uint8Array, from: number, to: number, handler: LineHandler): void {
    let p = from;
    while (p < to && (b[p] === SPACE || b[p] === TAB)) p++;
    if (p === to || b[p] === CR) return;
    const kind = b[p];
    if ((kind === 61 || kind === 45) && p + 1 < to && b[p + 1] === kind) return; // "==" or "--"
    if (!(kind === 73 || kind === 76 || kind === 83 || kind === 77) || p + 1 >= to || (b[p + 1] !== SPACE && b[p + 1] !== TAB)) {
      this.stats.ignoredLines++;
      return;
    }
    p++;
    while (p < to && (b[p] === SPACE || b[p] === TAB)) p++;
    // Hex address: keep it exact only below 2^53 (user-space data addresses are below 2^47).
    let address = 0;
    let digits = 0;
    let huge = false;
    while (p < to) {
      const c = b[p];
      let v: number;
      if (c >= 48 && c <= 57) v = c - 48;
      else if (c >= 97 && c <= 102) v = c - 87;
      else if (c >= 65 && c <= 70) v = c - 55;
      else break;
      address = address * 16 + v;
      if (address > Number.MAX_SAFE_INTEGER) huge = true;
      digits++;
      p++;
    }
    if (digits === 0 || p >= to || b[p] !== COMMA) {
      this.stats.ignoredLines++;
      return;
    }
    p++;
    let size = 0;
    let sizeDigits = 0;
    while (p < to && b[p] >= 48 && b[p] <= 57) {
      size = size * 10 + (b[p++] - 48);
      sizeDigits++;
    }
    if (sizeDigits === 0) {
      this.stats.ignoredLines++;
      return;
    }
    if (kind === 73) {
      this.stats.instructions++;
      handler(kind, 0, 0);
      return;
    }
    this.stats.dataLines++;
    if (huge || size === 0) {
      this.stats.droppedAccesses++;
      return;
    }
    handler(kind, address, size);
  }
}

/** What a scan of Lackey output found: the kept address range and, for dense mapping, the pages. */
export interface LackeyScan extends LackeyLineStats {
  /** Lowest kept address, or undefined if no access was kept. */
  lowestAddress: number | undefined;
  /** One past the highest kept byte. */
  highestAddressEnd: number;
  /** Sorted distinct absolute pages (only when pageMapping is dense). */
  densePages: number[] | undefined;
}

function clipRange(options: LackeyOptions): { start: number; end: number } {
  return {
    start: parseAddress(options.addressStart) ?? 0,
    end: parseAddress(options.addressEnd) ?? Number.MAX_SAFE_INTEGER,
  };
}

/** First pass: the kept address range (and the distinct pages for dense mapping). */
export function scanLackey(source: ByteSource, options: LackeyOptions = {}): LackeyScan {
  const { start, end } = clipRange(options);
  const pageSizeBytes = options.pageSizeBytes ?? 4096;
  const dense = options.pageMapping === 'dense' ? new Set<number>() : undefined;
  let lowest = Number.POSITIVE_INFINITY;
  let highestEnd = 0;
  let dropped = 0;
  const parser = new LackeyLineParser(source.open());
  try {
    parser.run((kind, address, size) => {
      if (kind === 73) return;
      const from = Math.max(address, start);
      const to = Math.min(address + size, end);
      if (to <= from) {
        dropped++;
        return;
      }
      if (from < lowest) lowest = from;
      if (to > highestEnd) highestEnd = to;
      if (dense !== undefined) {
        const last = Math.floor((to - 1) / pageSizeBytes);
        for (let page = Math.floor(from / pageSizeBytes); page <= last; page++) dense.add(page);
      }
    }, () => true);
  } finally {
    parser.close();
  }
  return {
    ...parser.stats,
    droppedAccesses: parser.stats.droppedAccesses + dropped,
    lowestAddress: lowest === Number.POSITIVE_INFINITY ? undefined : lowest,
    highestAddressEnd: highestEnd,
    densePages: dense === undefined ? undefined : [...dense].sort((a, b) => a - b),
  };
}

/** Resolves the options into a mapping, using a scan for the default base and dense pages. */
export function resolveLackeyMapping(options: LackeyOptions, scan: LackeyScan | undefined): LackeyMapping {
  const pageSizeBytes = options.pageSizeBytes ?? 4096;
  const { start, end } = clipRange(options);
  let baseAddress = parseAddress(options.baseAddress);
  if (baseAddress === undefined) {
    const lowest = scan?.lowestAddress ?? start;
    baseAddress = Math.floor(lowest / pageSizeBytes) * pageSizeBytes;
  }
  let densePages: Map<number, number> | undefined;
  if (options.pageMapping === 'dense') {
    if (scan?.densePages === undefined) throw new WorkloadError('invalid-argument', 'Dense Lackey page mapping needs a scan with pageMapping dense.');
    densePages = new Map();
    scan.densePages.forEach((page, rank) => densePages!.set(page, rank));
  }
  return { pageSizeBytes, baseAddress, addressStart: start, addressEnd: end, densePages, instructionNs: options.instructionNs };
}

/** True if a mapping needs a scan first (no explicit base, or dense mapping). */
export function lackeyNeedsScan(options: LackeyOptions): boolean {
  return options.baseAddress === undefined || options.pageMapping === 'dense';
}

/** Streams page accesses (thread 0) out of Lackey bytes with a resolved mapping. */
export class LackeyTraceReader implements TraceRecordReader {
  private readonly parser: LackeyLineParser;
  private pendingInstructions = 0;
  private closed = false;
  // Pages of the current data line not yet emitted (a line can cross pages, M doubles them).
  private pendingFirst = 0;
  private pendingLast = -1;
  private pendingKind = 0;
  private pendingWriteHalf = false;
  private pendingThink = 0;
  private out: TraceRecords | undefined;
  private count = 0;

  constructor(reader: ByteReader, private readonly mapping: LackeyMapping, private readonly sourceName = 'trace') {
    this.parser = new LackeyLineParser(reader);
  }

  /** Counts of what has been parsed so far. */
  get stats(): LackeyLineStats {
    return this.parser.stats;
  }

  read(out: TraceRecords): number {
    if (this.closed) return 0;
    this.out = out;
    this.count = 0;
    this.drainPending();
    if (this.count < out.capacity) {
      this.parser.run(this.onLine, () => this.count < out.capacity);
    }
    this.out = undefined;
    return this.count;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.parser.close();
  }

  private readonly onLine: LineHandler = (kind, address, size) => {
    if (kind === 73) {
      this.pendingInstructions++;
      return;
    }
    const m = this.mapping;
    const from = Math.max(address, m.addressStart);
    const to = Math.min(address + size, m.addressEnd);
    if (to <= from) {
      this.parser.stats.droppedAccesses++;
      return;
    }
    if (from < m.baseAddress) {
      throw new WorkloadError('trace-format', `${this.sourceName}: address 0x${from.toString(16)} is below the base address 0x${m.baseAddress.toString(16)}; lower lackey.baseAddress or set lackey.addressStart.`, this.sourceName);
    }
    this.pendingKind = kind;
    this.pendingWriteHalf = false;
    if (m.densePages !== undefined) {
      const pageSize = m.pageSizeBytes;
      this.pendingFirst = Math.floor(from / pageSize);
      this.pendingLast = Math.floor((to - 1) / pageSize);
    } else {
      this.pendingFirst = Math.floor((from - m.baseAddress) / m.pageSizeBytes);
      this.pendingLast = Math.floor((to - 1 - m.baseAddress) / m.pageSizeBytes);
    }
    const ns = m.instructionNs;
    this.pendingThink = ns === undefined ? 0 : Math.round(this.pendingInstructions * ns);
    this.pendingInstructions = 0;
    this.drainPending();
  };

  private drainPending(): void {
    const out = this.out!;
    const dense = this.mapping.densePages;
    while (this.pendingFirst <= this.pendingLast && this.count < out.capacity) {
      let page = this.pendingFirst;
      if (dense !== undefined) page = dense.get(page) as number;
      if (page > 0x7ffffffe) {
        throw new WorkloadError('trace-format', `${this.sourceName}: page ${page} is beyond 2^31 - 1; set lackey.addressStart/addressEnd, a higher baseAddress, or pageMapping 'dense'.`, this.sourceName);
      }
      const kind = this.pendingKind;
      let write: number;
      if (kind === 76) write = 0; // L
      else if (kind === 83) write = 1; // S
      else write = this.pendingWriteHalf ? 1 : 0; // M: read, then write
      const i = this.count++;
      out.threads[i] = 0;
      out.pages[i] = page;
      out.writes[i] = write;
      out.thinkNs[i] = this.pendingThink;
      this.pendingThink = 0;
      if (kind === 77 && !this.pendingWriteHalf) this.pendingWriteHalf = true;
      else {
        this.pendingWriteHalf = false;
        this.pendingFirst++;
      }
    }
  }
}
