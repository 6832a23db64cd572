// report.html of a sweep: identity and rerun command, the slowdown pivot (series x local memory),
// per facet (base scenario) the slowdown against local-memory ratio, the fault-latency CDF and the
// throughput over time of every point, prefetch accuracy per point, the combined table and the
// failed points with their repro lines.

import { formatBytes, formatNs, formatPercent, formatRatio } from '../format.js';
import type { PointOutcome } from '../sweep/pool.js';
import { slowdownPivot, sweepDigest, sweepRows, type SweepDefinition } from '../sweep/tables.js';
import { htmlTable, identityList, page } from './page.js';
import { formatLatencyTick, latencyCdf, rateOverTime } from './series.js';
import { barPlot, esc, linePlot, type Series } from './svg-plot.js';

function pointName(o: PointOutcome, def: SweepDefinition): string {
  const label = o.point.label;
  return def.bases.length > 1 && label.startsWith(`${o.point.base} `) ? label.slice(o.point.base.length + 1) : label;
}

/** The values of the varying axes only (`improved 0.25`), for bar labels. */
function shortName(o: PointOutcome, def: SweepDefinition): string {
  const parts = def.axes.filter((a) => a.values.length > 1).map((a) => (typeof o.point.values[a.key] === 'string' ? (o.point.values[a.key] as string) : JSON.stringify(o.point.values[a.key])));
  if (def.seeds.length > 1) parts.push(`s${o.point.seed}`);
  return parts.join(' ') || String(o.point.index);
}

/** The slowdown pivot as an HTML table per facet. */
function pivotHtml(def: SweepDefinition, outcomes: readonly PointOutcome[]): string {
  const { ratios, series } = slowdownPivot(def, sweepRows(outcomes));
  if (series.length === 0) return '<p class="note">No successful points.</p>\n';
  const header = [...(def.bases.length > 1 ? ['scenario'] : []), 'series', ...ratios.map((r) => `${formatPercent(r)} local`)];
  const rows = series.map((s) => [
    ...(def.bases.length > 1 ? [s.facet] : []),
    s.name,
    ...ratios.map((r) => {
      const v = s.byRatio.get(r);
      return v === undefined ? { text: '', sort: '' } : { text: `${formatRatio(v)}x`, sort: v };
    }),
  ]);
  return htmlTable(header, rows, { sortable: true, numeric: header.map((_h, i) => i >= (def.bases.length > 1 ? 2 : 1)) });
}

/** The report of a sweep. */
export function renderSweepReport(def: SweepDefinition, outcomes: readonly PointOutcome[]): string {
  const ok = outcomes.filter((o): o is Extract<PointOutcome, { status: 'ok' }> => o.status === 'ok');
  const failed = outcomes.filter((o): o is Extract<PointOutcome, { status: 'failed' }> => o.status === 'failed');
  const title = def.study !== undefined ? `study ${def.study}` : `sweep of ${def.bases.join(', ')}`;
  let body = `<h1>rackmem-sim: ${esc(title)}</h1>\n`;
  body += `<p class="lead">${outcomes.length} point(s) run of ${def.totalPoints} in the grid${def.shard === undefined ? '' : ` (shard ${esc(def.shard)})`}; ${failed.length} failed.</p>\n`;
  body += identityList([
    ['scenarios', def.bases.join(', ')],
    ['varied', def.axes.map((a) => `${a.key} = ${a.values.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ')}`).join('; ') || '(nothing)'],
    ['seeds', def.seeds.join(', ')],
    ['sweep digest', sweepDigest(outcomes)],
    ['simulator', ok.length > 0 ? `${ok[0].result.identity.simulator}, Node ${ok[0].result.identity.nodeMajor}` : '-'],
  ]);
  body += `<pre class="repro">${esc(def.command)}</pre>\n`;
  body += `<h2>Slowdown against all-local, by local memory</h2>\n${pivotHtml(def, outcomes)}`;
  body += `<p class="note">Slowdown: application time against the same access streams with every access a hit; mean over seeds. Columns: the region's local pages / pages.</p>\n`;

  const facets = def.bases.length > 1 ? def.bases : [''];
  const { series: pivot } = slowdownPivot(def, sweepRows(outcomes));
  const yNines = { yScale: 'nines' as const, xScale: 'log' as const, formatX: formatLatencyTick, yLabel: 'cumulative fraction of faults' };
  facets.forEach((facet, fi) => {
    const inFacet = ok.filter((o) => facet === '' || o.point.base === facet);
    if (facet !== '') body += `<h2>${esc(facet)}</h2>\n`;
    else body += `<h2>Plots</h2>\n`;
    body += `<div class="plots">\n`;
    const facetSeries = pivot.filter((s) => s.facet === facet);
    const slowdowns = facetSeries.flatMap((s) => [...s.byRatio.values()]);
    const spread = slowdowns.length > 0 ? Math.max(...slowdowns) / Math.max(1e-9, Math.min(...slowdowns)) : 1;
    body += linePlot({
      id: `plot-slowdown-${fi}`,
      title: `Slowdown against local-memory ratio${facet === '' ? '' : `: ${facet}`}`,
      xLabel: 'local memory (fraction of the region)',
      yLabel: 'slowdown (x)',
      yScale: spread > 20 ? 'log' : 'linear',
      xDomain: [0, 1],
      series: facetSeries.map((s) => ({ name: s.name, points: [...s.byRatio.entries()].sort((a, b) => a[0] - b[0]) })),
    });
    const cdf: Series[] = [];
    const tput: Series[] = [];
    for (const o of inFacet) {
      const name = pointName(o, def);
      for (const r of o.result.regions) {
        const n = o.result.regions.length > 1 ? `${name} ${r.name}` : name;
        cdf.push(latencyCdf(n, r.faultLatencyNs.all));
      }
      tput.push(rateOverTime(name, o.result, 'accesses'));
    }
    body += linePlot({ id: `plot-latency-cdf-${fi}`, title: `Fault-latency CDF per point${facet === '' ? '' : `: ${facet}`}`, xLabel: 'fault latency', ...yNines, series: cdf, markers: true });
    body += linePlot({ id: `plot-throughput-${fi}`, title: `Throughput over time${facet === '' ? '' : `: ${facet}`}`, xLabel: 'simulated time (ms)', yLabel: 'accesses per simulated second', series: tput, markers: false });
    body += barPlot({
      id: `plot-prefetch-${fi}`,
      title: `Prefetch accuracy per point${facet === '' ? '' : `: ${facet}`}`,
      yLabel: 'useful / issued',
      yMax: 1,
      categories: inFacet.map((o) => shortName(o, def)),
      series: [{ name: 'accuracy (first region)', values: inFacet.map((o) => (o.result.regions[0].prefetch.issued > 0 ? o.result.regions[0].prefetch.accuracy : NaN)) }],
      caption: 'Points without prefetches are left empty.',
    });
    body += `</div>\n`;
  });

  body += `<h2>All points</h2>\n`;
  const rows = sweepRows(outcomes);
  const header = ['point', 'label', 'seed', 'region', 'local', 'app time', 'slowdown', 'faults', 'p50', 'p99', 'p99.9', 'bytes moved', 'prefetch acc.', 'digest'];
  body += htmlTable(
    header,
    rows.map((r) =>
      r.status === 'ok'
        ? [
            { text: String(r.point), sort: r.point }, r.label, r.seed, r.region ?? '', { text: formatPercent(r.localRatio ?? 0), sort: r.localRatio ?? 0 },
            { text: formatNs(r.appTimeNs ?? 0), sort: r.appTimeNs ?? 0 }, { text: `${formatRatio(r.slowdown ?? 0)}x`, sort: r.slowdown ?? 0 },
            { text: String(r.faults), sort: r.faults ?? 0 }, { text: formatNs(r.faultP50Ns ?? 0), sort: r.faultP50Ns ?? 0 },
            { text: formatNs(r.faultP99Ns ?? 0), sort: r.faultP99Ns ?? 0 }, { text: formatNs(r.faultP999Ns ?? 0), sort: r.faultP999Ns ?? 0 },
            { text: formatBytes(r.bytesMoved ?? 0), sort: r.bytesMoved ?? 0 },
            { text: (r.prefetchIssued ?? 0) > 0 ? formatPercent(r.prefetchAccuracy ?? 0) : '-', sort: r.prefetchAccuracy ?? 0 }, r.digest ?? '',
          ]
        : [{ text: String(r.point), sort: r.point }, r.label, r.seed, 'FAILED', '', '', '', '', '', '', '', '', '', r.error ?? ''],
    ),
    { sortable: true, rowClass: (i) => (rows[i].status === 'failed' ? 'failed' : undefined), numeric: header.map((_h, i) => i === 0 || (i >= 4 && i <= 12)) },
  );
  if (failed.length > 0) {
    body += `<h2>Failed points</h2>\n<pre class="repro">${esc(failed.map((f) => `point ${f.point.index} (${f.point.label}): ${f.code}: ${f.message.split('\n')[0]}${f.repro === undefined ? '' : `\n  ${f.repro}`}`).join('\n'))}</pre>\n`;
  }
  return page(`rackmem-sim ${title}`, body);
}
