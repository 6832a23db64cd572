// CSV files: RFC 4180 quoting, numbers as JS prints them (integers, or the 4-decimal ratios of
// results), "\n" line ends. Deterministic for the same rows.

import type { SimResult } from '@rackmem/sim';
import { REGION_SUMMARY_COLUMNS, resultSummaries } from './summary.js';

/** One CSV field. */
export function csvField(value: unknown): string {
  if (value === undefined || value === null) return '';
  const text = typeof value === 'string' ? value : typeof value === 'object' ? JSON.stringify(value) : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** A CSV document from a header and rows. */
export function csv(header: readonly string[], rows: readonly (readonly unknown[])[]): string {
  return [header.map(csvField).join(','), ...rows.map((r) => r.map(csvField).join(','))].join('\n') + '\n';
}

/** The time series of a run: one tidy file, one row per sample interval (the whole rack). */
export function timeSeriesCsv(result: SimResult): string {
  const cols = result.timeSeries.columns;
  const ti = cols.indexOf('timeNs');
  const ai = cols.indexOf('accesses');
  const fi = cols.indexOf('faults');
  const bi = cols.indexOf('bytesMoved');
  let prev = 0;
  const rows = result.timeSeries.rows.map((row) => {
    const span = row[ti] - prev;
    prev = row[ti];
    const rate = (v: number): number => (span > 0 ? Math.round((v * 1e9) / span) : 0);
    return [...row, span, rate(row[ai]), rate(row[fi]), rate(row[bi])];
  });
  return csv([...cols, 'intervalNs', 'accessesPerSecond', 'faultsPerSecond', 'bytesMovedPerSecond'], rows);
}

/** The per-region summary of a run. */
export function summaryCsv(result: SimResult): string {
  return csv(REGION_SUMMARY_COLUMNS, resultSummaries(result).map((s) => REGION_SUMMARY_COLUMNS.map((c) => s[c])));
}
