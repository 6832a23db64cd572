// Real Valgrind output through the Lackey converter. Needs valgrind (and gcc for the second
// test); skipped with a printed reason where they are missing.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openTrace } from '../../internal/workloads/trace/open-trace.js';
import { readAllRecords } from '../../internal/workloads/trace/records.js';
import { fileByteSource } from './file-source.js';

function has(command: string): boolean {
  try {
    execFileSync(command, ['--version'], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

const haveValgrind = has('valgrind');
const haveGcc = has('gcc');
if (!haveValgrind) console.log('lackey-valgrind.test.ts: skipped, valgrind is not installed');
else if (!haveGcc) console.log('lackey-valgrind.test.ts: the compiled-program test is skipped, gcc is not installed');

const dir = mkdtempSync(join(tmpdir(), 'rackmem-lackey-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function lackey(program: string, log: string): string {
  return execFileSync('valgrind', ['--tool=lackey', '--trace-mem=yes', `--log-file=${log}`, program], { encoding: 'utf8', timeout: 60_000 });
}

describe('Valgrind Lackey output', () => {
  it.skipIf(!haveValgrind)('parses a full log of /bin/true: every instruction line is counted', () => {
    const log = join(dir, 'true.lackey');
    lackey('/bin/true', log);
    const trace = openTrace(fileByteSource(log));
    expect(trace.format).toBe('lackey');
    const executed = /guest instrs:\s+([\d,]+)/.exec(readFileSync(log, 'utf8'));
    expect(executed).not.toBeNull();
    expect(trace.lackeyStats?.instructions).toBe(Number(executed![1].replace(/,/g, '')));
    expect(trace.lackeyStats?.ignoredLines).toBe(0);
    expect(trace.shape.recordCount).toBeGreaterThanOrEqual(trace.lackeyStats!.dataLines);
  }, 60_000);

  it.skipIf(!haveValgrind || !haveGcc)('converts a compiled program: stores then loads of each page of its buffer, in order', () => {
    const source = join(dir, 'touch.c');
    writeFileSync(source, `#include <stdio.h>
#include <stdlib.h>
int main(void) {
  enum { PAGES = 16, PAGE = 4096 };
  volatile unsigned long *buf = aligned_alloc(PAGE, PAGES * PAGE);
  printf("%lx %d\\n", (unsigned long) buf, PAGES * PAGE);
  fflush(stdout);
  for (int i = 0; i < PAGES; i++) buf[i * (PAGE / 8)] = 0xabcd1234UL;
  unsigned long sum = 0;
  for (int i = 0; i < PAGES; i++) sum += buf[i * (PAGE / 8)];
  return sum == 0xabcd1234UL * PAGES ? 0 : 1;
}
`);
    const program = join(dir, 'touch');
    execFileSync('gcc', ['-O1', '-o', program, source], { timeout: 60_000 });
    const log = join(dir, 'touch.lackey');
    const [address, bytes] = lackey(program, log).trim().split(' ');
    const start = parseInt(address, 16);
    const trace = openTrace(fileByteSource(log), 'lackey', { addressStart: start, addressEnd: start + Number(bytes), instructionNs: 1 });
    const accesses = readAllRecords(trace.openReader());
    const pages = Array.from({ length: 16 }, (_, i) => i);
    expect(accesses.map((x) => x.page)).toEqual([...pages, ...pages]);
    expect(accesses.map((x) => x.write)).toEqual([...pages.map(() => true), ...pages.map(() => false)]);
    expect(accesses.slice(1).every((x) => x.thinkNs > 0)).toBe(true);
    expect(trace.shape).toEqual({ threadCount: 1, pageCount: 16, recordCount: 32 });
  }, 60_000);
});
