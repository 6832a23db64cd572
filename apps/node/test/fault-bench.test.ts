import { execFileSync } from 'node:child_process';
import { expect, it } from 'vitest';
import { runFaultBench } from '../src/bench/fault-bench.js';
import { describeWithUffd } from './uffd-available.js';

const gccAvailable = (() => {
  try {
    execFileSync('gcc', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
if (!gccAvailable) console.warn('[rackmem] skipping the fault benchmark smoke test: gcc is not installed (the C reference is compiled at run time)');

describeWithUffd('rackmem bench fault (tiny sizes: the JSON, not the figures)', () => {
  it.skipIf(!gccAvailable)('prints every key of the issue for both placements, with every page read back right', async () => {
    const lines: string[] = [];
    const result = await runFaultBench({ pages: 400, rounds: 1, seqPages: 256, remotePages: 200, progress: (line) => lines.push(line) });
    expect(lines.some((l) => l.startsWith('pinned: round 1/1'))).toBe(true); // progress for the long runs
    expect(result.skipped).toBeUndefined();
    for (const placement of ['free', 'pinned']) {
      const r = result[placement] as Record<string, unknown>;
      for (const key of ['pagerMedianUs', 'pagerP99Us', 'referenceMedianUs', 'referenceP99Us', 'remoteMedianUs', 'remoteReferenceMedianUs', 'medianRatio', 'remoteMedianRatio']) {
        expect(r[key], `${placement}.${key}`).toBeGreaterThan(0);
      }
      expect(r.wrong, `${placement}: pages read back wrong`).toBe(0);
      const roundRatios = r.roundRatios as { local: number[]; remote: number[] };
      expect(roundRatios.local).toHaveLength(1);
      expect(roundRatios.local[0]).toBeCloseTo((r.medianRatio as number), 1); // one round: the same ratio
      expect(roundRatios.remote[0]).toBeCloseTo((r.remoteMedianRatio as number), 1);
    }
    expect(result.pagerStorageWaitSpinUs).toBe(100); // the configuration the remote figures were measured with
    expect(result.seqPagesPerSecPrefetch).toBeGreaterThan(0);
    expect(result.seqPagesPerSecDemand).toBeGreaterThan(0);
    expect(Object.keys(result.goalsMet as object).sort()).toEqual(['localFree', 'localPinned', 'prefetch', 'remoteFree', 'remotePinned']);
  }, 120_000);
});
