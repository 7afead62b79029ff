/**
 * The report's charts: Observable Plot rendered in Node against a linkedom document, returned as
 * inline SVG/HTML strings (no script needed to view them). Continuous colour legends are avoided:
 * Plot draws those on a <canvas>, which linkedom does not have; quantized/ordinal legends are SVG.
 */
import * as Plot from '@observablehq/plot';
import { parseHTML } from 'linkedom';
import type { PageMap, RunResult, TimelineSample } from '../model/result.js';
import type { LabelledRun, Sweep } from './input.js';

const WIDTH = 760;

export class ChartRenderer {
  private readonly document: unknown = parseHTML('<!doctype html><html><body></body></html>').document;

  /** One Plot figure as an HTML string. Plot's development warnings go to `warnings`, not stderr. */
  render(options: Plot.PlotOptions, warnings: string[]): string {
    const warn = console.warn;
    console.warn = (...args: unknown[]) => {
      warnings.push(args.map(String).join(' '));
    };
    try {
      const el = Plot.plot({ ...options, document: this.document } as Plot.PlotOptions) as unknown as { outerHTML: string };
      return el.outerHTML;
    } finally {
      console.warn = warn;
    }
  }
}

const grid = { grid: true } as const;

/** Fault latency CDF, one line per run, log-scaled microseconds. */
export function latencyCdfChart(c: ChartRenderer, runs: LabelledRun[], warnings: string[]): string | null {
  const data = runs.flatMap(({ label, run }) => run.latencyCdf.map(([us, f]) => ({ series: label, us: Math.max(us, 0.1), f })));
  if (!data.length) return null;
  return c.render(
    {
      width: WIDTH,
      height: 320,
      marginLeft: 50,
      x: { type: 'log', label: 'fault latency (µs) →', ...grid },
      y: { domain: [0, 1], label: '↑ fraction of faults resolved within', tickFormat: '%', ...grid },
      color: { legend: true, label: 'run', domain: runs.map((r) => r.label) },
      marks: [
        Plot.ruleY([0.5, 0.99], { stroke: '#bbb', strokeDasharray: '3,3' }),
        Plot.line(data, { x: 'us', y: 'f', stroke: 'series', z: 'series', curve: 'step-after', strokeWidth: 2 }),
        Plot.dot(data, { x: 'us', y: 'f', fill: 'series', r: 2.5 }),
      ],
    },
    warnings,
  );
}

/**
 * Rates from a cumulative counter, resampled on a regular grid (the timeline's sampling halves its
 * resolution on long runs, so raw differences would be uneven).
 */
export function rateSeries(tl: TimelineSample[], field: 'faults' | 'accesses', maxBins = 120): Array<{ tMs: number; perSec: number }> {
  if (!tl.length) return [];
  const pts = [{ t: 0, c: 0 }, ...tl.map((s) => ({ t: s.tMs, c: s[field] }))];
  const end = pts[pts.length - 1]!.t;
  if (end <= 0) return [];
  const bins = Math.max(1, Math.min(maxBins, tl.length));
  const at = (t: number): number => {
    let i = 1;
    while (i < pts.length - 1 && pts[i]!.t < t) i++;
    const a = pts[i - 1]!,
      b = pts[i]!;
    return b.t === a.t ? b.c : a.c + ((b.c - a.c) * (t - a.t)) / (b.t - a.t);
  };
  const out: Array<{ tMs: number; perSec: number }> = [];
  const w = end / bins;
  let prev = at(0);
  for (let k = 0; k < bins; k++) {
    const next = at((k + 1) * w);
    out.push({ tMs: k * w, perSec: Math.max(0, (next - prev) / (w / 1000)) });
    prev = next;
  }
  out.push({ tMs: end, perSec: out[out.length - 1]!.perSec });
  return out;
}

/** Faults resolved per second over the run. */
export function faultRateChart(c: ChartRenderer, runs: LabelledRun[], warnings: string[]): string | null {
  const data = runs.flatMap(({ label, run }) => rateSeries(run.timeline, 'faults').map((p) => ({ series: label, ...p })));
  if (!data.length) return null;
  return c.render(
    {
      width: WIDTH,
      height: 260,
      marginLeft: 60,
      x: { label: 'time since the vCPUs started (ms) →', ...grid },
      y: { label: '↑ faults / s', ...grid },
      color: { legend: true, label: 'run', domain: runs.map((r) => r.label) },
      marks: [Plot.ruleY([0]), Plot.line(data, { x: 'tMs', y: 'perSec', stroke: 'series', z: 'series', curve: 'step-after', strokeWidth: 1.5 })],
    },
    warnings,
  );
}

/** Guest progress: pages present and guest accesses completed, both as a share of the run's total. */
export function progressChart(c: ChartRenderer, runs: LabelledRun[], warnings: string[]): string | null {
  const present = runs.flatMap(({ label, run }) => [
    { series: label, tMs: 0, v: 0 },
    ...run.timeline.map((s) => ({ series: label, tMs: s.tMs, v: s.presentPages / run.pages })),
  ]);
  const accesses = runs.flatMap(({ label, run }) => {
    const total = run.timeline.length ? run.timeline[run.timeline.length - 1]!.accesses : 0;
    return total > 0 ? [{ series: label, tMs: 0, v: 0 }, ...run.timeline.map((s) => ({ series: label, tMs: s.tMs, v: s.accesses / total }))] : [];
  });
  if (present.length <= runs.length) return null;
  return c.render(
    {
      width: WIDTH,
      height: 280,
      marginLeft: 50,
      x: { label: 'time since the vCPUs started (ms) →', ...grid },
      y: { domain: [0, 1], label: '↑ share of the total', tickFormat: '%', ...grid },
      color: { legend: true, label: 'run', domain: runs.map((r) => r.label) },
      marks: [
        Plot.line(present, { x: 'tMs', y: 'v', stroke: 'series', z: 'series', strokeWidth: 2.5 }),
        Plot.line(accesses, { x: 'tMs', y: 'v', stroke: 'series', z: 'series', strokeWidth: 1.5, strokeDasharray: '5,3' }),
      ],
    },
    warnings,
  );
}

const MAX_MAP_CELLS = 2048;

/** Merges neighbouring cells so a map has at most MAX_MAP_CELLS cells (keeps the file small). */
export function coarsen(m: PageMap): { cells: number; pagesPerCell: number; arrivalMs: number[]; demand: number[] } {
  const k = Math.max(1, Math.ceil(m.cells / MAX_MAP_CELLS));
  if (k === 1) return m;
  const arrivalMs: number[] = [],
    demand: number[] = [];
  for (let c = 0; c < m.cells; c += k) {
    const n = Math.min(k, m.cells - c);
    let a = 0,
      d = 0;
    for (let j = 0; j < n; j++) {
      a += m.arrivalMs[c + j]!;
      d += m.demand[c + j]!;
    }
    arrivalMs.push(a / n);
    demand.push(d / n);
  }
  return { cells: arrivalMs.length, pagesPerCell: m.pagesPerCell * k, arrivalMs, demand };
}

export const HOW = ['present at start', 'pushed', 'some demand-fetched', 'most demand-fetched', 'all demand-fetched'] as const;
const HOW_COLORS = ['#c8c8c8', '#4269d0', '#f9b98f', '#f08a45', '#d9480f'];

/** How a cell's pages came: pushed in the background, or (some, most, all) fetched because a vCPU faulted. */
export function howOf(arrivalMs: number, demand: number, mode: string): (typeof HOW)[number] {
  if (mode === 'none' || arrivalMs === 0) return HOW[0];
  if (demand <= 0) return HOW[1];
  if (demand < 0.5) return HOW[2];
  if (demand < 1) return HOW[3];
  return HOW[4];
}

/** Two panels: when each cell's pages arrived, and how (demand-fetched vs pushed). */
export function memoryMapCharts(
  c: ChartRenderer,
  run: RunResult,
  warnings: string[],
): { when: string; how: string; pagesPerCell: number; cols: number } | null {
  if (!run.pageMap?.cells) return null;
  const m = coarsen(run.pageMap);
  const cols = Math.max(1, 2 ** Math.ceil(Math.log2(Math.sqrt(m.cells))));
  const rows = Math.ceil(m.cells / cols);
  const data = m.arrivalMs.map((ms, i) => ({ col: i % cols, row: Math.floor(i / cols), ms, how: howOf(ms, m.demand[i]!, run.mode) }));
  const px = Math.max(1, Math.floor(340 / cols)); // whole pixels per cell: no seams between cells
  const size = { width: cols * px + 2, height: rows * px + 2, margin: 1 };
  const axes = { x: { axis: null, padding: 0, domain: [...Array(cols).keys()] }, y: { axis: null, padding: 0, domain: [...Array(rows).keys()] } };
  const maxMs = Math.max(...m.arrivalMs, 0.1);
  const when = c.render(
    {
      ...size,
      ...axes,
      color: { type: 'quantize', n: 7, scheme: 'viridis', domain: [0, maxMs], legend: true, label: 'arrived at (ms after start)' },
      marks: [Plot.cell(data, { x: 'col', y: 'row', fill: 'ms', inset: 0, shapeRendering: 'crispEdges' })],
    },
    warnings,
  );
  const how = c.render(
    {
      ...size,
      ...axes,
      color: { type: 'ordinal', domain: [...HOW], range: HOW_COLORS, legend: true },
      marks: [Plot.cell(data, { x: 'col', y: 'row', fill: 'how', inset: 0, shapeRendering: 'crispEdges' })],
    },
    warnings,
  );
  return { when, how, pagesPerCell: m.pagesPerCell, cols };
}

const METRIC_LABELS: Record<string, string> = {
  faultsPerSec: 'faults resolved / s (all vCPUs)',
  pagesPerSec: 'pages / s',
  perVcpuPagesPerSec: 'pages / s (sum of per-vCPU rates)',
};

/** Throughput against the number of vCPUs, one line per series. */
export function throughputChart(c: ChartRenderer, sweep: Sweep, warnings: string[]): string | null {
  const pts = [...sweep.points].sort((a, b) => a.vcpus - b.vcpus);
  if (!pts.length) return null;
  const xs = [...new Set(pts.map((p) => p.vcpus))].sort((a, b) => a - b);
  const ys = pts.map((p) => p.value).filter((v) => v > 0);
  const logX = xs[xs.length - 1]! / xs[0]! >= 4;
  const logY = ys.length > 0 && Math.max(...ys) / Math.min(...ys) > 20;
  return c.render(
    {
      width: WIDTH,
      height: 340,
      marginLeft: 70,
      x: { type: logX ? 'log' : 'linear', base: 2, ticks: xs, tickFormat: (d: number) => String(d), label: 'vCPUs →', ...grid } as Plot.ScaleOptions,
      y: { type: logY ? 'log' : 'linear', label: `↑ ${METRIC_LABELS[sweep.metric] ?? sweep.metric}`, ...grid },
      color: { legend: true, label: 'series', domain: [...new Set(sweep.points.map((p) => p.series))] },
      marks: [
        Plot.line(pts, { x: 'vcpus', y: 'value', stroke: 'series', z: 'series', strokeWidth: 2 }),
        Plot.dot(pts, { x: 'vcpus', y: 'value', fill: 'series', r: 3.5 }),
      ],
    },
    warnings,
  );
}

const STATE_COLOURS = { active: '#4c9a5b', paused: '#d1495b', recover: '#edae49' } as const;

/**
 * Postcopy's run states over time, one band per run that had injections: active, paused (the link is
 * gone, faulting vCPUs stay blocked) and recover (reconnected, the received-page bitmap on its way);
 * each injection is a bar beneath the band spanning its duration, labelled with its spec.
 */
export function statusBandChart(c: ChartRenderer, runs: LabelledRun[], warnings: string[]): string | null {
  const withRecovery = runs.filter((r) => r.run.recovery);
  if (!withRecovery.length) return null;
  const spans: Array<{ series: string; x1: number; x2: number; state: string }> = [];
  const marks: Array<{ series: string; tMs: number; endMs: number; spec: string; row: number }> = [];
  for (const { label, run } of withRecovery) {
    const rec = run.recovery!;
    const endMs = Math.max(run.migrationMs, ...rec.timeline.map((t) => t.tMs), ...(rec.injections ?? []).map((i) => i.tMs + i.durationMs));
    let from = 0;
    let state = 'active';
    for (const t of rec.timeline) {
      if (t.tMs > from) spans.push({ series: label, x1: from, x2: t.tMs, state });
      from = t.tMs;
      state = t.state;
    }
    spans.push({ series: label, x1: from, x2: Math.max(endMs, from), state });
    (rec.injections ?? []).forEach((i, k) => {
      marks.push({ series: label, tMs: i.tMs, endMs: i.tMs + i.durationMs, spec: i.spec, row: k % 2 });
    });
  }
  return c.render(
    {
      width: WIDTH,
      height: 70 + 64 * withRecovery.length,
      marginLeft: 120,
      marginBottom: 36,
      x: { label: 'time since the migration started (ms) →', ...grid },
      y: { label: null, domain: withRecovery.map((r) => r.label) },
      color: { legend: true, domain: Object.keys(STATE_COLOURS), range: Object.values(STATE_COLOURS) },
      marks: [
        Plot.barX(spans, { x1: 'x1', x2: 'x2', y: 'series', fill: 'state', insetTop: 4, insetBottom: 14 }),
        Plot.link(marks, { x1: 'tMs', x2: 'endMs', y1: 'series', y2: 'series', stroke: '#222', strokeWidth: 3, dy: 10 }),
        // labels alternate above the band and below the duration bars so that neighbours do not overlap
        Plot.text(marks, { filter: (m: { row: number }) => m.row === 0, x: 'tMs', y: 'series', text: 'spec', dy: -23, textAnchor: 'start', fontSize: 10 }),
        Plot.text(marks, { filter: (m: { row: number }) => m.row === 1, x: 'tMs', y: 'series', text: 'spec', dy: 20, textAnchor: 'start', fontSize: 10 }),
      ],
    },
    warnings,
  );
}
