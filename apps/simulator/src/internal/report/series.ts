// Plot series derived from results: fault-latency CDF points from a histogram summary, rates over
// time from the time series.

import type { HistogramSummary, SimResult } from '@rackmem/sim';
import type { Series } from './svg-plot.js';
import { formatNs } from '../format.js';

/** The CDF points a summary gives: (min, 0), (p50, 0.5), (p90, 0.9), (p99, 0.99), (p99.9, 0.999), (max, 1). */
export function latencyCdf(name: string, s: HistogramSummary): Series {
  if (s.count === 0) return { name, points: [] };
  const qs: [number, number, string][] = [
    [s.min, 0, 'min'], [s.p50, 0.5, 'p50'], [s.p90, 0.9, 'p90'], [s.p99, 0.99, 'p99'], [s.p999, 0.999, 'p99.9'], [s.max, 1, 'max'],
  ];
  return {
    name,
    points: qs.map(([x, q]) => [x, q] as const),
    pointLabels: qs.map(([x, , label]) => `${name}: ${label} ${formatNs(x)} (${s.count} faults)`),
  };
}

/** Per time-series row: [end of interval in ms, per-second rate of `column`]. */
export function rateOverTime(name: string, result: SimResult, column: 'accesses' | 'faults' | 'bytesMoved'): Series {
  const cols = result.timeSeries.columns;
  const ti = cols.indexOf('timeNs');
  const ci = cols.indexOf(column);
  const points: [number, number][] = [];
  let prev = 0;
  for (const row of result.timeSeries.rows) {
    const t = row[ti];
    const span = t - prev;
    if (span > 0) points.push([t / 1e6, (row[ci] * 1e9) / span]);
    prev = t;
  }
  return { name, points };
}

/** Resident pages at the end of each interval. */
export function residentOverTime(name: string, result: SimResult): Series {
  const cols = result.timeSeries.columns;
  const ti = cols.indexOf('timeNs');
  const ri = cols.indexOf('residentPages');
  return { name, points: result.timeSeries.rows.map((row) => [row[ti] / 1e6, row[ri]] as const) };
}

/** Latency axis format (ns values). */
export function formatLatencyTick(ns: number): string {
  if (ns >= 1e9) return `${ns / 1e9}s`;
  if (ns >= 1e6) return `${ns / 1e6}ms`;
  if (ns >= 1e3) return `${ns / 1e3}us`;
  return `${ns}ns`;
}
