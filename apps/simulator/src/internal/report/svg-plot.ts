// Hand-written inline SVG plots (no dependencies, no network): line / step plots with linear,
// logarithmic or "nines" axes, and grouped bar charts. The output depends only on the data, so a
// report is byte-identical for the same results. Every point carries a <title> (a tooltip
// without scripts) and data attributes the report's script uses for its hover read-out.

/** One series of a line plot. */
export interface Series {
  name: string;
  /** [x, y] in data units; non-finite or (on log axes) non-positive values are dropped. */
  points: readonly (readonly [number, number])[];
  /** Labels of the points for tooltips (default: the formatted values). */
  pointLabels?: readonly string[];
}

/** Axis scale. `nines` maps a fraction q to -log10(1 - q) (0, 0.9, 0.99, ... evenly spaced; 1 = max). */
export type AxisScale = 'linear' | 'log' | 'nines';

/** A line plot. */
export interface LinePlotSpec {
  id: string;
  title: string;
  xLabel: string;
  yLabel: string;
  xScale?: AxisScale;
  yScale?: AxisScale;
  series: readonly Series[];
  /** Formats axis tick values and tooltip values. */
  formatX?: (v: number) => string;
  formatY?: (v: number) => string;
  /** Draw markers on every point (default true when a series has at most 60 points). */
  markers?: boolean;
  /** Start the y axis at zero on a linear scale (default true). */
  yFromZero?: boolean;
  /** Fixed x range on a linear scale (e.g. [0, 1] for fractions). */
  xDomain?: readonly [number, number];
  caption?: string;
}

/** A grouped bar chart: one group of bars per category. */
export interface BarPlotSpec {
  id: string;
  title: string;
  yLabel: string;
  categories: readonly string[];
  series: readonly { name: string; values: readonly number[] }[];
  formatY?: (v: number) => string;
  yMax?: number;
  caption?: string;
}

const WIDTH = 560;
const HEIGHT = 340;
const M = { left: 70, right: 16, top: 30, bottom: 46 };
const NINES_MAX = 4;

/** The palette (Tableau 10); series past it reuse colours with a dash pattern. */
export const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
const DASHES = ['', '6 3', '2 3', '8 3 2 3'];

/** Escapes text for HTML and SVG. */
export function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function fx(v: number): string {
  return (Math.round(v * 10) / 10).toFixed(1);
}

/** Default number format: up to 4 significant digits, SI suffixes for large values. */
export function formatNumber(v: number): string {
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1e9) return `${trim((v / 1e9).toPrecision(3))}G`;
  if (a >= 1e6) return `${trim((v / 1e6).toPrecision(3))}M`;
  if (a >= 1e4) return `${trim((v / 1e3).toPrecision(3))}k`;
  if (a >= 1) return trim(v.toPrecision(4));
  return trim(v.toPrecision(3));
}

function trim(s: string): string {
  return s.includes('.') && !s.includes('e') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

function transform(scale: AxisScale, v: number): number {
  if (scale === 'log') return Math.log10(v);
  if (scale === 'nines') return v >= 1 ? NINES_MAX : -Math.log10(1 - v);
  return v;
}

function valid(scale: AxisScale, v: number): boolean {
  if (!Number.isFinite(v)) return false;
  if (scale === 'log') return v > 0;
  if (scale === 'nines') return v >= 0 && v <= 1;
  return true;
}

interface Axis {
  min: number;
  max: number;
  ticks: { at: number; label: string }[];
}

function niceStep(span: number, count: number): number {
  const raw = span / Math.max(1, count);
  const p = 10 ** Math.floor(Math.log10(raw));
  const m = raw / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

function axisFor(scale: AxisScale, values: number[], fromZero: boolean, format: (v: number) => string): Axis {
  if (scale === 'nines') {
    const qs = [0.5, 0.9, 0.99, 0.999, 0.9999];
    return { min: 0, max: NINES_MAX, ticks: qs.map((q) => ({ at: transform('nines', q), label: String(q) })).concat([{ at: NINES_MAX, label: 'max' }]).filter((t, i, a) => i === a.length - 1 || t.at < NINES_MAX - 0.01) };
  }
  if (values.length === 0) values = scale === 'log' ? [1, 10] : [0, 1];
  if (scale === 'log') {
    let lo = Math.floor(Math.log10(Math.min(...values)));
    let hi = Math.ceil(Math.log10(Math.max(...values)));
    if (hi === lo) {
      lo -= 0;
      hi += 1;
    }
    const ticks: { at: number; label: string }[] = [];
    const decades = hi - lo;
    for (let e = lo; e <= hi; e++) {
      ticks.push({ at: e, label: format(10 ** e) });
      if (decades <= 2 && e < hi) for (const m of [2, 5]) ticks.push({ at: e + Math.log10(m), label: format(m * 10 ** e) });
    }
    return { min: lo, max: hi, ticks };
  }
  let lo = Math.min(...values);
  let hi = Math.max(...values);
  if (fromZero && lo > 0) lo = 0;
  if (hi === lo) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    if (!fromZero) lo -= pad;
    hi += pad;
  }
  const step = niceStep(hi - lo, 5);
  lo = Math.floor(lo / step) * step;
  hi = Math.ceil(hi / step) * step;
  const ticks: { at: number; label: string }[] = [];
  for (let i = 0, v = lo; v <= hi + step / 1e6 && i < 50; i++, v = lo + i * step) ticks.push({ at: v, label: format(Number(v.toPrecision(12))) });
  return { min: lo, max: hi, ticks };
}

function frame(id: string, title: string, body: string, caption: string | undefined, legend: string, kind: string): string {
  return (
    `<figure class="plot" id="${esc(id)}" data-kind="${kind}">` +
    `<svg class="plot-svg" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" role="img" aria-label="${esc(title)}" xmlns="http://www.w3.org/2000/svg">` +
    `<text class="title" x="${WIDTH / 2}" y="18" text-anchor="middle">${esc(title)}</text>${body}</svg>` +
    legend +
    (caption === undefined ? '' : `<figcaption>${esc(caption)}</figcaption>`) +
    `</figure>\n`
  );
}

function legendHtml(names: readonly string[]): string {
  if (names.length <= 1 && names[0] === '') return '';
  return (
    `<ul class="legend">` +
    names
      .map((name, i) => `<li data-series="${i}"><span class="swatch" style="background:${PALETTE[i % PALETTE.length]}"></span>${esc(name)}</li>`)
      .join('') +
    `</ul>`
  );
}

function axesSvg(x: Axis, y: Axis, px: (v: number) => number, py: (v: number) => number, xLabel: string, yLabel: string, xTicks = true): string {
  const x0 = M.left;
  const x1 = WIDTH - M.right;
  const y0 = HEIGHT - M.bottom;
  const y1 = M.top;
  let s = `<g class="axes"><rect class="plot-area" x="${x0}" y="${y1}" width="${x1 - x0}" height="${y0 - y1}"/>`;
  for (const t of y.ticks) {
    const yy = fx(py(t.at));
    s += `<line class="grid" x1="${x0}" x2="${x1}" y1="${yy}" y2="${yy}"/><text class="tick" x="${x0 - 6}" y="${yy}" dy="0.32em" text-anchor="end">${esc(t.label)}</text>`;
  }
  if (xTicks) {
    for (const t of x.ticks) {
      const xx = fx(px(t.at));
      s += `<line class="grid" x1="${xx}" x2="${xx}" y1="${y1}" y2="${y0}"/><text class="tick" x="${xx}" y="${y0 + 16}" text-anchor="middle">${esc(t.label)}</text>`;
    }
  }
  s += `<text class="axis-label" x="${(x0 + x1) / 2}" y="${HEIGHT - 8}" text-anchor="middle">${esc(xLabel)}</text>`;
  s += `<text class="axis-label" transform="translate(14 ${(y0 + y1) / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text></g>`;
  return s;
}

/** A line plot as a <figure> with an inline <svg> and a legend. */
export function linePlot(spec: LinePlotSpec): string {
  const xs = spec.xScale ?? 'linear';
  const ys = spec.yScale ?? 'linear';
  const formatX = spec.formatX ?? formatNumber;
  const formatY = spec.formatY ?? formatNumber;
  const series = spec.series.map((s) => {
    const keep: { x: number; y: number; label: string | undefined }[] = [];
    s.points.forEach(([x, y], i) => {
      if (valid(xs, x) && valid(ys, y)) keep.push({ x, y, label: s.pointLabels?.[i] });
    });
    return { name: s.name, points: keep };
  });
  const xValues = series.flatMap((s) => s.points.map((p) => p.x));
  const xAxis = axisFor(xs, spec.xDomain === undefined || xs !== 'linear' ? xValues : [...xValues, ...spec.xDomain], false, formatX);
  const yAxis = axisFor(ys, series.flatMap((s) => s.points.map((p) => p.y)), spec.yFromZero ?? true, formatY);
  const px = (v: number): number => M.left + ((v - xAxis.min) / (xAxis.max - xAxis.min)) * (WIDTH - M.left - M.right);
  const py = (v: number): number => HEIGHT - M.bottom - ((v - yAxis.min) / (yAxis.max - yAxis.min)) * (HEIGHT - M.top - M.bottom);
  let body = axesSvg(xAxis, yAxis, px, py, spec.xLabel, spec.yLabel);
  const markers = spec.markers ?? series.every((s) => s.points.length <= 60);
  series.forEach((s, i) => {
    if (s.points.length === 0) return;
    const color = PALETTE[i % PALETTE.length];
    const dash = DASHES[Math.floor(i / PALETTE.length) % DASHES.length];
    const d = s.points.map((p, k) => `${k === 0 ? 'M' : 'L'}${fx(px(transform(xs, p.x)))} ${fx(py(transform(ys, p.y)))}`).join('');
    body += `<g class="series" data-series="${i}" data-name="${esc(s.name)}"><path class="line" d="${d}" stroke="${color}"${dash === '' ? '' : ` stroke-dasharray="${dash}"`}/>`;
    if (markers) {
      for (const p of s.points) {
        const label = p.label ?? `${s.name}: ${formatX(p.x)}, ${formatY(p.y)}`;
        body += `<circle class="pt" cx="${fx(px(transform(xs, p.x)))}" cy="${fx(py(transform(ys, p.y)))}" r="3" fill="${color}"><title>${esc(label)}</title></circle>`;
      }
    }
    body += `</g>`;
  });
  if (series.every((s) => s.points.length === 0)) body += `<text class="empty" x="${WIDTH / 2}" y="${HEIGHT / 2}" text-anchor="middle">no data</text>`;
  return frame(spec.id, spec.title, body, spec.caption, legendHtml(series.map((s) => s.name)), 'line');
}

/** A grouped bar chart as a <figure>. */
export function barPlot(spec: BarPlotSpec): string {
  const formatY = spec.formatY ?? formatNumber;
  const values = spec.series.flatMap((s) => s.values.filter(Number.isFinite));
  const yAxis = axisFor('linear', spec.yMax === undefined ? values : [...values, spec.yMax], true, formatY);
  const py = (v: number): number => HEIGHT - M.bottom - ((v - yAxis.min) / (yAxis.max - yAxis.min)) * (HEIGHT - M.top - M.bottom);
  const plotW = WIDTH - M.left - M.right;
  const n = Math.max(1, spec.categories.length);
  const groupW = plotW / n;
  const barW = Math.max(1, (groupW * 0.8) / Math.max(1, spec.series.length));
  const xAxis: Axis = { min: 0, max: 1, ticks: [] };
  let body = axesSvg(xAxis, yAxis, () => 0, py, '', spec.yLabel, false);
  const rotate = n > 6;
  spec.categories.forEach((c, ci) => {
    const cx = M.left + groupW * (ci + 0.5);
    const label = rotate ? `<text class="tick" transform="translate(${fx(cx)} ${HEIGHT - M.bottom + 10}) rotate(20)" text-anchor="start">${esc(c.length > 16 ? `${c.slice(0, 15)}…` : c)}</text>` : `<text class="tick" x="${fx(cx)}" y="${HEIGHT - M.bottom + 16}" text-anchor="middle">${esc(c)}</text>`;
    body += label;
  });
  spec.series.forEach((s, si) => {
    const color = PALETTE[si % PALETTE.length];
    body += `<g class="series" data-series="${si}" data-name="${esc(s.name)}">`;
    s.values.forEach((v, ci) => {
      if (!Number.isFinite(v)) return;
      const x = M.left + groupW * ci + groupW * 0.1 + barW * si;
      const y = py(Math.max(0, v));
      body += `<path class="bar" d="M${fx(x)} ${fx(py(0))}V${fx(y)}H${fx(x + barW)}V${fx(py(0))}Z" fill="${color}"><title>${esc(`${spec.categories[ci]} — ${s.name}: ${formatY(v)}`)}</title></path>`;
    });
    body += `</g>`;
  });
  if (values.length === 0) body += `<text class="empty" x="${WIDTH / 2}" y="${HEIGHT / 2}" text-anchor="middle">no data</text>`;
  return frame(spec.id, spec.title, body, spec.caption, legendHtml(spec.series.map((s) => s.name)), 'bar');
}
