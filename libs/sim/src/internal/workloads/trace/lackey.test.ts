import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { LackeyOptions } from '../spec.js';
import { openTrace } from './open-trace.js';
import type { TraceRecord } from './records.js';
import { memoryByteSource, readAllRecords } from './records.js';

const sample = readFileSync(new URL('../fixtures/sample.lackey', import.meta.url));
const STACK_PAGE = (0x1ffefff000 - 0x04020000) / 4096;

function convert(options: LackeyOptions, chunkBytes = 1 << 16) {
  const trace = openTrace(memoryByteSource(sample, 'sample.lackey', chunkBytes), 'lackey', options);
  return { trace, records: readAllRecords(trace.openReader(), 3) };
}

const r = (page: number, write: boolean, thinkNs = 0): TraceRecord => ({ thread: 0, write, page, thinkNs });

describe('Lackey conversion (checked-in sample)', () => {
  it('splits page-crossing accesses, turns M into a read then a write, and counts instructions as think time', () => {
    const { trace, records } = convert({ instructionNs: 10 });
    expect(records).toEqual([
      r(0, true, 20), // S 04020010 after 2 instructions; base = 0x04020000
      r(1, false, 10), r(2, false), // L 04021ffc,8 crosses into page 2
      r(3, false), r(3, true), // M 04023100
      r(0, false, 30), // L 04020020 after 3 instructions
      r(4, false), r(4, true), r(5, false), r(5, true), // M 04024ffe,4 crosses
      r(STACK_PAGE, true), // S 1ffefff000: offset mapping keeps the gap
    ]);
    expect(trace.shape).toEqual({ threadCount: 1, pageCount: STACK_PAGE + 1, recordCount: 11 });
    expect(trace.lackeyStats).toEqual({ instructions: 7, dataLines: 6, ignoredLines: 1, droppedAccesses: 0 });
  });

  it('gives the same records whatever the chunk size (lines split across chunks)', () => {
    const whole = convert({ instructionNs: 10 }).records;
    for (const chunk of [1, 7, 64]) expect(convert({ instructionNs: 10 }, chunk).records).toEqual(whole);
  });

  it('drops I lines by default and keeps only an address range, clipped', () => {
    const { trace, records } = convert({ addressEnd: '0x1000000000' });
    expect(records.map((x) => x.page)).toEqual([0, 1, 2, 3, 3, 0, 4, 4, 5, 5]);
    expect(records.every((x) => x.thinkNs === 0)).toBe(true);
    expect(trace.shape.pageCount).toBe(6);
    expect(trace.lackeyStats?.droppedAccesses).toBe(1);
    // Clipping to [0x04021000, 0x04022000) keeps only the first half of the crossing load.
    const clipped = convert({ addressStart: '0x04021000', addressEnd: '0x04022000', instructionNs: 10 });
    expect(clipped.records).toEqual([r(0, false, 30)]);
  });

  it('uses a given base address and page size', () => {
    const { records } = convert({ baseAddress: '0x04000000', addressEnd: 0x05000000, pageSizeBytes: 8192 });
    // 0x04020010 / 8 KiB from 0x04000000 = page 16; 0x04021ffc..0x04022003 crosses at 0x04022000
    // (page 17); the modify at 0x04024ffe no longer crosses a boundary with 8 KiB pages.
    expect(records.map((x) => x.page)).toEqual([16, 16, 17, 17, 17, 16, 18, 18]);
    expect(() => convert({ baseAddress: '0x05000000' })).toThrow(/below the base address/);
  });

  it('renumbers distinct pages densely in address order', () => {
    const { trace, records } = convert({ pageMapping: 'dense' });
    expect(records.map((x) => x.page)).toEqual([0, 1, 2, 3, 3, 0, 4, 4, 5, 5, 6]);
    expect(trace.shape.pageCount).toBe(7);
  });

  it('skips Valgrind messages, counts stray lines, and tolerates CRLF and huge addresses', () => {
    const text = '==1== hi\r\nI  0400,2\r\n L 1000,4\r\nnot lackey\r\n S ffffffffffffffff,8\r\n S 2000,1\r\n';
    const trace = openTrace(memoryByteSource(text), 'auto', { instructionNs: 1 });
    expect(trace.format).toBe('lackey');
    expect(readAllRecords(trace.openReader())).toEqual([r(0, false, 1), r(1, true)]);
    expect(trace.lackeyStats).toEqual({ instructions: 1, dataLines: 3, ignoredLines: 1, droppedAccesses: 1 });
  });
});
