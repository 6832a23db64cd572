// validateWorkloadSpec: checks an unknown value (parsed JSON or YAML) against the spec union and
// returns a clean copy. Every error names the bad field (`workload.theta: must be in (0, 1)`);
// unknown fields are errors too, so a typo never silently falls back to a default.

import { WorkloadError } from './errors.js';
import type { GemmSpec, LackeyOptions, PhaseSubSpec, WorkloadSpec } from './spec.js';
import { WORKLOAD_KINDS } from './spec.js';

/** Largest page count (page numbers live in an Int32Array). */
export const MAX_PAGE_COUNT = 0x7fffffff;
/** Largest thread count of one workload. */
export const MAX_THREAD_COUNT = 4096;

const COMMON = ['kind', 'pageCount', 'threadCount', 'accessesPerThread', 'writeNumerator', 'writeDenominator', 'thinkNs', 'thinkDistribution', 'layout'];
const THINK = ['thinkNs', 'thinkDistribution'];

const KIND_FIELDS: Record<string, readonly string[]> = {
  sequential: [...COMMON, 'direction', 'passes'],
  strided: [...COMMON, 'stridePages', 'passes'],
  uniform: COMMON,
  zipfian: [...COMMON, 'theta', 'scrambled'],
  hotspot: [...COMMON, 'hotAccessPercent', 'hotPagePercent'],
  phases: ['kind', 'pageCount', 'threadCount', 'accessesPerThread', 'switchEvery', 'phases'],
  interleaved: [...COMMON.filter((f) => f !== 'layout'), 'streams', 'mixing', 'order', 'burstLength', 'direction'],
  'pointer-chase': COMMON,
  'working-set-shift': [...COMMON, 'windowPages', 'shiftPages', 'shiftEvery'],
  touch: ['kind', 'pageCount', 'threadCount', ...THINK],
  gemm: ['kind', 'matrixSize', 'pageCount', 'pageSizeBytes', 'threadCount', 'permutation', 'cUpdate', 'initialize', ...THINK],
  trace: ['kind', 'path', 'format', 'pageCount', 'threadCount', 'lackey'],
};

const LACKEY_FIELDS = ['pageSizeBytes', 'baseAddress', 'addressStart', 'addressEnd', 'pageMapping', 'instructionNs'];

function fail(field: string, problem: string): never {
  throw new WorkloadError('invalid-workload', `${field}: ${problem}`, field);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads typed fields of one object and remembers which ones it saw. */
class FieldReader {
  readonly out: Record<string, unknown> = {};
  constructor(readonly source: Record<string, unknown>, readonly path: string) {}

  private at(name: string): string {
    return `${this.path}.${name}`;
  }

  has(name: string): boolean {
    return this.source[name] !== undefined;
  }

  int(name: string, min: number, max: number, required = false): number | undefined {
    const value = this.source[name];
    if (value === undefined) {
      if (required) fail(this.at(name), `is required (an integer in [${min}, ${max}])`);
      return undefined;
    }
    if (typeof value !== 'number' || !Number.isInteger(value)) fail(this.at(name), `must be an integer, got ${show(value)}`);
    if (value < min || value > max) fail(this.at(name), `must be in [${min}, ${max}], got ${value}`);
    this.out[name] = value;
    return value;
  }

  num(name: string, check: (v: number) => boolean, range: string): number | undefined {
    const value = this.source[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isFinite(value)) fail(this.at(name), `must be a finite number, got ${show(value)}`);
    if (!check(value)) fail(this.at(name), `must be in ${range}, got ${value}`);
    this.out[name] = value;
    return value;
  }

  oneOf<T extends string>(name: string, values: readonly T[]): T | undefined {
    const value = this.source[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || !(values as readonly string[]).includes(value)) {
      fail(this.at(name), `must be one of ${values.map((v) => `'${v}'`).join(', ')}, got ${show(value)}`);
    }
    this.out[name] = value;
    return value as T;
  }

  bool(name: string): boolean | undefined {
    const value = this.source[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'boolean') fail(this.at(name), `must be true or false, got ${show(value)}`);
    this.out[name] = value;
    return value;
  }

  str(name: string, required: boolean): string | undefined {
    const value = this.source[name];
    if (value === undefined) {
      if (required) fail(this.at(name), 'is required (a non-empty string)');
      return undefined;
    }
    if (typeof value !== 'string' || value.length === 0) fail(this.at(name), `must be a non-empty string, got ${show(value)}`);
    this.out[name] = value;
    return value;
  }

  address(name: string): number | undefined {
    const value = this.source[name];
    if (value === undefined) return undefined;
    const parsed = parseAddress(value);
    if (parsed === undefined) fail(this.at(name), `must be an address (a non-negative safe integer, or a string "0x..." or decimal), got ${show(value)}`);
    this.out[name] = value;
    return parsed;
  }

  rejectUnknown(allowed: readonly string[]): void {
    for (const key of Object.keys(this.source)) {
      if (!allowed.includes(key)) fail(this.at(key), `unknown field (allowed: ${allowed.join(', ')})`);
    }
  }
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || typeof value !== 'object') return String(value);
  return Array.isArray(value) ? 'an array' : 'an object';
}

/** Parses an address given as a number, "0x..." hex or a decimal string; undefined if invalid. */
export function parseAddress(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  let parsed: number;
  if (/^0[xX][0-9a-fA-F]+$/.test(text)) parsed = parseInt(text.slice(2), 16);
  else if (/^[0-9]+$/.test(text)) parsed = Number(text);
  else return undefined;
  return Number.isSafeInteger(parsed) ? parsed : undefined;
}

/** The matrix size N of a gemm spec (explicit, derived from pageCount, or the default 128). */
export function gemmMatrixSize(spec: Pick<GemmSpec, 'matrixSize' | 'pageCount' | 'pageSizeBytes'>): number {
  if (spec.matrixSize !== undefined) return spec.matrixSize;
  if (spec.pageCount === undefined) return 128;
  const pageSizeBytes = spec.pageSizeBytes ?? 4096;
  let n = Math.floor(Math.sqrt((spec.pageCount * pageSizeBytes) / 24));
  while (24 * (n + 1) * (n + 1) <= spec.pageCount * pageSizeBytes) n++;
  while (n > 0 && 24 * n * n > spec.pageCount * pageSizeBytes) n--;
  return n;
}

/** Pages of a gemm region: ceil(3 x N^2 x 8 / pageSizeBytes). */
export function gemmPageCount(matrixSize: number, pageSizeBytes: number): number {
  return Math.ceil((24 * matrixSize * matrixSize) / pageSizeBytes);
}

function isPowerOfTwo(value: number): boolean {
  return value >= 1 && Number.isInteger(Math.log2(value));
}

/**
 * Validates an unknown value as a workload spec and returns a clean copy (defaults are not filled
 * in). Throws a `WorkloadError` with code `invalid-workload` whose message starts with the field
 * path, e.g. `workload.theta: must be in (0, 1), got 1.5`.
 */
export function validateWorkloadSpec(value: unknown, path = 'workload'): WorkloadSpec {
  return validateAny(value, path, false) as WorkloadSpec;
}

/** The page count a (validated) spec addresses, or undefined for a trace without one. */
export function specPageCount(spec: WorkloadSpec | PhaseSubSpec, parentPageCount?: number): number | undefined {
  switch (spec.kind) {
    case 'touch':
      return spec.pageCount ?? parentPageCount ?? 32768;
    case 'gemm':
      return gemmPageCount(gemmMatrixSize(spec), spec.pageSizeBytes ?? 4096);
    case 'trace':
      return spec.pageCount;
    default:
      return spec.pageCount ?? parentPageCount;
  }
}

function validateAny(value: unknown, path: string, inPhase: boolean): WorkloadSpec | PhaseSubSpec {
  if (!isRecord(value)) fail(path, `must be an object with a "kind" field, got ${show(value)}`);
  const kind = value.kind;
  if (typeof kind !== 'string' || !(WORKLOAD_KINDS as readonly string[]).includes(kind)) {
    fail(`${path}.kind`, `must be one of ${WORKLOAD_KINDS.map((k) => `'${k}'`).join(', ')}, got ${show(kind)}`);
  }
  if (inPhase && (kind === 'phases' || kind === 'trace')) fail(`${path}.kind`, `'${kind}' cannot be a phase (phases hold synthetic workloads)`);
  const r = new FieldReader(value, path);
  r.out.kind = kind;
  let allowed = KIND_FIELDS[kind];
  if (inPhase) {
    const banned = ['threadCount', 'accessesPerThread', 'passes'];
    for (const name of banned) {
      if (r.has(name)) fail(`${path}.${name}`, 'not allowed inside phases (the parent sets threads and switchEvery sets the length)');
    }
    allowed = [...allowed.filter((f) => !banned.includes(f)), 'pageOffset'];
  }
  r.rejectUnknown(allowed);

  const needsPages = !inPhase && kind !== 'touch' && kind !== 'gemm' && kind !== 'trace';
  const pageCount = kind === 'gemm' ? undefined : r.int('pageCount', 1, MAX_PAGE_COUNT, needsPages);
  const threadCount = r.int('threadCount', 1, MAX_THREAD_COUNT) ?? 1;
  if (inPhase) r.int('pageOffset', 0, MAX_PAGE_COUNT - 1);

  if (kind === 'trace') return validateTrace(r);
  if (kind === 'phases') return validatePhases(r, value, pageCount as number);

  r.oneOf('thinkDistribution', ['constant', 'exponential']);
  if (r.source.thinkDistribution === 'exponential') r.num('thinkNs', (v) => v >= 0 && v <= 1e15, '[0, 1e15]');
  else r.int('thinkNs', 0, 1e15);

  if (kind === 'touch') {
    if (pageCount !== undefined && pageCount < threadCount) fail(`${path}.threadCount`, `touch splits the pages among threads, so it must be at most pageCount (${pageCount})`);
    return r.out as unknown as WorkloadSpec;
  }
  if (kind === 'gemm') return validateGemm(r, threadCount);

  r.int('accessesPerThread', 0, Number.MAX_SAFE_INTEGER);
  const denominator = r.int('writeDenominator', 1, 0xffffffff) ?? 1;
  const numerator = r.int('writeNumerator', 0, 0xffffffff);
  if (numerator !== undefined && numerator > denominator) fail(`${path}.writeNumerator`, `must be at most writeDenominator (${denominator}), got ${numerator}`);
  const layout = kind === 'interleaved' ? undefined : r.oneOf('layout', ['shared', 'split']);
  const splitByDefault = kind === 'sequential' || kind === 'strided';
  if ((layout ?? (splitByDefault ? 'split' : 'shared')) === 'split' && pageCount !== undefined && pageCount < threadCount) {
    fail(`${path}.threadCount`, `the split layout gives each thread its own pages, so threadCount must be at most pageCount (${pageCount}); use layout 'shared'`);
  }
  if ((kind === 'sequential' || kind === 'strided') && r.has('passes')) {
    r.int('passes', 1, Number.MAX_SAFE_INTEGER);
    if (r.has('accessesPerThread')) fail(`${path}.passes`, 'give passes or accessesPerThread, not both');
  }

  switch (kind) {
    case 'sequential':
      r.oneOf('direction', ['forward', 'backward']);
      break;
    case 'strided': {
      const stride = r.int('stridePages', -MAX_PAGE_COUNT, MAX_PAGE_COUNT, true);
      if (stride === 0) fail(`${path}.stridePages`, 'must be non-zero (negative strides walk downwards)');
      break;
    }
    case 'zipfian':
      r.num('theta', (v) => v > 0 && v < 1, '(0, 1)');
      r.bool('scrambled');
      break;
    case 'hotspot':
      r.num('hotAccessPercent', (v) => v >= 0 && v <= 100, '[0, 100]');
      r.num('hotPagePercent', (v) => v > 0 && v <= 100, '(0, 100]');
      break;
    case 'interleaved': {
      const streams = r.int('streams', 1, 1 << 20) ?? 4;
      const mixing = r.oneOf('mixing', ['per-thread', 'across-threads']) ?? 'per-thread';
      r.oneOf('order', ['round-robin', 'random']);
      r.int('burstLength', 1, MAX_PAGE_COUNT);
      r.oneOf('direction', ['forward', 'backward']);
      const slices = mixing === 'per-thread' ? streams * threadCount : streams;
      if (mixing === 'across-threads' && streams < threadCount) fail(`${path}.streams`, `across-threads deals streams to threads, so it must be at least threadCount (${threadCount}), got ${streams}`);
      if (pageCount !== undefined && slices > pageCount) fail(`${path}.streams`, `${slices} streams need at least ${slices} pages, but pageCount is ${pageCount}`);
      break;
    }
    case 'working-set-shift': {
      const window = r.int('windowPages', 1, MAX_PAGE_COUNT);
      r.int('shiftPages', 1, MAX_PAGE_COUNT);
      r.int('shiftEvery', 1, Number.MAX_SAFE_INTEGER);
      if (window !== undefined && pageCount !== undefined && window > pageCount) fail(`${path}.windowPages`, `must be at most pageCount (${pageCount}), got ${window}`);
      break;
    }
  }
  return r.out as unknown as WorkloadSpec;
}

function validateGemm(r: FieldReader, threadCount: number): WorkloadSpec {
  const path = r.path;
  const pageSizeBytes = r.int('pageSizeBytes', 64, 1 << 30) ?? 4096;
  if (!isPowerOfTwo(pageSizeBytes)) fail(`${path}.pageSizeBytes`, `must be a power of two, got ${pageSizeBytes}`);
  const size = r.int('matrixSize', 1, 1 << 17);
  const pages = r.int('pageCount', 1, MAX_PAGE_COUNT);
  if (size !== undefined && pages !== undefined) fail(`${path}.pageCount`, 'give matrixSize or pageCount, not both (N is derived from pageCount)');
  const n = gemmMatrixSize({ matrixSize: size, pageCount: pages, pageSizeBytes });
  if (n < 1) fail(`${path}.pageCount`, `is too small for one 3-matrix GEMM element (needs 24 bytes, have ${pages} x ${pageSizeBytes})`);
  if (n > 1 << 17) fail(`${path}.pageCount`, `gives N = ${n}, above the supported 131072`);
  if (gemmPageCount(n, pageSizeBytes) > MAX_PAGE_COUNT) fail(`${path}.matrixSize`, `needs more than ${MAX_PAGE_COUNT} pages`);
  if (threadCount > n) fail(`${path}.threadCount`, `rows are split among threads, so it must be at most N (${n})`);
  r.oneOf('permutation', ['original', 'shuffle', 'identity']);
  r.oneOf('cUpdate', ['store', 'accumulate']);
  r.bool('initialize');
  return r.out as unknown as WorkloadSpec;
}

function validateTrace(r: FieldReader): WorkloadSpec {
  r.str('path', true);
  const format = r.oneOf('format', ['auto', 'text', 'binary', 'lackey']);
  const lackey = r.source.lackey;
  if (lackey !== undefined) {
    if (format !== undefined && format !== 'auto' && format !== 'lackey') fail(`${r.path}.lackey`, `only applies to format 'lackey' or 'auto', not '${format}'`);
    r.out.lackey = validateLackeyOptions(lackey, `${r.path}.lackey`);
  }
  return r.out as unknown as WorkloadSpec;
}

/** Validates Lackey conversion options (see LackeyOptions). */
export function validateLackeyOptions(value: unknown, path = 'lackey'): LackeyOptions {
  if (!isRecord(value)) fail(path, `must be an object, got ${show(value)}`);
  const r = new FieldReader(value, path);
  r.rejectUnknown(LACKEY_FIELDS);
  const pageSizeBytes = r.int('pageSizeBytes', 1, 1 << 30);
  if (pageSizeBytes !== undefined && !isPowerOfTwo(pageSizeBytes)) fail(`${path}.pageSizeBytes`, `must be a power of two, got ${pageSizeBytes}`);
  r.address('baseAddress');
  const start = r.address('addressStart');
  const end = r.address('addressEnd');
  if (start !== undefined && end !== undefined && end <= start) fail(`${path}.addressEnd`, 'must be above addressStart');
  r.oneOf('pageMapping', ['offset', 'dense']);
  r.num('instructionNs', (v) => v >= 0 && v <= 1e9, '[0, 1e9]');
  return r.out as LackeyOptions;
}

function validatePhases(r: FieldReader, value: Record<string, unknown>, pageCount: number): WorkloadSpec {
  const path = r.path;
  r.int('accessesPerThread', 0, Number.MAX_SAFE_INTEGER);
  r.int('switchEvery', 1, Number.MAX_SAFE_INTEGER, true);
  const phases = value.phases;
  if (!Array.isArray(phases) || phases.length === 0) fail(`${path}.phases`, `must be a non-empty array of workload specs, got ${show(phases)}`);
  const threadCount = (r.out.threadCount as number | undefined) ?? 1;
  r.out.phases = phases.map((phase, i) => {
    const at = `${path}.phases[${i}]`;
    const sub = validateAny(phase, at, true) as PhaseSubSpec;
    const offset = (sub as { pageOffset?: number }).pageOffset ?? 0;
    const pages = specPageCount(sub, pageCount - offset) as number;
    if (pages < 1 || offset + pages > pageCount) {
      fail(`${at}.pageCount`, `pages ${offset} .. ${offset + pages - 1} must lie within the parent's ${pageCount} pages`);
    }
    const split = sub.kind === 'touch' || sub.kind === 'gemm' || ((sub as { layout?: string }).layout ?? (sub.kind === 'sequential' || sub.kind === 'strided' ? 'split' : 'shared')) === 'split';
    if (sub.kind === 'gemm' && threadCount > gemmMatrixSize(sub)) fail(`${path}.threadCount`, `phase ${i} is a gemm of N = ${gemmMatrixSize(sub)} rows, fewer than the threads`);
    if (split && sub.kind !== 'gemm' && pages < threadCount) fail(`${at}.pageCount`, `the split layout needs at least threadCount (${threadCount}) pages, got ${pages}`);
    if (sub.kind === 'interleaved') {
      const streams = sub.streams ?? 4;
      const slices = (sub.mixing ?? 'per-thread') === 'per-thread' ? streams * threadCount : streams;
      if ((sub.mixing ?? 'per-thread') === 'across-threads' && streams < threadCount) fail(`${at}.streams`, `across-threads needs at least threadCount (${threadCount}) streams`);
      if (slices > pages) fail(`${at}.streams`, `${slices} streams need at least ${slices} pages, but the phase has ${pages}`);
    }
    if (sub.kind === 'working-set-shift' && (sub.windowPages ?? 1) > pages) fail(`${at}.windowPages`, `must be at most the phase's pages (${pages})`);
    return sub;
  });
  return r.out as unknown as WorkloadSpec;
}
