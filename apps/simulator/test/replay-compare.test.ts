import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli, SMALL_YAML, tempDirs } from './cli-harness.js';

const temp = tempDirs();
afterAll(() => temp.cleanup());

describe('rackmem-sim replay', () => {
  it('reruns a result file and finds it identical; a tampered file gives the first difference and exit 1', async () => {
    const cwd = temp.make();
    writeFileSync(join(cwd, 'small.yaml'), SMALL_YAML);
    const run = await cli(cwd, 'run', 'small.yaml', '--seed', '9', '--set', 'localRatio=0.5', '--out', 'o');
    expect(run.code).toBe(0);
    const replay = await cli(cwd, 'replay', 'o/result.json');
    expect(replay.code).toBe(0);
    expect(replay.stdout).toContain('replay: identical');
    expect(replay.lines.at(-1)).toBe(run.lines.at(-1));

    const path = join(cwd, 'o', 'result.json');
    const result = JSON.parse(readFileSync(path, 'utf8'));
    result.regions[0].faults += 1;
    writeFileSync(join(cwd, 'tampered.json'), JSON.stringify(result));
    const bad = await cli(cwd, 'replay', 'tampered.json');
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('replay: DIFFERENT');
    expect(bad.stdout).toMatch(/first difference at regions\[0\]\.faults: recorded \d+, now \d+/);

    result.regions[0].faults -= 1;
    result.digest = '00000000';
    writeFileSync(join(cwd, 'digest.json'), JSON.stringify(result));
    const badDigest = await cli(cwd, 'replay', 'digest.json');
    expect(badDigest.code).toBe(1);
    expect(badDigest.stdout).toMatch(/first difference at digest: recorded "00000000"/);

    writeFileSync(join(cwd, 'not-a-result.json'), '{"x": 1}');
    expect((await cli(cwd, 'replay', 'not-a-result.json')).code).toBe(2);
  });

  it('replays a swarm result (drawn configuration and faults) identically', async () => {
    const cwd = temp.make();
    const run = await cli(cwd, 'run', 'swarm', '--seed', '4', '--set', 'workload.pageCount=256', '--out', 'o');
    expect(run.code).toBe(0);
    const replay = await cli(cwd, 'replay', 'o/result.json');
    expect(replay.stdout).toContain('replay: identical');
    expect(replay.code).toBe(0);
  });
});

describe('rackmem-sim compare', () => {
  it('prints the key metrics of two results side by side with ratios b/a', async () => {
    const cwd = temp.make();
    await cli(cwd, 'run', 'touch', '--set', 'workload.pageCount=1024', '--out', 'a');
    await cli(cwd, 'run', 'touch', '--set', 'workload.pageCount=1024', '--set', 'policySet=improved', '--out', 'b');
    const r = await cli(cwd, 'compare', 'a/result.json', 'b/result.json');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^region\s+metric\s+a\s+b\s+b\/a$/m);
    expect(r.stdout).toMatch(/touch\s+policy set\s+rackmem2021\s+improved/);
    const a = JSON.parse(readFileSync(join(cwd, 'a', 'result.json'), 'utf8'));
    const b = JSON.parse(readFileSync(join(cwd, 'b', 'result.json'), 'utf8'));
    const line = r.lines.find((l) => /^touch\s+app time/.test(l)) as string;
    expect(line).toBeDefined();
    expect(Number(line.trim().split(/\s+/).at(-1))).toBeCloseTo(b.regions[0].appTimeNs / a.regions[0].appTimeNs, 3);
    for (const metric of ['slowdown', 'faults', 'fault p50', 'fault p99', 'fault p99.9', 'bytes moved', 'prefetch accuracy']) expect(r.stdout).toContain(metric);
    expect((await cli(cwd, 'compare', 'a/result.json', 'missing.json')).code).toBe(2);
  });
});
