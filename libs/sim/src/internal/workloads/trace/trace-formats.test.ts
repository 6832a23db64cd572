import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RandomStreams } from '../../random-stream.js';
import { AccessBatch } from '../access-batch.js';
import { createWorkload } from '../create-workload.js';
import { WorkloadError } from '../errors.js';
import type { WorkloadSpec } from '../spec.js';
import { BinaryTraceReader, encodeBinaryHeader } from './binary-format.js';
import { detectTraceFormat, openTrace } from './open-trace.js';
import type { ByteSource, TraceRecord } from './records.js';
import { memoryByteSource, readAllRecords, toTraceRecords } from './records.js';
import { TextTraceReader, parseTextTraceHeader, textTraceHeader } from './text-format.js';
import { MemorySink, TraceWriter, copyTrace, encodeTrace } from './trace-writer.js';

const recordArb = fc.record({
  thread: fc.integer({ min: 0, max: 5 }),
  write: fc.boolean(),
  page: fc.integer({ min: 0, max: 0x7ffffffe }),
  thinkNs: fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER })),
});

function encode(records: TraceRecord[], format: 'text' | 'binary'): Uint8Array {
  return encodeTrace(toTraceRecords(records), records.length, format);
}

function replay(spec: WorkloadSpec, source: ByteSource, batchSize = 5) {
  const streams = new RandomStreams(1);
  const workload = createWorkload(spec, (name) => streams.stream(name), { openTraceSource: () => source });
  const perThread: TraceRecord[][] = [];
  const batch = new AccessBatch(batchSize);
  for (let t = 0; t < workload.threadCount; t++) {
    const stream = workload.stream(t);
    const mine: TraceRecord[] = [];
    for (let n = stream.fill(batch, batchSize); n > 0; n = stream.fill(batch, batchSize)) {
      for (let i = 0; i < n; i++) mine.push({ thread: t, write: batch.writes[i] === 1, page: batch.pages[i], thinkNs: batch.thinkNs[i] });
    }
    perThread.push(mine);
  }
  workload.close();
  return { workload, perThread };
}

describe('native trace formats', () => {
  it('round-trips text and binary, in any chunk size, and converts between them', () => {
    fc.assert(
      fc.property(fc.array(recordArb, { maxLength: 60 }), fc.integer({ min: 1, max: 50 }), (records, chunk) => {
        const text = encode(records, 'text');
        const binary = encode(records, 'binary');
        expect(readAllRecords(new TextTraceReader(memoryByteSource(text, 'm', chunk).open(), 'm', 8), 7)).toEqual(records);
        expect(readAllRecords(new BinaryTraceReader(memoryByteSource(binary, 'm', chunk).open(), 'm', 2), 7)).toEqual(records);
        const sink = new MemorySink();
        copyTrace(new TextTraceReader(memoryByteSource(text).open()), new TraceWriter(sink, 'binary'));
        expect(sink.bytes()).toEqual(binary);
        const back = new MemorySink();
        copyTrace(new BinaryTraceReader(memoryByteSource(binary).open()), new TraceWriter(back, 'text'));
        expect(back.bytes()).toEqual(text);
      }),
      { numRuns: 60 },
    );
  });

  it('writes headers with the shape when it can patch, so readers need no scan', () => {
    const records = [{ thread: 1, write: true, page: 41, thinkNs: 3 }, { thread: 0, write: false, page: 7, thinkNs: 0 }];
    const text = new TextDecoder().decode(encode(records, 'text'));
    expect(text.split('\n')[0]).toBe(textTraceHeader({ threadCount: 2, pageCount: 42, recordCount: 2 }));
    expect(parseTextTraceHeader(text.split('\n')[0])).toEqual({ threadCount: 2, pageCount: 42, recordCount: 2 });
    expect(text.split('\n').slice(1)).toEqual(['1 W 41 3', '0 R 7 0', '']);
    expect(new BinaryTraceReader(memoryByteSource(encode(records, 'binary')).open()).shape()).toEqual({ threadCount: 2, pageCount: 42, recordCount: 2 });
    // A sink that cannot patch gets a header without counts: readers scan instead.
    const chunks: Uint8Array[] = [];
    const writer = new TraceWriter({ write: (bytes) => chunks.push(bytes.slice()) }, 'binary');
    writer.write(toTraceRecords(records), 2);
    expect(writer.finish()).toEqual({ threadCount: 2, pageCount: 42, recordCount: 2 });
    const joined = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    chunks.reduce((at, c) => (joined.set(c, at), at + c.length), 0);
    const trace = openTrace(memoryByteSource(joined));
    expect(trace.format).toBe('binary');
    expect(trace.shape).toEqual({ threadCount: 2, pageCount: 42, recordCount: 2 });
    // A declared shape that the records do not match is an error.
    const strict = new TraceWriter(new MemorySink(), 'text', { threadCount: 1, pageCount: 10, recordCount: 2 });
    strict.write(toTraceRecords(records), 2);
    expect(() => strict.finish()).toThrow(/does not match the declared header/);
  });

  it('parses hand-written text: comments, blank lines, tabs, optional think time, lower-case ops', () => {
    const text = '# a comment\n\n0 R 5 100\n1\tw\t6   # trailing comment\n  0 W 7 0\r\n0 r 8';
    const trace = openTrace(memoryByteSource(text));
    expect(trace.format).toBe('text');
    expect(trace.shape).toEqual({ threadCount: 2, pageCount: 9, recordCount: 4 });
    expect(readAllRecords(trace.openReader())).toEqual([
      { thread: 0, write: false, page: 5, thinkNs: 100 },
      { thread: 1, write: true, page: 6, thinkNs: 0 },
      { thread: 0, write: true, page: 7, thinkNs: 0 },
      { thread: 0, write: false, page: 8, thinkNs: 0 },
    ]);
  });

  it('reports malformed input with its location', () => {
    const bad = (text: string) => () => readAllRecords(new TextTraceReader(memoryByteSource(text).open(), 't.trace'));
    expect(bad('0 R 1 0\n0 X 1 0\n')).toThrow(/t\.trace:2: op must be R or W/);
    expect(bad('0 R -1\n')).toThrow(/t\.trace:1: page must be a non-negative integer/);
    expect(bad('0 R 1x\n')).toThrow(/page must be a non-negative integer/);
    expect(bad('0 R 1 2 3\n')).toThrow(/unexpected text after thinkNs/);
    expect(bad('0 R 2147483647\n')).toThrow(/below 2\^31 - 1/);
    expect(bad('x R 1\n')).toThrow(expect.objectContaining({ code: 'trace-format', field: 't.trace:1' }));
    const binary = encode([{ thread: 0, write: true, page: 1, thinkNs: 2 }], 'binary');
    expect(() => readAllRecords(new BinaryTraceReader(memoryByteSource(binary.subarray(0, binary.length - 3)).open()))).toThrow(/truncated/);
    const badOp = binary.slice();
    badOp[32 + 8] = 7;
    expect(() => readAllRecords(new BinaryTraceReader(memoryByteSource(badOp).open(), 'b.bin'))).toThrow(/b\.bin: record at byte 32: op byte 7/);
    const badVersion = binary.slice();
    badVersion[8] = 9;
    expect(() => readAllRecords(new BinaryTraceReader(memoryByteSource(badVersion).open()))).toThrow(/version 9 is not supported/);
    expect(() => readAllRecords(new BinaryTraceReader(memoryByteSource('0 R 1 0\n').open()))).toThrow(WorkloadError);
  });

  it('detects the format from the first bytes', () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    expect(detectTraceFormat(encodeBinaryHeader())).toBe('binary');
    expect(detectTraceFormat(enc('==1== Lackey\nI  0400,2\n'))).toBe('lackey');
    expect(detectTraceFormat(enc('I  04001000,3\n'))).toBe('lackey');
    expect(detectTraceFormat(enc(' L 1ffefffd38,8\n'))).toBe('lackey');
    expect(detectTraceFormat(enc('# rackmem-trace v1\n0 R 1 0\n'))).toBe('text');
    expect(detectTraceFormat(enc(''))).toBe('text');
  });
});

describe('trace replay workload', () => {
  const records: TraceRecord[] = [
    { thread: 0, write: true, page: 3, thinkNs: 10 },
    { thread: 2, write: false, page: 9, thinkNs: 0 },
    { thread: 0, write: false, page: 3, thinkNs: 5 },
    { thread: 2, write: true, page: 1, thinkNs: 7 },
    { thread: 0, write: false, page: 4, thinkNs: 0 },
  ];

  it('replays each thread as recorded, from text and from binary alike', () => {
    for (const format of ['text', 'binary'] as const) {
      for (const batchSize of [1, 2, 64]) {
        const { workload, perThread } = replay({ kind: 'trace', path: 'x' }, memoryByteSource(encode(records, format), 'x', 5), batchSize);
        expect(workload.threadCount).toBe(3);
        expect(workload.pageCount).toBe(10);
        expect(workload.totalAccesses).toBe(5);
        expect(perThread[0]).toEqual(records.filter((x) => x.thread === 0));
        expect(perThread[1]).toEqual([]);
        expect(perThread[2]).toEqual(records.filter((x) => x.thread === 2));
      }
    }
  });

  it('round-trips generated workloads: generator -> trace -> replay gives the same accesses', () => {
    const spec: WorkloadSpec = { kind: 'zipfian', pageCount: 200, threadCount: 2, accessesPerThread: 300, writeNumerator: 1, writeDenominator: 3, thinkNs: 40, thinkDistribution: 'exponential' };
    const streams = new RandomStreams(4);
    const workload = createWorkload(spec, (name) => streams.stream(name));
    const all: TraceRecord[] = [];
    const batch = new AccessBatch(64);
    for (let t = 0; t < 2; t++) {
      const stream = workload.stream(t);
      for (let n = stream.fill(batch, 64); n > 0; n = stream.fill(batch, 64)) {
        for (let i = 0; i < n; i++) all.push({ thread: t, write: batch.writes[i] === 1, page: batch.pages[i], thinkNs: batch.thinkNs[i] });
      }
    }
    const { perThread } = replay({ kind: 'trace', path: 'g', format: 'binary', pageCount: 200 }, memoryByteSource(encode(all, 'binary')));
    expect(perThread.flat()).toEqual(all);
  });

  it('may widen pages and threads but never narrow them, and rejects records outside a lying header', () => {
    const source = memoryByteSource(encode(records, 'text'));
    const wide = replay({ kind: 'trace', path: 'x', pageCount: 50, threadCount: 4 }, source);
    expect([wide.workload.pageCount, wide.workload.threadCount]).toEqual([50, 4]);
    expect(() => replay({ kind: 'trace', path: 'x', pageCount: 9 }, source)).toThrow(/workload\.pageCount: the trace addresses pages up to 9/);
    expect(() => replay({ kind: 'trace', path: 'x', threadCount: 2 }, source)).toThrow(/workload\.threadCount/);
    const lying = `${textTraceHeader({ threadCount: 1, pageCount: 4, recordCount: 2 })}\n0 R 1 0\n0 R 8 0\n`;
    expect(() => replay({ kind: 'trace', path: 'x' }, memoryByteSource(lying))).toThrow(/outside the trace's 1 threads x 4 pages/);
  });

  it('replays Lackey output as one thread', () => {
    const lackey = '==9== x\nI  0400,2\n S 10000,8\n L 10ffc,8\n';
    const { workload, perThread } = replay({ kind: 'trace', path: 'l', lackey: { instructionNs: 2 } }, memoryByteSource(lackey));
    expect(workload.threadCount).toBe(1);
    expect(perThread[0].map((x) => [x.page, x.write, x.thinkNs])).toEqual([[0, true, 2], [0, false, 0], [1, false, 0]]);
  });
});
