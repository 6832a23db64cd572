import { describe, expect, it } from 'vitest';
import { RandomStreams } from '../random-stream.js';
import { createWorkload } from './create-workload.js';
import { WorkloadError } from './errors.js';
import { validateLackeyOptions, validateWorkloadSpec } from './validate.js';

function errorOf(value: unknown, path?: string): WorkloadError {
  try {
    validateWorkloadSpec(value, path);
  } catch (error) {
    expect(error).toBeInstanceOf(WorkloadError);
    expect((error as WorkloadError).code).toBe('invalid-workload');
    return error as WorkloadError;
  }
  throw new Error(`expected ${JSON.stringify(value)} to be rejected`);
}

describe('validateWorkloadSpec', () => {
  it('accepts every kind with its fields and returns a clean copy', () => {
    const specs = [
      { kind: 'sequential', pageCount: 10, direction: 'backward', passes: 3, layout: 'shared', threadCount: 2 },
      { kind: 'strided', pageCount: 10, stridePages: -17, writeNumerator: 1, writeDenominator: 4 },
      { kind: 'uniform', pageCount: 10, thinkNs: 12.5, thinkDistribution: 'exponential' },
      { kind: 'zipfian', pageCount: 10, theta: 0.5, scrambled: true },
      { kind: 'hotspot', pageCount: 10, hotAccessPercent: 99.5, hotPagePercent: 1 },
      { kind: 'phases', pageCount: 10, switchEvery: 5, phases: [{ kind: 'uniform', pageOffset: 5, pageCount: 5 }, { kind: 'touch', pageCount: 4 }] },
      { kind: 'interleaved', pageCount: 10, streams: 2, mixing: 'across-threads', threadCount: 2, order: 'random', burstLength: 3 },
      { kind: 'pointer-chase', pageCount: 10, accessesPerThread: 0 },
      { kind: 'working-set-shift', pageCount: 10, windowPages: 4, shiftPages: 1, shiftEvery: 9 },
      { kind: 'touch' },
      { kind: 'gemm', pageCount: 100, permutation: 'shuffle', cUpdate: 'accumulate', initialize: false },
      { kind: 'trace', path: 'x.trace', format: 'lackey', lackey: { pageSizeBytes: 8192, baseAddress: '0x1000', addressStart: 4096, addressEnd: '0x100000', pageMapping: 'dense', instructionNs: 0.5 } },
    ];
    for (const spec of specs) {
      const copy = validateWorkloadSpec(JSON.parse(JSON.stringify(spec)));
      expect(copy).toEqual(spec);
      expect(copy).not.toBe(spec);
    }
  });

  it('names the bad field in every error', () => {
    const cases: [unknown, string][] = [
      [null, 'workload: must be an object'],
      [{ kind: 'nope', pageCount: 1 }, 'workload.kind: must be one of'],
      [{ kind: 'uniform' }, 'workload.pageCount: is required'],
      [{ kind: 'uniform', pageCount: 0 }, 'workload.pageCount: must be in [1,'],
      [{ kind: 'uniform', pageCount: 1.5 }, 'workload.pageCount: must be an integer'],
      [{ kind: 'uniform', pageCount: 10, threadCount: '2' }, 'workload.threadCount: must be an integer, got "2"'],
      [{ kind: 'zipfian', pageCount: 10, theta: 1 }, 'workload.theta: must be in (0, 1)'],
      [{ kind: 'zipfian', pageCount: 10, theta: 0 }, 'workload.theta: must be in (0, 1)'],
      [{ kind: 'zipfian', pageCount: 10, scrambled: 'yes' }, 'workload.scrambled: must be true or false'],
      [{ kind: 'uniform', pageCount: 10, writeNumerator: 3, writeDenominator: 2 }, 'workload.writeNumerator: must be at most writeDenominator'],
      [{ kind: 'uniform', pageCount: 10, writeDenominator: 0 }, 'workload.writeDenominator: must be in [1,'],
      [{ kind: 'uniform', pageCount: 10, thinkNs: 1.5 }, 'workload.thinkNs: must be an integer'],
      [{ kind: 'uniform', pageCount: 10, thinkNs: -1, thinkDistribution: 'exponential' }, 'workload.thinkNs: must be in [0, 1e15]'],
      [{ kind: 'uniform', pageCount: 10, thinkDistribution: 'normal' }, "workload.thinkDistribution: must be one of 'constant', 'exponential'"],
      [{ kind: 'uniform', pageCount: 10, thetta: 0.9 }, 'workload.thetta: unknown field'],
      [{ kind: 'uniform', pageCount: 10, pageOffset: 2 }, 'workload.pageOffset: unknown field'],
      [{ kind: 'sequential', pageCount: 2, threadCount: 3 }, 'workload.threadCount: the split layout'],
      [{ kind: 'sequential', pageCount: 10, passes: 2, accessesPerThread: 5 }, 'workload.passes: give passes or accessesPerThread'],
      [{ kind: 'strided', pageCount: 10 }, 'workload.stridePages: is required'],
      [{ kind: 'strided', pageCount: 10, stridePages: 0 }, 'workload.stridePages: must be non-zero'],
      [{ kind: 'hotspot', pageCount: 10, hotAccessPercent: 101 }, 'workload.hotAccessPercent: must be in [0, 100]'],
      [{ kind: 'hotspot', pageCount: 10, hotPagePercent: 0 }, 'workload.hotPagePercent: must be in (0, 100]'],
      [{ kind: 'interleaved', pageCount: 10, streams: 2, threadCount: 3, mixing: 'across-threads' }, 'workload.streams: across-threads'],
      [{ kind: 'interleaved', pageCount: 10, streams: 11 }, 'workload.streams: 11 streams need at least 11 pages'],
      [{ kind: 'interleaved', pageCount: 10, layout: 'split' }, 'workload.layout: unknown field'],
      [{ kind: 'working-set-shift', pageCount: 10, windowPages: 11 }, 'workload.windowPages: must be at most pageCount'],
      [{ kind: 'touch', accessesPerThread: 3 }, 'workload.accessesPerThread: unknown field'],
      [{ kind: 'gemm', matrixSize: 4, pageCount: 4 }, 'workload.pageCount: give matrixSize or pageCount'],
      [{ kind: 'gemm', pageSizeBytes: 1000 }, 'workload.pageSizeBytes: must be a power of two'],
      [{ kind: 'gemm', matrixSize: 2, threadCount: 3 }, 'workload.threadCount: rows are split among threads'],
      [{ kind: 'gemm', permutation: 'random' }, "workload.permutation: must be one of 'original', 'shuffle', 'identity'"],
      [{ kind: 'phases', pageCount: 10, phases: [{ kind: 'uniform' }] }, 'workload.switchEvery: is required'],
      [{ kind: 'phases', pageCount: 10, switchEvery: 2, phases: [] }, 'workload.phases: must be a non-empty array'],
      [{ kind: 'phases', pageCount: 10, switchEvery: 2, phases: [{ kind: 'uniform' }, { kind: 'zipfian', theta: 2 }] }, 'workload.phases[1].theta: must be in (0, 1)'],
      [{ kind: 'phases', pageCount: 10, switchEvery: 2, phases: [{ kind: 'uniform', threadCount: 2 }] }, 'workload.phases[0].threadCount: not allowed inside phases'],
      [{ kind: 'phases', pageCount: 10, switchEvery: 2, phases: [{ kind: 'trace', path: 'a' }] }, "workload.phases[0].kind: 'trace' cannot be a phase"],
      [{ kind: 'phases', pageCount: 10, switchEvery: 2, phases: [{ kind: 'uniform', pageOffset: 5, pageCount: 6 }] }, 'workload.phases[0].pageCount: pages 5 .. 10 must lie within'],
      [{ kind: 'phases', pageCount: 10, switchEvery: 2, phases: [{ kind: 'touch' }, { kind: 'gemm', matrixSize: 50 }] }, 'workload.phases[1].pageCount: pages 0 .. 14 must lie within'],
      [{ kind: 'trace' }, 'workload.path: is required'],
      [{ kind: 'trace', path: '' }, 'workload.path: must be a non-empty string'],
      [{ kind: 'trace', path: 'a', format: 'csv' }, "workload.format: must be one of 'auto', 'text', 'binary', 'lackey'"],
      [{ kind: 'trace', path: 'a', format: 'text', lackey: {} }, "workload.lackey: only applies to format 'lackey' or 'auto'"],
      [{ kind: 'trace', path: 'a', lackey: { pageSizeBytes: 3000 } }, 'workload.lackey.pageSizeBytes: must be a power of two'],
      [{ kind: 'trace', path: 'a', lackey: { baseAddress: '0xzz' } }, 'workload.lackey.baseAddress: must be an address'],
      [{ kind: 'trace', path: 'a', lackey: { addressStart: 10, addressEnd: 10 } }, 'workload.lackey.addressEnd: must be above addressStart'],
      [{ kind: 'trace', path: 'a', lackey: { instructions: 1 } }, 'workload.lackey.instructions: unknown field'],
    ];
    for (const [value, message] of cases) {
      const error = errorOf(value);
      expect(error.message, JSON.stringify(value)).toContain(message);
      expect(error.field, JSON.stringify(value)).toBe(message.split(':')[0]);
    }
  });

  it('uses the caller-given path, and createWorkload validates typed specs too', () => {
    expect(errorOf({ kind: 'zipfian', pageCount: 10, theta: 7 }, 'regions[1].workload').message).toMatch(/^regions\[1\]\.workload\.theta: must be in \(0, 1\), got 7$/);
    expect(validateLackeyOptions({ pageMapping: 'offset' })).toEqual({ pageMapping: 'offset' });
    const streams = new RandomStreams(1);
    expect(() => createWorkload({ kind: 'uniform', pageCount: -1 }, (name) => streams.stream(name))).toThrow(/workload\.pageCount/);
    expect(() => createWorkload({ kind: 'trace', path: 'x' }, (name) => streams.stream(name))).toThrow(expect.objectContaining({ code: 'trace-source-missing' }));
  });
});
