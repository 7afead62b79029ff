/**
 * The report of a sweep: the metric against the x option with one line per series (seed spread as
 * error bars), a heatmap of x against the series when two or more options are swept, and the same
 * numbers as a table. Charts are Observable Plot rendered in Node (charts.ts's ChartRenderer); the
 * heatmap's colour legend is quantized, since Plot draws continuous legends on a canvas.
 */
import * as Plot from '@observablehq/plot';
import { ChartRenderer } from './charts.js';
import { esc, renderPage, section } from './index.js';
import { sweepPlot, type SweepPlot, type SweepPlotOptions, type SweepPlotPoint } from './sweep-input.js';
import type { SweepRecord } from '../sweep/schema.js';

export const SWEEP_SECTION_IDS = { table: 'sweep-table', lines: 'sweep-lines', heatmap: 'sweep-heatmap' } as const;

const WIDTH = 760;

/** 1,234,567 for large numbers, 3 significant digits for small ones. */
export function fmt(v: number): string {
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString('en-US');
  return v === 0 ? '0' : String(+v.toPrecision(3));
}

/** x positions in sweep order (numeric: ascending). */
function xDomain(p: SweepPlot): Array<number | string> {
  const xs = [...new Map(p.points.map((q) => [q.x, q.xLabel])).keys()];
  return p.xNumeric ? (xs as number[]).sort((a, b) => a - b) : xs;
}

const labelOfX = (p: SweepPlot) => new Map(p.points.map((q) => [q.x, q.xLabel]));

export function linesChart(c: ChartRenderer, p: SweepPlot, warnings: string[]): string | null {
  if (!p.points.length) return null;
  const domain = xDomain(p);
  const labels = labelOfX(p);
  const nums = domain as number[];
  const logX = p.xNumeric && nums[0]! > 0 && nums[nums.length - 1]! / nums[0]! >= 8;
  const ys = p.points.map((q) => q.value).filter((v) => v > 0);
  const logY = ys.length === p.points.length && Math.max(...ys) / Math.min(...ys) > 50;
  const x = p.xNumeric
    ? { type: logX ? 'log' : 'linear', ticks: domain, tickFormat: (d: number) => labels.get(d) ?? String(d), label: `${p.x} →`, grid: true }
    : { type: 'point', domain, label: `${p.x} →`, grid: true, padding: 0.3 };
  const spread = p.points.filter((q) => q.n > 1 && q.max > q.min);
  return c.render(
    {
      width: WIDTH,
      height: 340,
      marginLeft: 70,
      marginBottom: 40,
      x: x as Plot.ScaleOptions,
      y: { type: logY ? 'log' : 'linear', label: `↑ ${p.metric}`, grid: true, zero: !logY },
      color: { legend: p.seriesNames.length > 1, label: p.series ?? 'series', domain: p.seriesNames },
      marks: [
        Plot.ruleX(spread, { x: 'x', y1: 'min', y2: 'max', stroke: 'series', strokeOpacity: 0.6 }),
        Plot.line(p.points, { x: 'x', y: 'value', stroke: 'series', z: 'series', strokeWidth: 2, sort: p.xNumeric ? 'x' : undefined }),
        Plot.dot(p.points, {
          x: 'x',
          y: 'value',
          fill: 'series',
          r: 3.5,
          title: (q: SweepPlotPoint) => `${q.series}\n${p.x}=${q.xLabel}: ${fmt(q.value)}${q.n > 1 ? ` (mean of ${q.n}, ${fmt(q.min)}-${fmt(q.max)})` : ''}`,
        }),
      ],
    },
    warnings,
  );
}

/**
 * Seven colour steps over the values: equal steps, or equal ratios when they span more than 50x
 * (one large cell would otherwise leave every other cell the same dark colour). Stepped scales
 * only: Plot draws continuous legends on a canvas, which linkedom lacks. SI ticks (30k, 1.5M):
 * full numbers overlap on the legend.
 */
function colorScale(lo: number, hi: number, label: string): Plot.ScaleOptions {
  if (lo > 0 && hi / lo > 50) {
    const thresholds = [1, 2, 3, 4, 5, 6].map((i) => +(lo * (hi / lo) ** (i / 7)).toPrecision(2));
    return { type: 'threshold', domain: thresholds, scheme: 'viridis', legend: true, label: `${label} (steps of equal ratio)`, tickFormat: '~s' };
  }
  return { type: 'quantize', n: 7, scheme: 'viridis', domain: [lo, hi === lo ? lo + 1 : hi], legend: true, label, tickFormat: '~s' };
}

export function heatmapChart(c: ChartRenderer, p: SweepPlot, warnings: string[]): string | null {
  if (p.seriesNames.length < 2 || !p.points.length) return null;
  const labels = labelOfX(p);
  const xLabels = xDomain(p).map((x) => labels.get(x)!);
  const longest = Math.max(...p.seriesNames.map((s) => s.length));
  const marginLeft = Math.min(320, 20 + longest * 6.5);
  const cellW = Math.max(36, Math.min(110, (WIDTH - marginLeft) / xLabels.length));
  const values = p.points.map((q) => q.value);
  const lo = Math.min(...values),
    hi = Math.max(...values);
  // Dark text on the yellow-green top of viridis, white below.
  const logScale = lo > 0 && hi / lo > 50;
  const bright = (v: number) => (logScale ? Math.log(v / lo) > Math.log(hi / lo) * 0.55 : v > lo + (hi - lo) * 0.55);
  return c.render(
    {
      width: Math.round(marginLeft + cellW * xLabels.length + 20),
      height: 70 + 30 * p.seriesNames.length,
      marginLeft,
      marginBottom: 40,
      x: { domain: xLabels, label: `${p.x} →`, padding: 0.04 },
      y: { domain: p.seriesNames, label: p.series ?? null, padding: 0.04 },
      color: colorScale(lo, hi, p.metric),
      marks: [
        Plot.cell(p.points, { x: 'xLabel', y: 'series', fill: 'value', inset: 0.5 }),
        Plot.text(p.points, {
          x: 'xLabel',
          y: 'series',
          text: (q: SweepPlotPoint) => fmt(q.value),
          fill: (q: SweepPlotPoint) => (bright(q.value) ? 'black' : 'white'),
          fontSize: 10,
        }),
      ],
    },
    warnings,
  );
}

function table(p: SweepPlot): string {
  const labels = labelOfX(p);
  const domain = xDomain(p);
  const head = `<tr><th>${esc(p.x)} →</th>${domain.map((x) => `<th>${esc(labels.get(x)!)}</th>`).join('')}</tr>`;
  const body = p.seriesNames
    .map((s) => {
      const cells = domain.map((x) => {
        const q = p.points.find((r) => r.series === s && r.x === x);
        return `<td>${q ? esc(fmt(q.value)) : '-'}</td>`;
      });
      return `<tr><th>${esc(s)}</th>${cells.join('')}</tr>`;
    })
    .join('\n');
  return `<table class="numbers">${head}\n${body}</table>`;
}

/** The HTML report of one sweep's records. */
export function renderSweepReport(records: SweepRecord[], o: SweepPlotOptions = {}, tornTail = false): string {
  const p = sweepPlot(records, o, tornTail);
  const c = new ChartRenderer();
  const warnings: string[] = [];
  const first = records[0]!;
  const hosts = new Set(records.map((r) => r.run.host.hostname));
  const commit = first.tool.commit ? `${first.tool.commit.slice(0, 12)}${first.tool.dirty ? ' (uncommitted changes)' : ''}` : 'unknown';
  const meta = [
    ['sweep', `${p.name} (id ${p.id})`],
    ['cells', `${records.length} of ${first.sweep.cells}`],
    ['seeds', String(p.seeds)],
    ['postcopy-sim', `${first.tool.version}, commit ${commit}`],
    ['hosts', [...hosts].slice(0, 4).join(', ') + (hosts.size > 4 ? ', ...' : '')],
  ]
    .map(([k, v]) => `<b>${esc(k!)}</b> ${esc(v!)}`)
    .join(' · ');
  const notes: string[] = [];
  if (records.length < first.sweep.cells)
    notes.push(`${first.sweep.cells - records.length} of the sweep's ${first.sweep.cells} cells are not in this file (a shard, or a sweep still running).`);
  if (p.failed) notes.push(`${p.failed} cells failed or did not verify and are left out (their lines say why).`);
  if (p.tornTail) notes.push('The last line was cut off (a sweep still writing, or killed): it is left out.');
  if (p.seeds > 1) notes.push(`Each point is the mean over ${p.seeds} seeds; bars span the lowest to the highest.`);
  if (p.averaged.length) notes.push(`Averaged over ${p.averaged.join(', ')} (choose with --x and --series).`);
  if (p.tied.length)
    notes.push(
      `${p.tied.join(', ')} change${p.tied.length > 1 ? '' : 's'} together with ${p.x} (zipped), so ${p.tied.length > 1 ? 'they are' : 'it is'} not a series.`,
    );
  const parts = [
    section(
      SWEEP_SECTION_IDS.lines,
      `${p.metric} by ${p.x}`,
      `One line per ${p.series ? `value of ${esc(p.series)}` : 'combination of the other swept options'}. Choose the axes with --x, --series and --metric.`,
      linesChart(c, p, warnings) ?? '<p>No cell finished ok: nothing to plot.</p>',
    ),
  ];
  const heat = heatmapChart(c, p, warnings);
  parts.push(
    section(
      SWEEP_SECTION_IDS.heatmap,
      `${p.metric}: ${p.x} against ${p.series ?? 'the other swept options'}`,
      'The same numbers as a heatmap: one row per series, one column per value on the x axis.',
      heat ?? '<p>A heatmap needs two swept options (besides the seed).</p>',
    ),
  );
  parts.push(
    section(
      SWEEP_SECTION_IDS.table,
      'The numbers',
      `${esc(p.metric)}, ${p.seeds > 1 ? 'mean over seeds' : 'one run each'}. Export every cell with --format csv.`,
      `${table(p)}${notes.length ? `<ul class="notes">${notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : ''}`,
    ),
  );
  return renderPage(`sweep: ${p.name}`, meta, parts);
}
