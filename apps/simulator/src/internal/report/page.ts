// The HTML shell of a report: one self-contained file (inline CSS, inline script, inline SVG; no
// network). The script only enhances what is already there: a hover read-out for plot points,
// legend clicks that hide a series, sortable tables; and it marks the document with the number
// of plots that rendered (data-plots-rendered on <body>), which the browser test reads.

import { esc } from './svg-plot.js';

const CSS = `
:root { --fg: #1d2330; --muted: #5b6475; --line: #d8dce4; --bg: #fff; --accent: #4e79a7; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); margin: 0; padding: 24px 32px 64px; max-width: 1400px; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 32px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
p.lead { color: var(--muted); margin: 0 0 16px; }
code, pre { font: 12.5px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre { background: #f5f6f8; padding: 10px 12px; overflow-x: auto; border-radius: 4px; }
pre.repro { white-space: pre-wrap; word-break: break-all; }
table { border-collapse: collapse; margin: 6px 0 12px; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid var(--line); padding: 3px 10px; text-align: left; white-space: nowrap; }
th { background: #f5f6f8; font-weight: 600; cursor: default; }
table.sortable th { cursor: pointer; } table.sortable th:hover { color: var(--accent); }
td.num, th.num { text-align: right; }
tr.failed td { color: #b3261e; }
dl.identity { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 8px 0; }
dl.identity dt { color: var(--muted); } dl.identity dd { margin: 0; font-family: ui-monospace, monospace; }
.plots { display: flex; flex-wrap: wrap; gap: 12px 20px; }
figure.plot { margin: 0; border: 1px solid var(--line); border-radius: 6px; padding: 6px 8px; background: #fff; width: 578px; max-width: 100%; }
.table-wrap { overflow-x: auto; max-width: 100%; }
figure.plot svg { display: block; max-width: 100%; height: auto; }
figure.plot figcaption { color: var(--muted); font-size: 12px; max-width: 560px; }
svg .title { font-size: 14px; font-weight: 600; fill: var(--fg); }
svg .tick { font-size: 11px; fill: var(--muted); }
svg .axis-label { font-size: 12px; fill: var(--fg); }
svg .plot-area { fill: none; stroke: #aab1bf; }
svg .grid { stroke: #eceef2; }
svg .line { fill: none; stroke-width: 2; }
svg .pt { stroke: #fff; stroke-width: 1; }
svg .pt:hover, svg .bar:hover { opacity: .7; }
svg .empty { fill: var(--muted); font-size: 14px; }
svg g.series.hidden { display: none; }
ul.legend { list-style: none; margin: 4px 0 0; padding: 0; display: flex; flex-wrap: wrap; gap: 2px 14px; font-size: 12px; max-width: 560px; }
ul.legend li { cursor: pointer; user-select: none; } ul.legend li.off { opacity: .35; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 5px; vertical-align: -1px; }
#readout { position: fixed; pointer-events: none; background: rgba(29,35,48,.92); color: #fff; padding: 4px 8px; border-radius: 4px; font-size: 12px; display: none; z-index: 10; }
.note { color: var(--muted); font-size: 12.5px; }
details summary { cursor: pointer; color: var(--accent); }
`;

const SCRIPT = `
(function () {
  'use strict';
  var readout = document.getElementById('readout');
  var rendered = 0;
  document.querySelectorAll('figure.plot').forEach(function (fig) {
    var paths = fig.querySelectorAll('svg path');
    var ok = false;
    paths.forEach(function (p) { var d = p.getAttribute('d') || ''; if (d.length > 2) ok = true; });
    var box = fig.querySelector('svg').getBBox ? fig.querySelector('svg').getBoundingClientRect() : null;
    if (ok && box && box.width > 0 && box.height > 0) { rendered++; fig.setAttribute('data-rendered', '1'); }
    fig.querySelectorAll('ul.legend li').forEach(function (li) {
      li.addEventListener('click', function () {
        var i = li.getAttribute('data-series');
        li.classList.toggle('off');
        fig.querySelectorAll('g.series[data-series="' + i + '"]').forEach(function (g) { g.classList.toggle('hidden'); });
      });
    });
    fig.querySelectorAll('.pt, .bar').forEach(function (el) {
      var title = el.querySelector('title');
      var text = title ? title.textContent : '';
      el.addEventListener('mousemove', function (ev) {
        readout.textContent = text; readout.style.display = 'block';
        readout.style.left = (ev.clientX + 12) + 'px'; readout.style.top = (ev.clientY + 12) + 'px';
      });
      el.addEventListener('mouseleave', function () { readout.style.display = 'none'; });
    });
  });
  document.querySelectorAll('table.sortable').forEach(function (table) {
    table.querySelectorAll('th').forEach(function (th, col) {
      th.addEventListener('click', function () {
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        var dir = th.getAttribute('data-dir') === 'asc' ? -1 : 1;
        table.querySelectorAll('th').forEach(function (h) { h.removeAttribute('data-dir'); });
        th.setAttribute('data-dir', dir === 1 ? 'asc' : 'desc');
        rows.sort(function (a, b) {
          var x = a.cells[col].getAttribute('data-v') || a.cells[col].textContent;
          var y = b.cells[col].getAttribute('data-v') || b.cells[col].textContent;
          var nx = parseFloat(x), ny = parseFloat(y);
          if (!isNaN(nx) && !isNaN(ny)) return (nx - ny) * dir;
          return x < y ? -dir : x > y ? dir : 0;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
  });
  document.body.setAttribute('data-plots', String(document.querySelectorAll('figure.plot').length));
  document.body.setAttribute('data-plots-rendered', String(rendered));
})();
`;

/** A cell of an HTML table: text, and optionally a sort value and numeric alignment. */
export interface Cell {
  text: string;
  sort?: number | string;
  num?: boolean;
  title?: string;
}

/** An HTML table (sortable when asked). */
export function htmlTable(header: readonly string[], rows: readonly (readonly (Cell | string)[])[], options: { sortable?: boolean; rowClass?: (i: number) => string | undefined; numeric?: readonly boolean[] } = {}): string {
  const cell = (c: Cell | string, i: number): Cell => (typeof c === 'string' ? { text: c, num: options.numeric?.[i] } : { num: options.numeric?.[i], ...c });
  const th = header.map((h, i) => `<th${options.numeric?.[i] === true ? ' class="num"' : ''}>${esc(h)}</th>`).join('');
  const body = rows
    .map((r, ri) => {
      const cls = options.rowClass?.(ri);
      const tds = r
        .map((raw, i) => {
          const c = cell(raw, i);
          const attrs = `${c.num === true ? ' class="num"' : ''}${c.sort === undefined ? '' : ` data-v="${esc(String(c.sort))}"`}${c.title === undefined ? '' : ` title="${esc(c.title)}"`}`;
          return `<td${attrs}>${esc(c.text)}</td>`;
        })
        .join('');
      return `<tr${cls === undefined ? '' : ` class="${cls}"`}>${tds}</tr>`;
    })
    .join('\n');
  return `<div class="table-wrap"><table${options.sortable === true ? ' class="sortable"' : ''}><thead><tr>${th}</tr></thead><tbody>\n${body}\n</tbody></table></div>\n`;
}

/** A definition list of identity fields. */
export function identityList(entries: readonly (readonly [string, string])[]): string {
  return `<dl class="identity">${entries.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>\n`;
}

/** The whole document. */
export function page(title: string, body: string): string {
  return (
    `<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<meta name="viewport" content="width=device-width, initial-scale=1">\n` +
    `<meta name="generator" content="rackmem-sim">\n<title>${esc(title)}</title>\n<style>${CSS}</style>\n</head>\n<body>\n` +
    `${body}\n<div id="readout"></div>\n<script>${SCRIPT}</script>\n</body>\n</html>\n`
  );
}
