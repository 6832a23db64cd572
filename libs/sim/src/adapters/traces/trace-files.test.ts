import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { RandomStreams } from '../../internal/random-stream.js';
import { AccessBatch } from '../../internal/workloads/access-batch.js';
import { openTrace } from '../../internal/workloads/trace/open-trace.js';
import type { TraceRecord } from '../../internal/workloads/trace/records.js';
import { readAllRecords, toTraceRecords } from '../../internal/workloads/trace/records.js';
import { fileByteSource } from './file-source.js';
import { convertTraceFile, createFileWorkload, writeTraceFile } from './trace-files.js';

const dir = mkdtempSync(join(tmpdir(), 'rackmem-traces-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const records: TraceRecord[] = Array.from({ length: 10_000 }, (_, i) => ({
  thread: i % 3,
  write: i % 5 === 0,
  page: (i * 7919) % 1000,
  thinkNs: i % 11,
}));

describe('trace files', () => {
  it('writes text and binary files with patched headers and streams them back', () => {
    for (const format of ['text', 'binary'] as const) {
      const path = join(dir, `a.${format}`);
      const batch = toTraceRecords(records);
      const shape = writeTraceFile(path, format, [{ records: batch, count: 4000 }, { records: toTraceRecords(records.slice(4000)), count: 6000 }]);
      expect(shape).toEqual({ threadCount: 3, pageCount: 1000, recordCount: 10_000 });
      const trace = openTrace(fileByteSource(path));
      expect(trace.format).toBe(format);
      expect(trace.shape).toEqual(shape);
      expect(readAllRecords(trace.openReader(), 999)).toEqual(records);
    }
    expect(readFileSync(join(dir, 'a.binary')).length).toBe(32 + 24 * 10_000);
  });

  it('converts text -> binary -> text byte for byte, and Lackey -> binary', () => {
    const text = join(dir, 'b.text');
    writeTraceFile(text, 'text', [{ records: toTraceRecords(records), count: records.length }]);
    const binary = join(dir, 'b.bin');
    expect(convertTraceFile(text, binary, { to: 'binary' })).toMatchObject({ from: 'text', to: 'binary', shape: { recordCount: 10_000 } });
    const back = join(dir, 'b2.text');
    convertTraceFile(binary, back, { to: 'text' });
    expect(readFileSync(back)).toEqual(readFileSync(text));
    const lackey = join(dir, 'c.lackey');
    writeFileSync(lackey, '==1== x\nI  0400,2\n M 20000,8\n S 21ff8,16\n');
    const out = join(dir, 'c.bin');
    const result = convertTraceFile(lackey, out, { to: 'binary', lackey: { instructionNs: 3 } });
    expect(result).toMatchObject({ from: 'lackey', shape: { threadCount: 1, pageCount: 3, recordCount: 4 }, lackeyStats: { instructions: 1 } });
    expect(readAllRecords(openTrace(fileByteSource(out)).openReader()).map((x) => [x.page, x.write, x.thinkNs])).toEqual([
      [0, false, 3], [0, true, 0], [1, true, 0], [2, true, 0],
    ]);
  });

  it('replays a trace spec from a file relative to a base directory', () => {
    writeTraceFile(join(dir, 'd.bin'), 'binary', [{ records: toTraceRecords(records), count: records.length }]);
    const streams = new RandomStreams(1);
    const workload = createFileWorkload({ kind: 'trace', path: 'd.bin' }, (name) => streams.stream(name), { baseDir: dir });
    expect([workload.threadCount, workload.pageCount, workload.totalAccesses]).toEqual([3, 1000, 10_000]);
    const stream = workload.stream(2);
    const batch = new AccessBatch(256);
    const pages: number[] = [];
    for (let n = stream.fill(batch, 256); n > 0; n = stream.fill(batch, 256)) pages.push(...batch.pages.subarray(0, n));
    expect(pages).toEqual(records.filter((x) => x.thread === 2).map((x) => x.page));
    workload.close();
    expect(() => createFileWorkload({ kind: 'trace', path: 'missing.bin' }, (name) => streams.stream(name), { baseDir: dir })).toThrow(/ENOENT/);
  });
});
