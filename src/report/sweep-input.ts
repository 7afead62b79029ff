/**
 * Sweep results (`postcopy-sim sweep` JSON Lines) for the report: every line checked against the
 * published result schema (src/sweep/schema.ts, docs/sweep-result.schema.json), then arranged for
 * plotting along any swept option:
 *
 *   x       the swept option on the x axis (default: the first swept option with numeric values)
 *   series  one line per value of this option (default: every other swept option, combined,
 *           except those zipped with x, which go along the x axis)
 *   metric  a number of the RunResult, by path (default faultsPerSec; e.g. faultLatencyUs.p99)
 *
 * Seeds are averaged (min and max kept for error bars); swept options that are neither x nor series
 * are averaged too, and the report says so. The CSV export is one row per cell.
 */
import { Errors } from '../errors.js';
import { formatZodError } from '../options.js';
import { RESULT_SCHEMA_NAME, SweepRecordSchema, type SweepRecord } from '../sweep/schema.js';

export interface SweepPlotOptions {
  x?: string;
  series?: string;
  metric?: string;
}

export interface SweepPlotPoint {
  /** Position on the x axis: the canonical option value (bytes, bit/s, us) or its label. */
  x: number | string;
  xLabel: string;
  series: string;
  /** Mean over seeds (and averaged options); min and max of the same values. */
  value: number;
  min: number;
  max: number;
  n: number;
}

export interface SweepPlot {
  name: string;
  id: string;
  records: SweepRecord[];
  /** Cells that failed (status error) or did not verify: left out of the plots. */
  failed: number;
  tornTail: boolean;
  /** Swept options with more than one value (seed not included). */
  axes: string[];
  seeds: number;
  x: string;
  xNumeric: boolean;
  /** The series option, or null when the series combine every other swept option. */
  series: string | null;
  seriesNames: string[];
  /** Options averaged over because they are neither x nor the series. */
  averaged: string[];
  /** Options that change together with x (zipped with it): shown with x, not as series. */
  tied: string[];
  metric: string;
  points: SweepPlotPoint[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** True when the text starts with a sweep result line (JSON Lines written by `postcopy-sim sweep`). */
export function looksLikeSweep(text: string): boolean {
  const first = text.slice(0, 4096).trimStart();
  return first.startsWith('{') && first.slice(0, 200).includes(`"schema":"${RESULT_SCHEMA_NAME}"`);
}

/** Parses and validates sweep JSON Lines. BAD_INPUT names the line and the field. */
export function readSweepLines(text: string): { records: SweepRecord[]; tornTail: boolean } {
  const lines = text.split('\n');
  // A last line without its newline is a line a running or killed sweep was still writing.
  const tornTail = !text.endsWith('\n') && lines[lines.length - 1]!.trim() !== '';
  if (tornTail) lines.pop();
  const records: SweepRecord[] = [];
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    let data: unknown;
    try {
      data = JSON.parse(line);
    } catch {
      throw Errors.badInput('', `line ${i + 1} is not JSON`);
    }
    const r = SweepRecordSchema.safeParse(data);
    if (!r.success) throw Errors.badInput('', `line ${i + 1} is not a valid sweep result (docs/sweep-result.schema.json): ${formatZodError(r.error)}`);
    records.push(r.data);
  });
  if (!records.length) throw Errors.badInput('', 'no sweep results in the file');
  const ids = new Set(records.map((r) => r.sweep.id));
  if (ids.size > 1) throw Errors.badInput('', `holds results of ${ids.size} different sweeps (${[...ids].join(', ')}): report one sweep per file`);
  return { records, tornTail };
}

/** The value at a dotted path (`faultLatencyUs.p99`) of a result. */
function at(result: unknown, path: string): unknown {
  let v: unknown = result;
  for (const k of path.split('.')) v = isObj(v) ? v[k] : undefined;
  return v;
}

/** A number in the result by dotted path, or undefined (booleans count as 0/1). */
export function metricValue(result: unknown, path: string): number | undefined {
  const v = at(result, path);
  return typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'boolean' ? Number(v) : undefined;
}

const label = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

export function sweepPlot(records: SweepRecord[], o: SweepPlotOptions = {}, tornTail = false): SweepPlot {
  const first = records[0]!;
  const okRecords = records.filter((r) => r.status === 'ok' && r.result?.verified === true);
  const swept = first.sweep.axes.filter((a) => a !== 'seed');
  const distinct = (a: string) => new Set(records.map((r) => JSON.stringify(r.options[a] ?? null))).size;
  const axes = swept.filter((a) => distinct(a) > 1);
  const pick = (flag: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    if (!swept.includes(v)) throw Errors.badInput(flag, `"${v}" is not swept in this file (swept: ${swept.join(', ') || 'nothing but seeds'})`);
    return v;
  };
  const numericAxis = (a: string) => records.every((r) => typeof r.options[a] === 'number');
  const x = pick('--x', o.x) ?? axes.find(numericAxis) ?? axes[0] ?? swept[0] ?? 'seed';
  const series = pick('--series', o.series) ?? null;
  if (series !== null && series === x) throw Errors.badInput('--series', `is the same option as --x (${x})`);
  const metric = o.metric ?? 'faultsPerSec';
  if (okRecords.length && okRecords.some((r) => metricValue(r.result, metric) === undefined)) {
    const numeric = Object.entries(okRecords[0]!.result!)
      .filter(([, v]) => typeof v === 'number')
      .map(([k]) => k);
    throw Errors.badInput('--metric', `"${metric}" is not a number in every result (try ${numeric.slice(0, 8).join(', ')}, faultLatencyUs.p99, ...)`);
  }
  // Options zipped with x (one value per x value, like memory with vcpus for a fixed slice per
  // vCPU) go along the x axis, not into the series: otherwise every series would be one point.
  const tiedToX = (a: string) => {
    const seen = new Map<string, string>();
    return records.every((r) => {
      const k = JSON.stringify(r.options[x] ?? null),
        v = JSON.stringify(r.options[a] ?? null);
      if (!seen.has(k)) seen.set(k, v);
      return seen.get(k) === v;
    });
  };
  const tied = axes.filter((a) => a !== x && a !== series && tiedToX(a));
  const others = axes.filter((a) => a !== x && a !== series && !tied.includes(a));
  const seriesOf = (r: SweepRecord) =>
    series !== null ? `${series}=${label(r.cell.params[series])}` : others.map((a) => `${a}=${label(r.cell.params[a])}`).join(' · ') || metric;
  const xNumeric = x !== 'seed' && numericAxis(x);
  const xOf = (r: SweepRecord): number | string => (x === 'seed' ? (r.options.seed as number) : xNumeric ? (r.options[x] as number) : label(r.cell.params[x]));

  // Group in cell order, so series and x values keep the sweep file's order.
  const groups = new Map<string, { x: number | string; xLabel: string; series: string; values: number[] }>();
  for (const r of [...okRecords].sort((a, b) => a.cell.index - b.cell.index)) {
    const key = JSON.stringify([seriesOf(r), xOf(r)]);
    let g = groups.get(key);
    if (!g) {
      g = { x: xOf(r), xLabel: label(x === 'seed' ? r.options.seed : r.cell.params[x]), series: seriesOf(r), values: [] };
      groups.set(key, g);
    }
    g.values.push(metricValue(r.result, metric)!);
  }
  const points = [...groups.values()].map((g) => ({
    x: g.x,
    xLabel: g.xLabel,
    series: g.series,
    n: g.values.length,
    value: g.values.reduce((a, b) => a + b, 0) / g.values.length,
    min: Math.min(...g.values),
    max: Math.max(...g.values),
  }));
  return {
    name: first.sweep.name,
    id: first.sweep.id,
    records,
    failed: records.length - okRecords.length,
    tornTail,
    axes,
    seeds: new Set(records.map((r) => r.options.seed)).size,
    x,
    xNumeric,
    series,
    seriesNames: [...new Set(points.map((p) => p.series))],
    averaged: series !== null ? others : [],
    tied,
    metric,
    points,
  };
}

/** Metrics in the CSV export (plus --metric when it is another). */
export const CSV_METRICS = [
  'faultsPerSec',
  'perVcpuPagesPerSec',
  'faultLatencyUs.p50',
  'faultLatencyUs.p99',
  'faultLatencyUs.max',
  'blocktimeMs',
  'migrationMs',
  'guestMs',
  'faults',
  'pagesDemand',
  'pagesPushed',
  'bytesOnWire',
  'verified',
];

const csvField = (v: unknown): string => {
  const s = v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/**
 * One row per cell, in cell order: the cell index, each swept option (its value as the run used
 * it: bytes, bit/s, us), the status, then the metrics.
 */
export function sweepCsv(records: SweepRecord[], metric?: string): string {
  const axes = records[0]!.sweep.axes;
  const metrics = metric && !CSV_METRICS.includes(metric) ? [...CSV_METRICS, metric] : CSV_METRICS;
  const rows = [['cell', ...axes, 'status', ...metrics].map(csvField).join(',')];
  for (const r of [...records].sort((a, b) => a.cell.index - b.cell.index)) {
    rows.push(
      [r.cell.index, ...axes.map((a) => r.options[a]), r.status, ...metrics.map((m) => (r.result ? at(r.result, m) : undefined))].map(csvField).join(','),
    );
  }
  return `${rows.join('\n')}\n`;
}
