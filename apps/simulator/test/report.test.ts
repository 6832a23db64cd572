// The HTML reports: self-contained (no network), deterministic, and rendered by a real browser
// (headless Chromium): every plot has an <svg> with non-empty paths after the page's script ran,
// and a screenshot is a non-empty PNG. The browser part skips with a printed reason when
// Chromium is not installed (CI installs Debian's chromium).

import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, SMALL_YAML, tempDirs } from './cli-harness.js';

const temp = tempDirs();
afterAll(() => temp.cleanup());

const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
let cwd = '';
if (CHROMIUM === undefined) console.log('report.test.ts: skipping the headless-Chromium render check: /usr/bin/chromium not found (CI installs it with apt-get install chromium)');

beforeAll(async () => {
  cwd = temp.make();
  writeFileSync(join(cwd, 'two-regions.yaml'), SMALL_YAML.replace('regions:\n', 'regions:\n  - name: r1\n    workload: { kind: sequential, pageCount: 256, passes: 2, thinkNs: 300 }\n    localRatio: 0.5\n    policySet: improved\n    vm: { prefetch: readahead }\n'));
  const run = await cli(cwd, 'run', 'two-regions.yaml', '--out', 'run');
  expect(run.code).toBe(0);
  const sweep = await cli(cwd, 'sweep', 'seq', '--set', 'workload.pageCount=512', '--vary', 'localRatio=1,0.5,0.25', '--vary', 'policySet=rackmem2021,improved', '--jobs', '2', '--out', 'sweep');
  expect(sweep.code).toBe(0);
}, 60_000);

function chromium(args: string[]): { stdout: string; status: number | null } {
  const profile = temp.make();
  const r = spawnSync(CHROMIUM as string, [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`, ...args,
  ], { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
  return { stdout: r.stdout ?? '', status: r.status };
}

describe('report.html', () => {
  it('is one self-contained file: inline style, script and SVG, nothing fetched', () => {
    for (const file of ['run/report.html', 'sweep/report.html']) {
      const html = readFileSync(join(cwd, file), 'utf8');
      expect(html.startsWith('<!doctype html>')).toBe(true);
      expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=|<img[^>]+src=|<iframe|url\(|@import/i);
      // The only URL is the SVG namespace (an identifier, never fetched).
      expect([...html.matchAll(/https?:\/\/[^\s"'<]+/g)].map((m) => m[0]).every((u) => u === 'http://www.w3.org/2000/svg')).toBe(true);
      expect((html.match(/<figure class="plot"/g) ?? []).length).toBeGreaterThanOrEqual(4);
    }
  });

  it('has the plots a researcher expects, and is byte-identical for the same inputs', async () => {
    const run = readFileSync(join(cwd, 'run/report.html'), 'utf8');
    for (const id of ['plot-latency-cdf', 'plot-throughput', 'plot-slowdown', 'plot-prefetch']) expect(run).toContain(`id="${id}"`);
    expect(run).toMatch(/<path class="line" d="M[\d.]+ [\d.]+L/);
    expect(run).toContain('rackmem-sim run two-regions.yaml --seed 1');
    const sweep = readFileSync(join(cwd, 'sweep/report.html'), 'utf8');
    for (const id of ['plot-slowdown-0', 'plot-latency-cdf-0', 'plot-throughput-0', 'plot-prefetch-0']) expect(sweep).toContain(`id="${id}"`);
    expect(sweep).toContain('Slowdown against all-local, by local memory');
    const again = await cli(cwd, 'run', 'two-regions.yaml', '--out', 'run-again');
    expect(again.code).toBe(0);
    expect(readFileSync(join(cwd, 'run-again/report.html'), 'utf8').replace(/run-again/g, 'run')).toBe(run);
  });

  it.skipIf(CHROMIUM === undefined)('renders in headless Chromium: every plot has an svg with non-empty paths after scripts run; a screenshot is non-empty', () => {
    for (const file of ['run/report.html', 'sweep/report.html']) {
      const url = `file://${join(cwd, file)}`;
      const dom = chromium(['--virtual-time-budget=3000', '--dump-dom', url]);
      expect(dom.status).toBe(0);
      const plots = Number(/data-plots="(\d+)"/.exec(dom.stdout)?.[1]);
      const rendered = Number(/data-plots-rendered="(\d+)"/.exec(dom.stdout)?.[1]);
      expect(plots).toBeGreaterThanOrEqual(4);
      expect(rendered).toBe(plots);
      expect((dom.stdout.match(/data-rendered="1"/g) ?? []).length).toBe(plots);
      const paths = [...dom.stdout.matchAll(/<path class="(?:line|bar)" d="([^"]*)"/g)].map((m) => m[1]);
      expect(paths.length).toBeGreaterThan(plots);
      expect(paths.every((d) => d.length > 2)).toBe(true);
      const png = join(temp.make(), 'shot.png');
      const shot = chromium(['--window-size=1300,2400', `--screenshot=${png}`, url]);
      expect(shot.status).toBe(0);
      expect(statSync(png).size).toBeGreaterThan(20_000);
      expect(readFileSync(png).subarray(1, 4).toString()).toBe('PNG');
    }
  });

});
