// rackmem-sim compare <a.json> <b.json>: the key metrics side by side with ratios (b / a).

import type { Command } from 'commander';
import { formatBytes, formatNs, formatPercent, formatRatio, textTable } from '../format.js';
import { regionSummary, type RegionSummary } from '../summary.js';
import { readResultFile } from './replay-command.js';
import type { CliIo } from './io.js';

interface Metric {
  name: string;
  get: (s: RegionSummary) => number;
  format: (v: number) => string;
}

const METRICS: readonly Metric[] = [
  { name: 'local memory', get: (s) => s.localRatio, format: formatPercent },
  { name: 'app time', get: (s) => s.appTimeNs, format: formatNs },
  { name: 'slowdown', get: (s) => s.slowdown, format: (v) => `${formatRatio(v)}x` },
  { name: 'faults', get: (s) => s.faults, format: String },
  { name: 'fault p50', get: (s) => s.faultP50Ns, format: formatNs },
  { name: 'fault p99', get: (s) => s.faultP99Ns, format: formatNs },
  { name: 'fault p99.9', get: (s) => s.faultP999Ns, format: formatNs },
  { name: 'fault max', get: (s) => s.faultMaxNs, format: formatNs },
  { name: 'bytes moved', get: (s) => s.bytesMoved, format: formatBytes },
  { name: 'prefetch issued', get: (s) => s.prefetchIssued, format: String },
  { name: 'prefetch accuracy', get: (s) => s.prefetchAccuracy, format: formatPercent },
];

function ratio(a: number, b: number): string {
  if (a === 0 && b === 0) return '=';
  if (a === 0) return '-';
  return `${(b / a).toFixed(3)}`;
}

/** The comparison table of two results: per region (matched by position), metric, a, b, b/a. */
export function compareTable(a: ReturnType<typeof readResultFile>, b: ReturnType<typeof readResultFile>): string {
  const rows: string[][] = [];
  const n = Math.max(a.regions.length, b.regions.length);
  for (let i = 0; i < n; i++) {
    const ra = a.regions[i];
    const rb = b.regions[i];
    if (ra === undefined || rb === undefined) {
      rows.push([`region ${i}`, '(only in one result)', ra?.name ?? '-', rb?.name ?? '-', '']);
      continue;
    }
    const sa = regionSummary(ra);
    const sb = regionSummary(rb);
    const region = ra.name === rb.name ? ra.name : `${ra.name} / ${rb.name}`;
    rows.push([region, 'policy set', sa.policySet, sb.policySet, '']);
    for (const m of METRICS) rows.push([region, m.name, m.format(m.get(sa)), m.format(m.get(sb)), ratio(m.get(sa), m.get(sb))]);
  }
  return textTable(['region', 'metric', 'a', 'b', 'b/a'], rows);
}

/** Adds `compare`. */
export function addCompareCommand(program: Command, io: CliIo, wrap: (action: () => Promise<void>) => Promise<void>): void {
  program
    .command('compare')
    .description('the key metrics of two results side by side, with ratios b/a')
    .argument('<a.json>', 'first result')
    .argument('<b.json>', 'second result')
    .action((pathA: string, pathB: string) =>
      wrap(async () => {
        const a = readResultFile(pathA, io.cwd);
        const b = readResultFile(pathB, io.cwd);
        io.stdout(`a: ${pathA}: ${a.identity.scenarioName} seed ${a.identity.seed}, scenario ${a.identity.scenarioDigest}, digest ${a.digest}\n`);
        io.stdout(`b: ${pathB}: ${b.identity.scenarioName} seed ${b.identity.seed}, scenario ${b.identity.scenarioDigest}, digest ${b.digest}\n\n`);
        io.stdout(compareTable(a, b));
      }),
    );
}
