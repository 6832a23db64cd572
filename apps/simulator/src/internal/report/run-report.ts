// report.html of one run: identity and repro, the summary table, the fault-latency CDF (per
// region and per class), throughput over time, slowdown against local memory, prefetch accuracy,
// then network, memory nodes, injected faults and the scenario.

import { FAULT_CLASS_NAMES, type SimResult } from '@rackmem/sim';
import { canonicalPrettyJson } from '../canonical-json.js';
import { formatBytes, formatNs, formatPercent, formatRatio } from '../format.js';
import { resultSummaries } from '../summary.js';
import { htmlTable, identityList, page } from './page.js';
import { latencyCdf, formatLatencyTick, rateOverTime, residentOverTime } from './series.js';
import { barPlot, esc, formatNumber, linePlot } from './svg-plot.js';

/** What the run report shows besides the result. */
export interface RunReportContext {
  /** The command that reruns this run. */
  rerun: string;
  /** The replay command for the written result file. */
  replay?: string;
}

/** Summary table of a result as HTML. */
export function summaryHtml(result: SimResult): string {
  const rows = resultSummaries(result).map((s) => [
    s.region,
    s.policySet,
    { text: formatPercent(s.localRatio), sort: s.localRatio },
    { text: formatNs(s.appTimeNs), sort: s.appTimeNs },
    { text: formatNs(s.allLocalTimeNs), sort: s.allLocalTimeNs },
    { text: `${formatRatio(s.slowdown)}x`, sort: s.slowdown },
    { text: String(s.accesses), sort: s.accesses },
    { text: String(s.faults), sort: s.faults },
    { text: formatNs(s.faultP50Ns), sort: s.faultP50Ns },
    { text: formatNs(s.faultP99Ns), sort: s.faultP99Ns },
    { text: formatNs(s.faultP999Ns), sort: s.faultP999Ns },
    { text: formatNs(s.faultMaxNs), sort: s.faultMaxNs },
    { text: formatBytes(s.bytesMoved), sort: s.bytesMoved },
    { text: s.prefetchIssued > 0 ? formatPercent(s.prefetchAccuracy) : '-', sort: s.prefetchAccuracy },
  ]);
  const header = ['region', 'policy set', 'local', 'app time', 'all-local time', 'slowdown', 'accesses', 'faults', 'p50', 'p99', 'p99.9', 'max', 'bytes moved', 'prefetch accuracy'];
  return htmlTable(header, rows, { sortable: true, numeric: header.map((_h, i) => i >= 2) });
}

/** The report of one run. */
export function renderRunReport(result: SimResult, context: RunReportContext): string {
  const id = result.identity;
  let body = `<h1>rackmem-sim: ${esc(id.scenarioName)}</h1>\n`;
  body += `<p class="lead">${esc(result.scenario.description || 'scenario run')}</p>\n`;
  body += identityList([
    ['scenario', `${id.scenarioName} (digest ${id.scenarioDigest})`],
    ['seed', id.seed],
    ['simulator', `${id.simulator}, Node ${id.nodeMajor}`],
    ['result digest', `${result.digest} (unseed ${result.unseed})`],
    ['simulated', `${formatNs(result.run.simulatedNs)}, ${result.run.events} events, ${result.run.randomDraws} random draws`],
    ['network', result.network.preset],
  ]);
  body += `<pre class="repro">${esc(context.rerun)}${context.replay === undefined ? '' : `\n${esc(context.replay)}`}</pre>\n`;
  body += `<h2>Summary</h2>\n${summaryHtml(result)}`;
  body += `<p class="note">Slowdown: application time against the same access streams with every access a hit (think time + hit cost). Bytes moved: page payload to and from memory nodes, every replica.</p>\n`;

  body += `<h2>Plots</h2>\n<div class="plots">\n`;
  const yNines = { yScale: 'nines' as const, xScale: 'log' as const, formatX: formatLatencyTick, yLabel: 'cumulative fraction of faults' };
  body += linePlot({
    id: 'plot-latency-cdf', title: 'Fault-latency CDF per region', xLabel: 'fault latency', ...yNines,
    series: result.regions.map((r) => latencyCdf(r.name, r.faultLatencyNs.all)),
    caption: 'Points at min, p50, p90, p99, p99.9 and max of the log-linear histogram (< 3.2% error); y on a nines scale.',
  });
  for (const r of result.regions) {
    const classes = FAULT_CLASS_NAMES.filter((c) => r.faultLatencyNs.byClass[c].count > 0);
    if (classes.length > 1) {
      body += linePlot({
        id: `plot-latency-class-${r.name}`, title: `Fault latency by class: ${r.name}`, xLabel: 'fault latency', ...yNines,
        series: classes.map((c) => latencyCdf(`${c} (${r.faultLatencyNs.byClass[c].count})`, r.faultLatencyNs.byClass[c])),
      });
    }
  }
  body += linePlot({
    id: 'plot-throughput', title: 'Throughput over time', xLabel: 'simulated time (ms)', yLabel: 'per simulated second',
    series: [rateOverTime('accesses/s', result, 'accesses'), rateOverTime('faults/s', result, 'faults')],
    caption: `Whole run, per sample interval (${formatNs(result.timeSeries.intervalNs)} at the end of the run).`,
  });
  body += linePlot({
    id: 'plot-bytes', title: 'Bytes moved over time', xLabel: 'simulated time (ms)', yLabel: 'bytes per simulated second',
    series: [rateOverTime('bytes moved/s', result, 'bytesMoved')],
  });
  body += linePlot({
    id: 'plot-resident', title: 'Resident pages over time', xLabel: 'simulated time (ms)', yLabel: 'pages',
    series: [residentOverTime('resident pages', result)],
    caption: `Budget: ${result.regions.map((r) => `${r.name} ${r.localPages} pages`).join(', ')}.`,
  });
  const summaries = resultSummaries(result);
  body += linePlot({
    id: 'plot-slowdown', title: 'Slowdown against local-memory ratio', xLabel: 'local memory (fraction of the region)', yLabel: 'slowdown (x)',
    yScale: summaries.some((s) => s.slowdown > 20) ? 'log' : 'linear', xDomain: [0, 1],
    series: summaries.map((s) => ({ name: s.region, points: [[s.localRatio, s.slowdown]] })),
    caption: 'One point per region; sweep localRatio for a curve (rackmem-sim sweep --vary localRatio=1,0.75,0.5,0.25).',
  });
  body += barPlot({
    id: 'plot-prefetch', title: 'Prefetch accuracy and timeliness', yLabel: 'fraction', yMax: 1,
    categories: result.regions.map((r) => r.name),
    series: [
      { name: 'accuracy (useful / issued)', values: result.regions.map((r) => r.prefetch.accuracy) },
      { name: 'late / useful', values: result.regions.map((r) => r.prefetch.timeliness) },
    ],
    formatY: (v) => formatNumber(v),
    caption: `Issued: ${result.regions.map((r) => `${r.name} ${r.prefetch.issued}`).join(', ')}.`,
  });
  body += `</div>\n`;

  body += `<h2>Prefetch and write-back</h2>\n`;
  body += htmlTable(
    ['region', 'issued', 'useful', 'late', 'wasted', 'accuracy', 'late / useful', 'write-back batches', 'batch p50 pages', 'batch max pages'],
    result.regions.map((r) => [r.name, String(r.prefetch.issued), String(r.prefetch.useful), String(r.prefetch.late), String(r.prefetch.wasted), formatPercent(r.prefetch.accuracy), formatPercent(r.prefetch.timeliness), String(r.writebackBatchPages.count), String(r.writebackBatchPages.p50), String(r.writebackBatchPages.max)]),
    { numeric: [false, true, true, true, true, true, true, true, true, true] },
  );
  body += `<h2>Fault latency by class</h2>\n`;
  const classRows: string[][] = [];
  for (const r of result.regions) {
    for (const c of FAULT_CLASS_NAMES) {
      const s = r.faultLatencyNs.byClass[c];
      if (s.count > 0) classRows.push([r.name, c, String(s.count), formatNs(s.mean), formatNs(s.p50), formatNs(s.p99), formatNs(s.p999), formatNs(s.max)]);
    }
  }
  body += htmlTable(['region', 'class', 'count', 'mean', 'p50', 'p99', 'p99.9', 'max'], classRows, { numeric: [false, false, true, true, true, true, true, true] });
  body += `<h2>Network</h2>\n`;
  const ops = result.network.ops;
  body += `<p>${esc(result.network.preset)}: ${ops.reads} READs (${formatBytes(ops.readBytes)}), ${ops.writes} WRITEs (${formatBytes(ops.writeBytes)}), ${ops.rpcs} RPCs, ${ops.failed} failed; deepest queue-pair queue ${ops.maxQueuedAtQueuePair}.</p>\n`;
  body += htmlTable(['host', 'egress', 'ingress'], result.network.links.map((l) => [l.host, formatBytes(l.egressBytes), formatBytes(l.ingressBytes)]), { numeric: [false, true, true] });
  body += `<h3>Memory nodes</h3>\n`;
  body += htmlTable(['node', 'used', 'slabs', 'down at end'], result.memoryNodes.map((m) => [m.name, formatBytes(m.usedBytes), String(m.slabs), m.down ? 'yes' : 'no']), { numeric: [false, true, true, false] });
  if (result.faults.length > 0) {
    body += `<h3>Injected faults</h3>\n`;
    body += htmlTable(['at', 'kind', 'target'], result.faults.map((f) => [formatNs(f.atNs), f.kind, f.target]));
  }
  body += `<h2>Checks</h2>\n<p>shadow memory ${esc(result.checks.shadowMemory)}, invariants ${esc(result.checks.invariants)}, budgets ${esc(result.checks.budgets)}; strict replication per region: ${esc(result.checks.strictReplication.join(', '))}.</p>\n`;
  body += `<h2>Scenario</h2>\n<details><summary>scenario as run (validated, with overrides)</summary><pre>${esc(canonicalPrettyJson(result.scenario))}</pre></details>\n`;
  if (result.drawnScenario !== undefined) body += `<details><summary>configuration drawn by swarm mode</summary><pre>${esc(canonicalPrettyJson(result.drawnScenario))}</pre></details>\n`;
  return page(`rackmem-sim ${id.scenarioName} seed ${id.seed}`, body);
}
