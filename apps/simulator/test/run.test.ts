import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BUILTIN_SCENARIO_NAMES } from '@rackmem/sim';
import { cli, SMALL_YAML, tempDirs } from './cli-harness.js';

const temp = tempDirs();
afterAll(() => temp.cleanup());

const SMALL_TOUCH = ['touch', '--set', 'workload.pageCount=1024'];

describe('rackmem-sim run', () => {
  it('gives byte-identical files and the same digest line for the same inputs; repro first, digest last', async () => {
    const cwd = temp.make();
    const a = await cli(cwd, 'run', ...SMALL_TOUCH, '--seed', '5', '--out', 'a');
    const b = await cli(cwd, 'run', ...SMALL_TOUCH, '--seed', '5', '--out', 'b');
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    expect(a.lines[0]).toMatch(/^repro: rackmem-sim run touch --seed 5 --set workload\.pageCount=1024 {2}# scenario [0-9a-f]{8}, rackmem-sim\/0\.1\.0, node \d+$/);
    const digestLine = a.lines[a.lines.length - 1];
    expect(digestLine).toMatch(/^digest: [0-9a-f]{8}$/);
    expect(b.lines[b.lines.length - 1]).toBe(digestLine);
    for (const file of ['result.json', 'timeseries.csv', 'summary.csv']) {
      expect(readFileSync(join(cwd, 'b', file), 'utf8')).toBe(readFileSync(join(cwd, 'a', file), 'utf8'));
    }
    const result = JSON.parse(readFileSync(join(cwd, 'a', 'result.json'), 'utf8'));
    expect(`digest: ${result.digest}`).toBe(digestLine);
    expect(result.identity.seed).toBe('5');
    expect(result.scenario.computeNodes[0].regions[0].workload.pageCount).toBe(1024);
    // The summary table names the region and the columns the brief asks for.
    expect(a.stdout).toMatch(/region\s+policy\s+local\s+app time\s+slowdown\s+faults\s+p50\s+p99\s+p99\.9\s+bytes moved\s+prefetch acc\./);
    expect(a.stdout).toMatch(/\ntouch\s+rackmem2021\s+25\.0%/);
    // Keys sorted at every level (canonical JSON).
    const text = readFileSync(join(cwd, 'a', 'result.json'), 'utf8');
    expect(Object.keys(JSON.parse(text))).toEqual(Object.keys(JSON.parse(text)).sort());
    expect(readFileSync(join(cwd, 'a', 'timeseries.csv'), 'utf8').split('\n')[0]).toBe('timeNs,faults,accesses,residentPages,bytesMoved,intervalNs,accessesPerSecond,faultsPerSecond,bytesMovedPerSecond');
  });

  it('a different seed changes the digest of a random workload', async () => {
    const cwd = temp.make();
    writeFileSync(join(cwd, 'small.yaml'), SMALL_YAML);
    const one = await cli(cwd, 'run', 'small.yaml', '--seed', '1', '--out', 's1');
    const two = await cli(cwd, 'run', 'small.yaml', '--seed', '2', '--out', 's2');
    expect(one.code).toBe(0);
    expect(two.code).toBe(0);
    expect(one.lines.at(-1)).toMatch(/^digest: /);
    expect(two.lines.at(-1)).not.toBe(one.lines.at(-1));
  });

  it('reads JSON and YAML alike and resolves built-in names', async () => {
    const cwd = temp.make();
    writeFileSync(join(cwd, 'small.yaml'), SMALL_YAML);
    const { parse } = await import('yaml');
    writeFileSync(join(cwd, 'small.json'), JSON.stringify(parse(SMALL_YAML)));
    const y = await cli(cwd, 'run', 'small.yaml', '--out', 'y');
    const j = await cli(cwd, 'run', 'small.json', '--out', 'j');
    expect(j.lines.at(-1)).toBe(y.lines.at(-1));
    expect(readFileSync(join(cwd, 'j', 'result.json'), 'utf8')).toBe(readFileSync(join(cwd, 'y', 'result.json'), 'utf8'));
  });

  it('--set overrides fields (region shorthand, top-level paths, regions[i])', async () => {
    const cwd = temp.make();
    writeFileSync(join(cwd, 'small.yaml'), SMALL_YAML);
    const r = await cli(cwd, 'run', 'small.yaml', '--set', 'localRatio=0.5', '--set', 'network=edr100', '--set', 'regions[0].policySet=improved', '--out', 'o');
    expect(r.code).toBe(0);
    const result = JSON.parse(readFileSync(join(cwd, 'o', 'result.json'), 'utf8'));
    expect(result.regions[0].localPages).toBe(256);
    expect(result.regions[0].policySet).toBe('improved');
    expect(result.network.preset).toBe('edr100');
    expect(r.lines[0]).toContain("--set localRatio=0.5 --set network=edr100 --set 'regions[0].policySet=improved'");
    const base = await cli(cwd, 'run', 'small.yaml', '--out', 'base');
    expect(base.lines.at(-1)).not.toBe(r.lines.at(-1));
  });

  it('bad input exits 2 and names the file and the field', async () => {
    const cwd = temp.make();
    writeFileSync(join(cwd, 'zero.yaml'), SMALL_YAML.replace('localRatio: 0.25', 'localRatio: 0'));
    writeFileSync(join(cwd, 'typo.yaml'), SMALL_YAML.replace('threadCount: 2', 'threadCuont: 2'));
    writeFileSync(join(cwd, 'broken.yaml'), 'name: [unclosed\n');
    writeFileSync(join(cwd, 'broken.json'), '{"name": ');
    const zero = await cli(cwd, 'run', 'zero.yaml');
    expect(zero.code).toBe(2);
    expect(zero.stderr).toMatch(/zero\.yaml: .*localRatio: must be in \(0, 1\]/);
    const typo = await cli(cwd, 'run', 'typo.yaml');
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/typo\.yaml: .*threadCuont/);
    const broken = await cli(cwd, 'run', 'broken.yaml');
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/broken\.yaml: not valid YAML/);
    const brokenJson = await cli(cwd, 'run', 'broken.json');
    expect(brokenJson.code).toBe(2);
    expect(brokenJson.stderr).toMatch(/broken\.json: not valid JSON/);
    const missing = await cli(cwd, 'run', 'nope.yaml');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nope\.yaml: no such file/);
    const unknown = await cli(cwd, 'run', 'nosuchbuiltin');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/built-in: touch, gemm/);
    const badSet = await cli(cwd, 'run', 'touch', '--set', 'localRatio=2');
    expect(badSet.code).toBe(2);
    expect(badSet.stderr).toMatch(/--set localRatio=2: computeNodes\[0\]\.regions\[0\]\.localRatio: must be in \(0, 1\]/);
    const badPath = await cli(cwd, 'run', 'touch', '--set', 'localRatio');
    expect(badPath.code).toBe(2);
    const badSeed = await cli(cwd, 'run', 'touch', '--seed', 'a b');
    expect(badSeed.code).toBe(2);
    const badFlag = await cli(cwd, 'run', 'touch', '--no-such-flag');
    expect(badFlag.code).toBe(2);
  });

  it('a checker failure prints the repro line and exits 1', async () => {
    const cwd = temp.make();
    writeFileSync(join(cwd, 'buggy.yaml'), `${SMALL_YAML}testOnly: { mapBeforeFetch: true }\n`);
    const r = await cli(cwd, 'run', 'buggy.yaml', '--seed', '3');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/check failed: shadow-mismatch at \d+ ns/);
    expect(r.stdout).toMatch(/^repro: rackmem-sim run small --seed 3 {2}# scenario [0-9a-f]{8}, shadow-mismatch at \d+ ns$/m);
  });

  it('scenarios lists the built-ins, one per line, name first', async () => {
    const r = await cli(temp.make(), 'scenarios');
    expect(r.code).toBe(0);
    expect(r.lines.map((l) => l.split(/\s+/)[0])).toEqual([...BUILTIN_SCENARIO_NAMES]);
    for (const line of r.lines) expect(line.split(/\s{2,}/)[1]?.length ?? 0).toBeGreaterThan(10);
    const studies = await cli(temp.make(), 'scenarios', '--studies');
    expect(studies.lines[0]).toMatch(/^rackmem2021 /);
  });

  it('no arguments or --help print usage', async () => {
    const none = await cli(temp.make(), );
    expect(none.code).toBe(2);
    expect(none.stdout).toContain('Usage: rackmem-sim');
    const help = await cli(temp.make(), 'sweep', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--shard <i/n>');
  });
});
