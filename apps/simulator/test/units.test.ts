import { describe, expect, it } from 'vitest';
import { validateScenario, builtinScenarios } from '@rackmem/sim';
import { buildGrid, canonicalPrettyJson, firstDifference, parseShard, parseVary, resolveFieldPath, shardPoints } from '../src/index.js';
import { splitValues } from '../src/internal/sweep/grid.js';
import { barPlot, linePlot } from '../src/internal/report/svg-plot.js';
import { compactNumberArrays } from '../src/internal/canonical-json.js';

describe('field paths and grids', () => {
  const zipf = validateScenario(builtinScenarios.zipf.scenario);

  it('resolves region shorthands and top-level paths', () => {
    expect(resolveFieldPath(zipf, 'localRatio')).toBe('computeNodes[0].regions[0].localRatio');
    expect(resolveFieldPath(zipf, 'workload.pageCount')).toBe('computeNodes[0].regions[0].workload.pageCount');
    expect(resolveFieldPath(zipf, 'regions[0].vm.prefetch')).toBe('computeNodes[0].regions[0].vm.prefetch');
    expect(resolveFieldPath(zipf, 'network.preset')).toBe('network.preset');
    expect(() => resolveFieldPath(zipf, 'regions[3].localRatio')).toThrow(/has 1 region/);
  });

  it('splits --vary values at top-level commas only', () => {
    expect(splitValues('1,0.5,"a,b",[1,2],{"x":[1,2]}')).toEqual(['1', '0.5', '"a,b"', '[1,2]', '{"x":[1,2]}']);
    expect(parseVary('vm.prefetch=none,readahead').values).toEqual(['none', 'readahead']);
    expect(parseVary('localRatio=1,0.5').values).toEqual([1, 0.5]);
    expect(() => parseVary('localRatio=')).toThrow(/empty value/);
  });

  it('orders the grid with the first --vary outermost and shards it by index modulo n', () => {
    const points = buildGrid([{ name: 'zipf', scenario: zipf, baseDir: '.', source: 'zipf', sets: [] }], [parseVary('localRatio=1,0.5'), parseVary('policySet=rackmem2021,improved')], ['1', '2']);
    expect(points.map((p) => p.label)).toEqual([
      'localRatio=1 policySet=rackmem2021 seed=1', 'localRatio=1 policySet=rackmem2021 seed=2', 'localRatio=1 policySet=improved seed=1', 'localRatio=1 policySet=improved seed=2',
      'localRatio=0.5 policySet=rackmem2021 seed=1', 'localRatio=0.5 policySet=rackmem2021 seed=2', 'localRatio=0.5 policySet=improved seed=1', 'localRatio=0.5 policySet=improved seed=2',
    ]);
    expect(points[5].scenario.computeNodes[0].regions[0].localRatio).toBe(0.5);
    expect(points[5].rerun).toBe('rackmem-sim run zipf --seed 2 --set localRatio=0.5 --set policySet=rackmem2021');
    const shards = [0, 1, 2].map((i) => shardPoints(points, parseShard(`${i}/3`)).map((p) => p.index));
    expect(shards).toEqual([[0, 3, 6], [1, 4, 7], [2, 5]]);
    expect(() => parseShard('3/3')).toThrow(/0 <= i < n/);
    expect(() => parseShard('1')).toThrow();
  });
});

describe('canonical JSON and differences', () => {
  it('sorts keys at every level and keeps number arrays on one line', () => {
    expect(canonicalPrettyJson({ b: 1, a: { d: [1, 2], c: 'x' } })).toBe('{\n  "a": {\n    "c": "x",\n    "d": [\n      1,\n      2\n    ]\n  },\n  "b": 1\n}\n');
    expect(compactNumberArrays(canonicalPrettyJson({ rows: [[1, 2.5], [3, -4e-7]] }))).toBe('{\n  "rows": [\n    [1, 2.5],\n    [3, -4e-7]\n  ]\n}\n');
  });

  it('finds the first difference in sorted key order', () => {
    expect(firstDifference({ a: 1, b: [1, 2] }, { a: 1, b: [1, 2] })).toBeUndefined();
    expect(firstDifference({ z: 1, b: [1, 2] }, { z: 2, b: [1, 3] })).toEqual({ path: 'b[1]', expected: '2', actual: '3' });
    expect(firstDifference({ a: [1] }, { a: [1, 2] })).toEqual({ path: 'a.length', expected: '1', actual: '2' });
  });
});

describe('SVG plots', () => {
  it('draws a path per series with points on log and nines axes, and says "no data" when empty', () => {
    const svg = linePlot({ id: 'p', title: 't', xLabel: 'x', yLabel: 'y', xScale: 'log', yScale: 'nines', series: [{ name: 'a', points: [[1000, 0], [5000, 0.5], [90_000, 0.99], [200_000, 1]] }] });
    expect(svg).toMatch(/<path class="line" d="M[\d.]+ [\d.]+L[\d.]+ [\d.]+L[\d.]+ [\d.]+L[\d.]+ [\d.]+"/);
    expect((svg.match(/<circle class="pt"/g) ?? []).length).toBe(4);
    expect(svg).toContain('>0.99<');
    expect(linePlot({ id: 'e', title: 't', xLabel: 'x', yLabel: 'y', series: [{ name: 'a', points: [] }] })).toContain('no data');
    const bars = barPlot({ id: 'b', title: 't', yLabel: 'y', categories: ['a', 'b'], series: [{ name: 's', values: [0.5, 1] }] });
    expect((bars.match(/<path class="bar"/g) ?? []).length).toBe(2);
  });

  it('escapes labels', () => {
    expect(linePlot({ id: 'x', title: '<b>&', xLabel: '', yLabel: '', series: [{ name: '"q"', points: [[1, 1]] }] })).not.toMatch(/<b>|"q"/);
  });
});

describe('bench', () => {
  it('finds the library benchmark and prints the headline keys first', async () => {
    const { benchOutput, simBenchFile, BENCH_KEYS } = await import('../src/internal/cli/bench-command.js');
    const { existsSync } = await import('node:fs');
    expect(existsSync(simBenchFile())).toBe(true);
    const out = benchOutput({ detail: {}, traceAccessesPerSecond: 4, bareEventsPerSecond: 1, referenceHeapEventsPerSecond: 3, modelEventsPerSecond: 2 }, true);
    expect(Object.keys(out).slice(0, 4)).toEqual([...BENCH_KEYS]);
    expect(Object.keys(out)).toEqual([...BENCH_KEYS, 'quick', 'detail']);
  });
});
