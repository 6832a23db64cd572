import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, tempDirs } from './cli-harness.js';

const temp = tempDirs();
afterAll(() => temp.cleanup());

const TINY = ['zipf', '--set', 'workload.pageCount=512', '--set', 'workload.accessesPerThread=500', '--vary', 'localRatio=1,0.5,0.25', '--vary', 'policySet=rackmem2021,improved'];

interface SweepDoc {
  sweep: { totalPoints: number; pointsRun: number; digest: string; shard: string | null };
  points: { index: number; label: string; digest: string; status: string; resultFile: string }[];
  rows: { point: number; slowdown: number }[];
}

function readDoc(dir: string): SweepDoc {
  return JSON.parse(readFileSync(join(dir, 'sweep.json'), 'utf8')) as SweepDoc;
}

describe('rackmem-sim sweep', () => {
  it('runs the grid on 2 workers; the shards together are the full grid; results do not depend on --jobs', async () => {
    const cwd = temp.make();
    const full = await cli(cwd, 'sweep', ...TINY, '--jobs', '2', '--out', 'full');
    expect(full.stderr).toBe('');
    expect(full.code).toBe(0);
    expect(full.lines[0]).toMatch(/^repro: rackmem-sim sweep zipf .* {2}# 6 of 6 points, 2 worker\(s\)$/);
    expect(full.lines.at(-1)).toMatch(/^digest: [0-9a-f]{8}$/);
    expect(full.stdout).toMatch(/series\s+100\.0%\s+50\.0%\s+25\.0%/);
    const doc = readDoc(join(cwd, 'full'));
    expect(doc.sweep.totalPoints).toBe(6);
    expect(doc.points.map((p) => p.label)).toEqual([
      'localRatio=1 policySet=rackmem2021', 'localRatio=1 policySet=improved',
      'localRatio=0.5 policySet=rackmem2021', 'localRatio=0.5 policySet=improved',
      'localRatio=0.25 policySet=rackmem2021', 'localRatio=0.25 policySet=improved',
    ]);
    expect(doc.points.every((p) => p.status === 'ok')).toBe(true);
    const csv = readFileSync(join(cwd, 'full', 'sweep.csv'), 'utf8').trimEnd().split('\n');
    expect(csv).toHaveLength(7);
    expect(csv[0]).toMatch(/^point,label,base,seed,vary\.localRatio,vary\.policySet,region,/);

    const one = await cli(cwd, 'sweep', ...TINY, '--jobs', '1', '--out', 'one');
    expect(one.lines.at(-1)).toBe(full.lines.at(-1));
    expect(readFileSync(join(cwd, 'one', 'sweep.json'), 'utf8')).toBe(readFileSync(join(cwd, 'full', 'sweep.json'), 'utf8'));
    expect(readFileSync(join(cwd, 'one', 'sweep.csv'), 'utf8')).toBe(readFileSync(join(cwd, 'full', 'sweep.csv'), 'utf8'));

    const s0 = await cli(cwd, 'sweep', ...TINY, '--jobs', '2', '--shard', '0/2', '--out', 's0');
    const s1 = await cli(cwd, 'sweep', ...TINY, '--jobs', '2', '--shard', '1/2', '--out', 's1');
    expect(s0.code).toBe(0);
    expect(s1.code).toBe(0);
    const d0 = readDoc(join(cwd, 's0'));
    const d1 = readDoc(join(cwd, 's1'));
    expect(d0.points.map((p) => p.index)).toEqual([0, 2, 4]);
    expect(d1.points.map((p) => p.index)).toEqual([1, 3, 5]);
    expect(d0.sweep.shard).toBe('0/2');
    const union = [...d0.points, ...d1.points].sort((a, b) => a.index - b.index).map((p) => [p.index, p.label, p.digest]);
    expect(union).toEqual(doc.points.map((p) => [p.index, p.label, p.digest]));

    // Every point's result is replayable.
    const replay = await cli(cwd, 'replay', join('full', doc.points[3].resultFile));
    expect(replay.stdout).toContain('replay: identical');
    expect(replay.lines.at(-1)).toBe(`digest: ${doc.points[3].digest}`);
  });

  it('--list prints the grid or a shard without running; the built-in study has 32 points', async () => {
    const cwd = temp.make();
    const all = await cli(cwd, 'sweep', '--study', 'rackmem2021', '--list');
    expect(all.code).toBe(0);
    expect(all.lines).toHaveLength(32);
    expect(all.lines[0]).toMatch(/^0\ttouch policySet=rackmem2021 localRatio=1\trackmem-sim run touch --seed 1 --set policySet=rackmem2021 --set localRatio=1 --set network\.preset=fdr56$/);
    const names = new Set(all.lines.map((l) => l.split('\t')[1].split(' ')[0]));
    expect([...names]).toEqual(['touch', 'gemm', 'zipf', 'seq']);
    const shard = await cli(cwd, 'sweep', '--study', 'rackmem2021', '--list', '--shard', '3/8');
    expect(shard.lines.map((l) => Number(l.split('\t')[0]))).toEqual([3, 11, 19, 27]);
    const seeds = await cli(cwd, 'sweep', 'seq', '--vary', 'localRatio=0.5,0.25', '--seeds', '3', '--list');
    expect(seeds.lines.map((l) => l.split('\t')[1])).toEqual([
      'localRatio=0.5 seed=1', 'localRatio=0.5 seed=2', 'localRatio=0.5 seed=3', 'localRatio=0.25 seed=1', 'localRatio=0.25 seed=2', 'localRatio=0.25 seed=3',
    ]);
  });

  it('bad sweeps exit 2', async () => {
    const cwd = temp.make();
    expect((await cli(cwd, 'sweep', 'zipf', '--vary', 'localRatio=1,7')).code).toBe(2);
    expect((await cli(cwd, 'sweep', 'zipf', '--vary', 'noSuchField=1,2')).code).toBe(2);
    expect((await cli(cwd, 'sweep', 'zipf', '--vary', 'localRatio=1,1')).code).toBe(2);
    expect((await cli(cwd, 'sweep', 'zipf')).code).toBe(2);
    expect((await cli(cwd, 'sweep', 'zipf', '--vary', 'localRatio=1', '--shard', '2/2')).code).toBe(2);
    expect((await cli(cwd, 'sweep', 'zipf', '--vary', 'localRatio=1', '--jobs', '0')).code).toBe(2);
    expect((await cli(cwd, 'sweep', '--study', 'nope')).code).toBe(2);
    expect((await cli(cwd, 'sweep', '--study', 'rackmem2021', '--vary', 'localRatio=1')).code).toBe(2);
    const r = await cli(cwd, 'sweep', 'zipf', '--vary', 'localRatio=1,7');
    expect(r.stderr).toMatch(/--vary localRatio=7 \(zipf\): computeNodes\[0\]\.regions\[0\]\.localRatio: must be in \(0, 1\]/);
  });

  it('a point that fails its checks is reported with its repro and rerun lines; the sweep exits 1', async () => {
    const cwd = temp.make();
    const r = await cli(cwd, 'sweep', 'zipf', '--set', 'workload.pageCount=512', '--set', 'workload.accessesPerThread=500', '--vary', 'testOnly.mapBeforeFetch=false,true', '--jobs', '2', '--out', 'o');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/point 1 \(testOnly\.mapBeforeFetch=true\) failed: shadow-mismatch/);
    expect(r.stdout).toMatch(/ {2}repro: rackmem-sim run zipf --seed 1 {2}# scenario/);
    expect(r.stdout).toContain('  rerun: rackmem-sim run zipf --seed 1 --set workload.pageCount=512 --set workload.accessesPerThread=500 --set testOnly.mapBeforeFetch=true');
    expect(r.lines.at(-1)).toMatch(/^digest: /);
    const doc = readDoc(join(cwd, 'o'));
    expect(doc.points.map((p) => p.status)).toEqual(['ok', 'failed']);
  });
});
