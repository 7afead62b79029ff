/**
 * `renderReport(input)`: one self-contained HTML file from saved results. Every chart is inline SVG
 * rendered here in Node (Observable Plot + linkedom); the page has no script, no external reference
 * and opens offline. Sections carry stable ids (SECTION_IDS) so tests and links can find them.
 */
import { formatBytes, formatRate } from '../units.js';
import type { RunResult } from '../model/result.js';
import { ChartRenderer, faultRateChart, statusBandChart, latencyCdfChart, memoryMapCharts, progressChart, throughputChart } from './charts.js';
import { readReportInput, type LabelledRun, type ReportModel, type Sweep } from './input.js';

export { readReportInput, type ReportModel } from './input.js';

export const SECTION_IDS = {
  summary: 'summary',
  latencyCdf: 'latency-cdf',
  faultRate: 'fault-rate',
  progress: 'progress',
  memoryMap: 'memory-map',
  throughput: 'throughput-vcpus',
  recovery: 'recovery',
} as const;

/** Memory maps are drawn for at most this many runs (each is two 2048-cell panels). */
const MAX_MAPS = 6;

export const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const int = (x: number) => Math.round(x).toLocaleString('en-US');
const us = (x: number) => (x >= 1000 ? `${(x / 1000).toFixed(2)} ms` : `${x.toFixed(1)} µs`);

const HEADLINES: Array<[string, (r: RunResult) => string]> = [
  ['mode', (r) => (r.mode === 'uffd' ? `uffd (${r.uffdQueues > 1 ? `${r.uffdQueues} queues` : `${r.handlers} handler${r.handlers > 1 ? 's' : ''}`})` : r.mode)],
  ['strategy', (r) => r.strategy],
  ['vCPUs', (r) => String(r.vcpus)],
  ['guest', (r) => `${formatBytes(r.memoryBytes)}, ${formatBytes(r.pageSize)} pages`],
  ['workload', (r) => `${r.workload}${r.partition ? ' (partitioned)' : ''}`],
  ['link', (r) => `${formatRate(r.bandwidthBps ?? Infinity)}, ${r.latencyUs} µs`],
  ['faults', (r) => int(r.faults)],
  ['faults / s', (r) => int(r.faultsPerSec)],
  ['fault latency p50 / p99', (r) => `${us(r.faultLatencyUs.p50)} / ${us(r.faultLatencyUs.p99)}`],
  ['fault latency max', (r) => us(r.faultLatencyUs.max)],
  ['blocktime (all vCPUs)', (r) => `${r.blocktimeMs.toFixed(1)} ms`],
  ['migration time', (r) => `${r.migrationMs.toFixed(1)} ms`],
  ['pages demand / pushed', (r) => `${int(r.pagesDemand)} / ${int(r.pagesPushed)}`],
  ['bytes on wire', (r) => formatBytes(r.bytesOnWire)],
  ['verified', (r) => (r.verified === false ? 'NO' : 'yes')],
];

/** Rows shown only when some run has them (strategy-specific counters, compare's degradation). */
const OPTIONAL: Array<[string, (r: RunResult) => string | null]> = [
  ['guest slowdown (degradation)', (r) => (typeof r.degradation === 'number' ? `${Math.round(r.degradation * 100)}%` : null)],
  ['precopy / downtime', (r) => (r.precopyMs > 0 ? `${r.precopyMs.toFixed(1)} ms / ${r.downtimeMs.toFixed(1)} ms` : null)],
  ['pages prefetched', (r) => (r.pagesPrefetched > 0 ? int(r.pagesPrefetched) : null)],
  ['pages on the urgent channel', (r) => (r.pagesUrgent > 0 ? int(r.pagesUrgent) : null)],
];

function runsTable(runs: LabelledRun[]): string {
  const rows: Array<[string, (r: RunResult) => string]> = [...HEADLINES];
  for (const [name, f] of OPTIONAL) if (runs.some((r) => f(r.run) !== null)) rows.push([name, (r) => f(r) ?? '-']);
  const head = `<tr><th></th>${runs.map((r) => `<th>${esc(r.label)}</th>`).join('')}</tr>`;
  const body = rows.map(([name, f]) => `<tr><th>${esc(name)}</th>${runs.map((r) => `<td>${esc(f(r.run))}</td>`).join('')}</tr>`).join('\n');
  return `<table class="numbers">${head}\n${body}</table>`;
}

function recoveryTable(runs: LabelledRun[]): string {
  const rows: Array<[string, (r: NonNullable<RunResult['recovery']>) => string]> = [
    ['injections', (x) => (x.injections ?? []).map((i) => i.spec).join(', ') || '-'],
    ['paused', (x) => `${x.pausedMs.toFixed(1)} ms`],
    ['time to recover', (x) => `${x.recoverMs.toFixed(1)} ms`],
    ['frames lost in flight', (x) => int(x.framesLost)],
    ['pages resent / requests re-sent', (x) => `${int(x.pagesResent)} / ${int(x.requestsResent)}`],
    ['blocktime while paused', (x) => `${x.blocktimePausedMs.toFixed(1)} ms`],
  ];
  const head = `<tr><th></th>${runs.map((r) => `<th>${esc(r.label)}</th>`).join('')}</tr>`;
  const body = rows.map(([name, f]) => `<tr><th>${esc(name)}</th>${runs.map((r) => `<td>${esc(f(r.run.recovery!))}</td>`).join('')}</tr>`).join('\n');
  return `<table class="numbers">${head}\n${body}</table>`;
}

function sweepTable(s: Sweep): string {
  const xs = [...new Set(s.points.map((p) => p.vcpus))].sort((a, b) => a - b);
  const series = [...new Set(s.points.map((p) => p.series))];
  const head = `<tr><th>vCPUs</th>${xs.map((x) => `<th>${x}</th>`).join('')}</tr>`;
  const body = series
    .map((name) => {
      const cells = xs.map((x) => {
        const p = s.points.find((q) => q.series === name && q.vcpus === x);
        return `<td>${p ? esc(int(p.value)) : '-'}</td>`;
      });
      return `<tr><th>${esc(name)}</th>${cells.join('')}</tr>`;
    })
    .join('\n');
  return `<table class="numbers">${head}\n${body}</table>`;
}

export function section(id: string, title: string, explain: string, body: string): string {
  return `<section id="${id}"><h2>${esc(title)}</h2><p class="explain">${explain}</p>\n${body}\n</section>`;
}

const CSS = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; color: #1d1d1f; margin: 0; background: #f6f6f4; }
main { max-width: 820px; margin: 0 auto; padding: 24px 28px 60px; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 30px 0 4px; border-top: 1px solid #e4e4e0; padding-top: 18px; }
h3 { font-size: 14px; margin: 14px 0 4px; }
.meta { color: #555; margin: 0 0 6px; font-size: 13px; } .meta b { font-weight: 600; color: #333; }
.explain { color: #555; margin: 0 0 10px; font-size: 13px; }
.notes { font-size: 12.5px; color: #555; padding-left: 18px; }
table.numbers { border-collapse: collapse; font-variant-numeric: tabular-nums; font-size: 13px; }
table.numbers th, table.numbers td { padding: 3px 10px; border-bottom: 1px solid #eee; text-align: right; }
table.numbers th:first-child { text-align: left; font-weight: 500; color: #444; }
table.numbers tr:first-child th { border-bottom: 2px solid #ccc; font-weight: 600; color: #222; }
.maps { display: flex; flex-wrap: wrap; gap: 8px 24px; } .maps figure { margin: 0; } .maps > div { flex: 0 0 370px; max-width: 370px; }
.cap { font-size: 12px; color: #666; margin: 2px 0 0; }
footer { margin-top: 40px; font-size: 12px; color: #888; }
`;

/** The report's HTML for an already-normalised model. */
export function renderModel(model: ReportModel): string {
  const c = new ChartRenderer();
  const warnings: string[] = [];
  const { runs, sweep } = model;
  const parts: string[] = [];

  const meta = model.meta.map(([k, v]) => `<b>${esc(k)}</b> ${esc(v)}`).join(' · ');
  const summaryBody = [
    runs.length ? runsTable(runs) : '',
    sweep ? `<h3>${esc(sweep.metric)} by vCPU count</h3>${sweepTable(sweep)}` : '',
    model.notes.length ? `<ul class="notes">${model.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : '',
  ].join('\n');
  parts.push(
    section(
      SECTION_IDS.summary,
      'Headline numbers',
      runs.length
        ? 'One column per run. Latency is from the vCPU’s fault to the moment it could run again; blocktime is the time all vCPUs were blocked at once (QEMU’s postcopy-blocktime).'
        : 'The sweep in this results file.',
      summaryBody,
    ),
  );

  if (runs.length) {
    const cdf = latencyCdfChart(c, runs, warnings);
    parts.push(
      section(
        SECTION_IDS.latencyCdf,
        'Fault latency CDF',
        'For each latency on the x axis, the fraction of faults that were resolved at least that fast. Lines further left are better; the dashed rules mark the median and p99.',
        cdf ?? '<p>No faults were recorded (all memory present?).</p>',
      ),
    );
    const rate = faultRateChart(c, runs, warnings);
    parts.push(
      section(
        SECTION_IDS.faultRate,
        'Fault rate over time',
        'Faults resolved per second by all vCPUs together, in time bins over the run. It falls to zero once every page the guest touches is present.',
        rate ?? '<p>No timeline was recorded.</p>',
      ),
    );
    const prog = progressChart(c, runs, warnings);
    parts.push(
      section(
        SECTION_IDS.progress,
        'Guest progress',
        'Solid: share of guest pages present on the destination. Dashed: share of the run’s guest memory accesses completed. A flat dashed line while pages are still arriving means the guest is stalled on faults.',
        prog ?? '<p>No timeline was recorded.</p>',
      ),
    );
    const band = statusBandChart(c, runs, warnings);
    if (band) {
      parts.push(
        section(
          SECTION_IDS.recovery,
          'Failures and recovery',
          'Each run with injections: when it was active, paused (the link is down; vCPUs that fault stay blocked, frames in flight are lost) or recovering (reconnected; the destination sends its received-page bitmap and the source resends what is missing). The black bars beneath each band are the injections, from start to end.',
          `${band}\n${recoveryTable(runs.filter((r) => r.run.recovery))}`,
        ),
      );
    }
    const maps = runs.slice(0, MAX_MAPS).map(({ label, run }) => {
      const m = memoryMapCharts(c, run, warnings);
      if (!m) return `<h3>${esc(label)}</h3><p>This result has no memory map.</p>`;
      const cap = `Each cell is ${m.pagesPerCell} page${m.pagesPerCell > 1 ? 's' : ''} (${formatBytes(m.pagesPerCell * run.pageSize)}), ${m.cols} cells per row, gpa 0 at the top left.`;
      return `<h3>${esc(label)}</h3><div class="maps"><div><div class="cap">when it arrived</div>${m.when}</div><div><div class="cap">how it arrived</div>${m.how}</div></div><p class="cap">${esc(cap)}</p>`;
    });
    if (runs.length > MAX_MAPS) maps.push(`<p class="cap">Memory maps of the other ${runs.length - MAX_MAPS} runs are left out to keep this file small.</p>`);
    parts.push(
      section(
        SECTION_IDS.memoryMap,
        'Memory map',
        'Guest memory laid out left to right, top to bottom. Left: when its pages arrived (early dark, late yellow). Right: whether they were pushed by the source in the background or fetched on demand because a vCPU faulted on them.',
        maps.join('\n'),
      ),
    );
  }
  if (sweep) {
    const t = throughputChart(c, sweep, warnings);
    const what = sweep.from === 'runs' ? 'Runs that differ only in vCPU count' : 'The sweep in this bench results file';
    parts.push(
      section(
        SECTION_IDS.throughput,
        'Throughput vs vCPU count',
        `${what}: how the paging rate scales as vCPUs are added. A shared userfaultfd flattens or falls; exits keep scaling while there are cores.`,
        t ?? '<p>The sweep has no points.</p>',
      ),
    );
  }

  return renderPage(model.title, meta, parts);
}

/** The page around the sections: title, meta line, CSS, footer. `meta` is already-escaped HTML. */
export function renderPage(title: string, meta: string, parts: string[]): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="postcopy-sim report">
<title>${esc(title)}</title>
<style>${CSS}</style></head>
<body><main>
<h1>${esc(title)}</h1>
${meta ? `<p class="meta">${meta}</p>` : ''}
${parts.join('\n')}
<footer>Generated by postcopy-sim report. Self-contained: every chart is inline SVG.</footer>
</main></body></html>
`;
}

/**
 * One self-contained HTML report from what a user saved (`run --json`, `start --json`,
 * `compare --json`, or a bench results file). Bad input: SimError BAD_INPUT with one line.
 */
export function renderReport(input: unknown): string {
  return renderModel(readReportInput(input));
}
