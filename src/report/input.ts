/**
 * What `postcopy-sim report` accepts, checked and normalised into one model:
 *
 *   - one RunResult (`run --json`),
 *   - an array of RunResults (`start --json`, `compare --json`; each may carry `strategy`),
 *   - an object holding such an array somewhere (a wrapper, a bench envelope with runs inside),
 *   - a bench results file (bench/results/*.json) whose rows carry one cell per vCPU count.
 *
 * The bench files are read generically: any array of rows whose cells are keyed by (or carry) a vCPU
 * count becomes a "throughput vs vCPUs" sweep, so the report does not break when a scenario adds a
 * column. Anything else is a BAD_INPUT SimError with one line naming the problem and where it is.
 */
import { Errors } from '../errors.js';
import type { RunResult } from '../model/result.js';

export interface LabelledRun {
  label: string;
  run: RunResult;
}
export interface SweepPoint {
  series: string;
  vcpus: number;
  value: number;
}
export interface Sweep {
  /** The measured quantity, e.g. `faultsPerSec` or a bench column name. */
  metric: string;
  points: SweepPoint[];
  from: 'runs' | 'bench';
}
export interface ReportModel {
  title: string;
  runs: LabelledRun[];
  sweep: Sweep | null;
  /** Facts shown under the title (bench scenario, date, machine, commit). */
  meta: Array<[string, string]>;
  /** Lines worth reading next to the numbers (bench notes). */
  notes: string[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

const bad = (where: string, why: string) => Errors.badInput('', where ? `${where}: ${why}` : why);

/** Looks like a RunResult (it may still be broken: checkRun says where). */
function looksLikeRun(v: unknown): v is Obj {
  return isObj(v) && (v.engine === 'threads' || ('latencyCdf' in v && 'timeline' in v && 'mode' in v));
}

function need(o: Obj, at: string, key: string, kind: 'number' | 'string' | 'array' | 'object'): void {
  const v = o[key];
  const ok = kind === 'number' ? isNum(v) : kind === 'string' ? typeof v === 'string' : kind === 'array' ? Array.isArray(v) : isObj(v);
  if (v === undefined) throw bad(at, `"${key}" is missing (not a complete postcopy-sim run result)`);
  if (!ok) throw bad(`${at}.${key}`, `expected ${kind === 'array' || kind === 'object' ? `an ${kind}` : `a ${kind}`}, got ${JSON.stringify(v)?.slice(0, 40)}`);
}

/** Checks every field the report reads, naming the first bad one. */
export function checkRun(v: unknown, at: string): RunResult {
  if (!isObj(v)) throw bad(at, 'expected a run result object');
  for (const k of ['mode', 'strategy', 'workload'] as const) need(v, at, k, 'string');
  for (const k of [
    'vcpus',
    'pages',
    'pageSize',
    'memoryBytes',
    'accesses',
    'faults',
    'faultsPerSec',
    'blocktimeMs',
    'migrationMs',
    'pagesDemand',
    'pagesPushed',
    'bytesOnWire',
    'latencyUs',
  ] as const)
    need(v, at, k, 'number');
  need(v, at, 'faultLatencyUs', 'object');
  const lat = v.faultLatencyUs as Obj;
  for (const k of ['p50', 'p90', 'p99', 'max']) need(lat, `${at}.faultLatencyUs`, k, 'number');
  need(v, at, 'latencyCdf', 'array');
  (v.latencyCdf as unknown[]).forEach((p, i) => {
    if (!Array.isArray(p) || p.length !== 2 || !isNum(p[0]) || !isNum(p[1])) throw bad(`${at}.latencyCdf[${i}]`, 'expected a [microseconds, fraction] pair');
  });
  need(v, at, 'timeline', 'array');
  (v.timeline as unknown[]).forEach((s, i) => {
    if (!isObj(s)) throw bad(`${at}.timeline[${i}]`, 'expected a sample object');
    for (const k of ['tMs', 'accesses', 'faults', 'presentPages']) need(s, `${at}.timeline[${i}]`, k, 'number');
  });
  if (v.pageMap !== null && v.pageMap !== undefined) {
    need(v, at, 'pageMap', 'object');
    const m = v.pageMap as Obj;
    for (const k of ['cells', 'pagesPerCell']) need(m, `${at}.pageMap`, k, 'number');
    for (const k of ['arrivalMs', 'demand']) {
      need(m, `${at}.pageMap`, k, 'array');
      const a = m[k] as unknown[];
      if (a.length !== m.cells) throw bad(`${at}.pageMap.${k}`, `has ${a.length} entries for ${m.cells as number} cells`);
      const j = a.findIndex((x) => !isNum(x));
      if (j >= 0) throw bad(`${at}.pageMap.${k}[${j}]`, 'expected a number');
    }
  }
  return v as unknown as RunResult;
}

/** Short labels that tell runs apart: only the settings that differ between them. */
export function labelRuns(runs: RunResult[]): LabelledRun[] {
  const parts: Array<[string, (r: RunResult) => string]> = [
    ['mode', (r) => r.mode],
    ['strategy', (r) => r.strategy],
    ['vcpus', (r) => `${r.vcpus} vCPU${r.vcpus > 1 ? 's' : ''}`],
    ['workload', (r) => r.workload],
    ['handlers', (r) => (r.mode === 'uffd' ? `${r.handlers} handler${r.handlers > 1 ? 's' : ''}` : '')],
    ['memory', (r) => `${Math.round(r.memoryBytes / 2 ** 20)} MiB`],
    ['link', (r) => `${r.bandwidthBps === null ? 'unlimited' : `${+(r.bandwidthBps / 1e9).toFixed(2)} Gbit`}/${r.latencyUs} us`],
  ];
  const varying = parts.filter(([, f]) => new Set(runs.map(f)).size > 1);
  const used = varying.length ? varying : parts.slice(0, 2);
  const labels = runs.map((r) =>
    used
      .map(([, f]) => f(r))
      .filter(Boolean)
      .join(' · '),
  );
  // Identical settings (repeats): number them so every series stays distinct.
  const seen = new Map<string, number>();
  const dup = new Set(labels.filter((l, i) => labels.indexOf(l) !== i));
  return runs.map((run, i) => {
    let label = labels[i]!;
    if (dup.has(label)) {
      const n = (seen.get(label) ?? 0) + 1;
      seen.set(label, n);
      label = `${label} #${n}`;
    }
    return { label, run };
  });
}

/** Runs of the same mode/strategy/... at two or more vCPU counts: throughput (faults/s) vs vCPUs. */
function sweepOfRuns(runs: RunResult[]): Sweep | null {
  const key = (r: RunResult) =>
    [r.mode, r.strategy, r.workload, r.handlers === r.vcpus ? 'per-vcpu' : r.handlers, r.memoryBytes, r.bandwidthBps, r.latencyUs].join('|');
  const groups = new Map<string, RunResult[]>();
  for (const r of runs) groups.set(key(r), [...(groups.get(key(r)) ?? []), r]);
  const swept = [...groups.values()].filter((g) => new Set(g.map((r) => r.vcpus)).size > 1);
  if (!swept.length) return null;
  const labelled = labelRuns(swept.map((g) => g[0]!)).map((l) => l.label.replace(/ · \d+ vCPUs?/, '').replace(/^\d+ vCPUs? · /, ''));
  const points: SweepPoint[] = [];
  swept.forEach((g, i) => {
    for (const r of g) points.push({ series: swept.length > 1 ? labelled[i]! : g[0]!.mode, vcpus: r.vcpus, value: r.faultsPerSec });
  });
  return { metric: 'faultsPerSec', points, from: 'runs' };
}

// ---- bench files: generic vCPU sweeps ------------------------------------------------------------

const VCPU_KEY = /^(n_?)?vcpus?$|^vcpu_?count$|^num_?vcpus$/i;
const LABEL_KEYS = ['label', 'name', 'series', 'column', 'config', 'variant', 'what', 'kind', 'mode', 'strategy', 'engine', 'source'];
const METRIC_PRIORITY = [
  'pagesPerSec',
  'faultsPerSec',
  'pagesPerSecond',
  'throughput',
  'pagingRate',
  'rate',
  'kPagesPerSec',
  'perVcpuPagesPerSec',
  'median',
  'mean',
  'p50',
  'value',
];
const METRIC_LIKE = /per_?s(ec(ond)?)?$|rate|throughput/i;

function labelOf(row: Obj, fallback: string): string {
  for (const k of LABEL_KEYS.slice(0, 7)) if (typeof row[k] === 'string' && row[k]) return row[k] as string;
  const parts = LABEL_KEYS.slice(7)
    .concat(['mode', 'strategy'])
    .filter((k, i, a) => a.indexOf(k) === i && typeof row[k] === 'string')
    .map((k) => row[k] as string);
  return parts.length ? parts.join(' · ') : fallback;
}

/** The throughput of one cell: a number, a RunResult, or an object with a rate-like field. */
function metricOf(cell: unknown): { metric: string; value: number } | null {
  if (isNum(cell)) return { metric: 'value', value: cell };
  if (!isObj(cell)) return null;
  if (looksLikeRun(cell) && isNum(cell.faultsPerSec)) return { metric: 'faultsPerSec', value: cell.faultsPerSec };
  for (const k of METRIC_PRIORITY) if (isNum(cell[k])) return { metric: k, value: cell[k] as number };
  for (const [k, v] of Object.entries(cell)) if (METRIC_LIKE.test(k) && !VCPU_KEY.test(k) && isNum(v)) return { metric: k, value: v };
  for (const v of Object.values(cell)) if (looksLikeRun(v) && isNum(v.faultsPerSec)) return { metric: 'faultsPerSec', value: v.faultsPerSec };
  return null;
}

function vcpusOf(o: Obj): number | null {
  for (const [k, v] of Object.entries(o)) if (VCPU_KEY.test(k) && isNum(v) && Number.isInteger(v) && v > 0) return v;
  if (looksLikeRun(o) && isNum(o.vcpus)) return o.vcpus;
  return null;
}

interface Candidate {
  metric: string;
  points: SweepPoint[];
}

/** Points of one row's `cells` (an object keyed by vCPU count, or an array of cells). */
function cellsPoints(cells: unknown, series: string, header: number[] | null): Candidate | null {
  const pts: SweepPoint[] = [];
  const metrics = new Map<string, number>();
  const add = (vcpus: number, cell: unknown) => {
    const m = metricOf(cell);
    if (!m) return;
    metrics.set(m.metric, (metrics.get(m.metric) ?? 0) + 1);
    pts.push({ series, vcpus, value: m.value });
  };
  if (isObj(cells)) {
    const keys = Object.keys(cells);
    if (!keys.length || !keys.every((k) => /^\d+$/.test(k))) return null;
    for (const k of keys) add(Number(k), cells[k]);
  } else if (Array.isArray(cells)) {
    cells.forEach((c, i) => {
      const v = isObj(c) ? vcpusOf(c) : null;
      const n = v ?? header?.[i] ?? null;
      if (n !== null) add(n, c);
    });
  } else return null;
  if (!pts.length) return null;
  const metric = [...metrics.entries()].sort((a, b) => b[1] - a[1])[0]![0];
  return { metric, points: pts };
}

function headerOf(o: Obj, len: number): number[] | null {
  for (const [k, v] of Object.entries(o)) {
    if (/vcpu/i.test(k) && Array.isArray(v) && v.length === len && v.every((x) => isNum(x) && Number.isInteger(x) && x > 0)) return v as number[];
  }
  return null;
}

/** Finds the largest vCPU sweep anywhere in a bench file. */
export function findSweep(root: unknown): Sweep | null {
  const found: Candidate[] = [];
  const visit = (node: unknown, parent: Obj | null, depth: number, name: string) => {
    if (depth > 6) return;
    if (Array.isArray(node)) {
      const rows = node.filter(isObj);
      if (rows.length && !rows.every((r) => looksLikeRun(r))) {
        // Flat rows: each row is one (series, vCPUs) cell.
        const flat: SweepPoint[] = [];
        const metrics = new Map<string, number>();
        for (const row of rows) {
          const v = vcpusOf(row);
          const m = metricOf(Object.fromEntries(Object.entries(row).filter(([k]) => !VCPU_KEY.test(k))));
          if (v !== null && m) {
            flat.push({ series: labelOf(row, name || 'rate'), vcpus: v, value: m.value });
            metrics.set(m.metric, (metrics.get(m.metric) ?? 0) + 1);
          }
        }
        if (new Set(flat.map((p) => p.vcpus)).size > 1) found.push({ metric: [...metrics.entries()].sort((a, b) => b[1] - a[1])[0]![0], points: flat });
        // Rows with per-vCPU cells.
        const withCells: Candidate[] = [];
        rows.forEach((row, i) => {
          const cells = row.cells ?? row.byVcpus ?? row.perVcpus;
          if (cells === undefined) return;
          const header = Array.isArray(cells) ? (headerOf(row, cells.length) ?? (parent ? headerOf(parent, cells.length) : null)) : null;
          const c = cellsPoints(cells, labelOf(row, `row ${i + 1}`), header);
          if (c) withCells.push(c);
        });
        if (withCells.length) {
          const metric = withCells[0]!.metric;
          const points = withCells.filter((c) => c.metric === metric).flatMap((c) => c.points);
          if (new Set(points.map((p) => p.vcpus)).size > 1) found.push({ metric, points });
        }
      }
      for (const x of node) visit(x, parent, depth + 1, name);
    } else if (isObj(node)) {
      if (looksLikeRun(node)) return;
      for (const [k, v] of Object.entries(node)) if (typeof v === 'object' && v !== null) visit(v, node, depth + 1, k);
    }
  };
  visit(root, null, 0, '');
  if (!found.length) return null;
  found.sort((a, b) => b.points.length - a.points.length);
  const best = found[0]!;
  return { metric: best.metric, points: best.points, from: 'bench' };
}

/** Every array of RunResults in a wrapper object (depth-limited), concatenated. */
function nestedRuns(root: Obj): Array<{ at: string; run: unknown }> {
  const out: Array<{ at: string; run: unknown }> = [];
  const visit = (node: unknown, at: string, depth: number) => {
    if (depth > 4) return;
    if (Array.isArray(node)) {
      if (node.length && node.every(looksLikeRun)) {
        node.forEach((r, i) => {
          out.push({ at: `${at}[${i}]`, run: r });
        });
        return;
      }
      node.forEach((x, i) => {
        visit(x, `${at}[${i}]`, depth + 1);
      });
    } else if (isObj(node)) {
      if (looksLikeRun(node)) {
        out.push({ at, run: node });
        return;
      }
      for (const [k, v] of Object.entries(node)) if (typeof v === 'object' && v !== null) visit(v, at ? `${at}.${k}` : k, depth + 1);
    }
  };
  visit(root, '', 0);
  return out;
}

function benchMeta(o: Obj): { title: string | null; meta: Array<[string, string]>; notes: string[] } {
  const meta: Array<[string, string]> = [];
  const str = (v: unknown) => (typeof v === 'string' || isNum(v) || typeof v === 'boolean' ? String(v) : null);
  if (str(o.scenario)) meta.push(['scenario', str(o.scenario)!]);
  if (str(o.date)) meta.push(['date', str(o.date)!]);
  if (isObj(o.machine)) {
    const m = o.machine;
    const parts = [str(m.cpuModel), isNum(m.cores) ? `${m.cores} cores` : null, str(m.node), str(m.kernel)].filter(Boolean);
    if (parts.length) meta.push(['machine', parts.join(', ')]);
    if (str(m.commit)) meta.push(['commit', `${m.commit as string}${m.dirty === true ? ' (uncommitted changes)' : ''}`]);
  }
  if (str(o.seed)) meta.push(['seed', str(o.seed)!]);
  const notes = Array.isArray(o.notes) ? o.notes.filter((n): n is string => typeof n === 'string') : [];
  return { title: str(o.scenario) ? `bench: ${str(o.scenario)}` : null, meta, notes };
}

/** Checks and normalises whatever a user saved. Throws BAD_INPUT with one line on anything else. */
export function readReportInput(input: unknown): ReportModel {
  if (Array.isArray(input)) {
    if (!input.length) throw bad('', 'the input is an empty array: no run results to report');
    const runs = input.map((r, i) => {
      if (!looksLikeRun(r)) throw bad(`[${i}]`, 'not a postcopy-sim run result (expected the --json output of run, start or compare)');
      return checkRun(r, `[${i}]`);
    });
    return { title: runs.length > 1 ? 'postcopy-sim: comparison' : 'postcopy-sim: run', runs: labelRuns(runs), sweep: sweepOfRuns(runs), meta: [], notes: [] };
  }
  if (!isObj(input)) throw bad('', `expected a JSON object or array of run results, got ${input === null ? 'null' : typeof input}`);
  if (looksLikeRun(input) || ('mode' in input && 'faults' in input)) {
    const run = checkRun(input, 'result');
    return { title: 'postcopy-sim: run', runs: labelRuns([run]), sweep: null, meta: [], notes: [] };
  }
  const { title, meta, notes } = benchMeta(input);
  const nested = nestedRuns(input).map(({ at, run }) => checkRun(run, at));
  const sweep = findSweep(input) ?? (nested.length ? sweepOfRuns(nested) : null);
  if (!nested.length && !sweep) {
    throw bad('', 'no run results and no vCPU sweep found (expected the --json output of run, start or compare, or a bench results file)');
  }
  return { title: title ?? 'postcopy-sim: results', runs: labelRuns(nested), sweep, meta, notes };
}
