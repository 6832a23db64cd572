// Writes a sweep's files: sweep.csv and sweep.json (the combined table), report.html, and every
// point's full result as points/NNNN.json (replayable with `rackmem-sim replay`).

import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { canonicalPrettyJson, resultFileText } from '../canonical-json.js';
import { csv } from '../csv.js';
import { renderSweepReport } from '../report/sweep-report.js';
import type { PointOutcome } from './pool.js';
import { pointFile, sweepCsvTable, sweepDocument, sweepRows, type SweepDefinition } from './tables.js';

/** Writes the sweep's files into `dir`; returns the main ones relative to `cwd`. */
export function writeSweepFiles(def: SweepDefinition, outcomes: readonly PointOutcome[], dir: string, cwd: string): string[] {
  mkdirSync(join(dir, 'points'), { recursive: true });
  for (const o of outcomes) if (o.status === 'ok') writeFileSync(join(dir, pointFile(o.point.index)), resultFileText(o.result));
  const table = sweepCsvTable(def, sweepRows(outcomes));
  const files: [string, string][] = [
    ['sweep.csv', csv(table.header, table.rows)],
    ['sweep.json', canonicalPrettyJson(sweepDocument(def, outcomes))],
    ['report.html', renderSweepReport(def, outcomes)],
  ];
  const written = files.map(([name, text]) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return relative(cwd, path) || path;
  });
  return [...written, `${relative(cwd, join(dir, 'points')) || join(dir, 'points')}/ (${outcomes.filter((o) => o.status === 'ok').length} results)`];
}
