// The key metrics of a result, per region: what the summary table, the CSV tables, compare and
// the reports show.

import type { RegionResult, SimResult } from '@rackmem/sim';
import { formatBytes, formatNs, formatPercent, formatRatio, textTable } from './format.js';

/** Key metrics of one region of a run. */
export interface RegionSummary {
  region: string;
  policySet: string;
  pageCount: number;
  localPages: number;
  /** localPages / pageCount, 4 decimals. */
  localRatio: number;
  accesses: number;
  faults: number;
  appTimeNs: number;
  allLocalTimeNs: number;
  slowdown: number;
  faultP50Ns: number;
  faultP99Ns: number;
  faultP999Ns: number;
  faultMaxNs: number;
  /** Page payload moved to and from memory nodes (every replica): (slab reads + writes) x page size. */
  bytesMoved: number;
  prefetchIssued: number;
  prefetchAccuracy: number;
  sigbus: number;
}

/** Column names of a RegionSummary, in table order. */
export const REGION_SUMMARY_COLUMNS: readonly (keyof RegionSummary)[] = [
  'region', 'policySet', 'pageCount', 'localPages', 'localRatio', 'accesses', 'faults', 'appTimeNs', 'allLocalTimeNs', 'slowdown',
  'faultP50Ns', 'faultP99Ns', 'faultP999Ns', 'faultMaxNs', 'bytesMoved', 'prefetchIssued', 'prefetchAccuracy', 'sigbus',
];

function round4(v: number): number {
  return Math.round(v * 10_000) / 10_000;
}

/** The summary of one region. */
export function regionSummary(r: RegionResult): RegionSummary {
  const lat = r.faultLatencyNs.all;
  return {
    region: r.name,
    policySet: r.policySet,
    pageCount: r.pageCount,
    localPages: r.localPages,
    localRatio: round4(r.pageCount > 0 ? r.localPages / r.pageCount : 0),
    accesses: r.accesses,
    faults: r.faults,
    appTimeNs: r.appTimeNs,
    allLocalTimeNs: r.allLocalTimeNs,
    slowdown: r.slowdown,
    faultP50Ns: lat.p50,
    faultP99Ns: lat.p99,
    faultP999Ns: lat.p999,
    faultMaxNs: lat.max,
    bytesMoved: (r.dvs.slab_read + r.dvs.slab_write) * r.pageSizeBytes,
    prefetchIssued: r.prefetch.issued,
    prefetchAccuracy: r.prefetch.accuracy,
    sigbus: r.sigbus,
  };
}

/** Summaries of every region of a result. */
export function resultSummaries(result: SimResult): RegionSummary[] {
  return result.regions.map(regionSummary);
}

/** The summary table printed by `run`. */
export function summaryTable(result: SimResult): string {
  const header = ['region', 'policy', 'local', 'app time', 'slowdown', 'faults', 'p50', 'p99', 'p99.9', 'bytes moved', 'prefetch acc.'];
  const rows = resultSummaries(result).map((s) => [
    s.region,
    s.policySet,
    formatPercent(s.localRatio),
    formatNs(s.appTimeNs),
    `${formatRatio(s.slowdown)}x`,
    String(s.faults),
    formatNs(s.faultP50Ns),
    formatNs(s.faultP99Ns),
    formatNs(s.faultP999Ns),
    formatBytes(s.bytesMoved),
    s.prefetchIssued > 0 ? formatPercent(s.prefetchAccuracy) : '-',
  ]);
  return textTable(header, rows);
}

/** One line on the whole run. */
export function runLine(result: SimResult): string {
  const r = result.run;
  return `simulated ${formatNs(r.simulatedNs)}, ${r.events} events, ${r.randomDraws} random draws, ${r.accesses} accesses, ${r.faults} faults, ${r.sigbus} SIGBUS; network ${result.network.preset}: ${formatBytes(result.network.ops.readBytes)} read, ${formatBytes(result.network.ops.writeBytes)} written`;
}
