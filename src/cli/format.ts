/**
 * Human-readable output: the side-by-side summary table of one or more runs.
 */
import type { DilationReport, RunResult } from '../model/result.js';
import { formatBytes, formatRate } from '../units.js';
import { traitsOfName } from '../model/strategies/index.js';
import { shareNotes } from './share-note.js';

const n = (x: number) => x.toLocaleString('en-US');
export const us = (x: number) => (x >= 1000 ? `${(x / 1000).toFixed(2)} ms` : `${x.toFixed(1)} us`);

/** What the table needs that a result does not carry. */
export interface TableContext {
  network?: 'link' | 'none';
}

export type Row = [label: string, cell: (r: RunResult, ctx: TableContext) => string];

const ROWS: Row[] = [
  [
    'mode',
    (r) =>
      r.mode === 'uffd' ? `uffd (${r.uffdQueues > 1 ? `${r.uffdQueues} queues` : `1 queue, ${r.handlers} handler${r.handlers > 1 ? 's' : ''}`})` : r.mode,
  ],
  ['strategy', (r) => r.strategy],
  ['vCPUs', (r) => String(r.vcpus)],
  ['guest', (r) => `${formatBytes(r.memoryBytes)} in ${r.memslots} memslot${r.memslots > 1 ? 's' : ''}, ${formatBytes(r.pageSize)} pages`],
  // A trace's accesses are its own: --write-ratio does not apply, so no share is made up.
  ['workload', (r) => `${r.workload}${r.partition ? ' (partitioned)' : ''}${r.workload === 'trace' ? '' : `, ${Math.round(r.writeRatio * 100)}% writes`}`],
  [
    'link',
    (r, ctx) =>
      ctx.network === 'none'
        ? 'no network: all memory local'
        : r.bandwidthBps === null && r.latencyUs === 0
          ? 'unlimited, 0 us'
          : `${formatRate(r.bandwidthBps ?? Infinity)}, ${r.latencyUs} us`,
  ],
  ['guest accesses', (r) => n(r.accesses)],
  ['faults (read/write/exec)', (r) => `${n(r.faults)} (${n(r.faultsByFlags.read)}/${n(r.faultsByFlags.write)}/${n(r.faultsByFlags.exec)})`],
  [
    'fault records by kind',
    (r) =>
      `${r.faultRecords.arch}, ${r.faultRecords.record}: ` +
      (Object.entries(r.faultRecords.byKind)
        .filter(([, c]) => c.records > 0)
        .map(([k, c]) => `${k} ${n(c.records)}`)
        .join(' · ') || 'none'),
  ],
  ['records a syndrome saves / uffd loses', (r) => `${n(r.faultRecords.avoidableRecords)} / ${n(r.faultRecords.uffdLost)}`],
  ['faults/s', (r) => n(r.faultsPerSec)],
  ['fault latency p50', (r) => us(r.faultLatencyUs.p50)],
  ['fault latency p90', (r) => us(r.faultLatencyUs.p90)],
  ['fault latency p99', (r) => us(r.faultLatencyUs.p99)],
  ['fault latency p99.9', (r) => us(r.faultLatencyUs.p999)],
  ['fault latency max', (r) => us(r.faultLatencyUs.max)],
  ['blocktime (all vCPUs)', (r) => `${r.blocktimeMs.toFixed(1)} ms`],
  ['vCPU blocktime (mean)', (r) => `${(r.vcpuBlocktimeMs.reduce((a, b) => a + b, 0) / r.vcpus).toFixed(1)} ms`],
  ['guest time', (r) => `${r.guestMs.toFixed(1)} ms`],
  ['migration time', (r) => `${r.migrationMs.toFixed(1)} ms`],
  [
    'precopy / downtime',
    (r) => (traitsOfName(r.strategy)?.precopy ? `${r.precopyMs.toFixed(1)} ms / ${r.downtimeMs.toFixed(2)} ms (${r.precopyRounds} rounds)` : '-'),
  ],
  ['pages demand / pushed', (r) => `${n(r.pagesDemand)} / ${n(r.pagesPushed)}`],
  ['zero pages', (r) => n(r.zeroPages)],
  ['merged faults', (r) => n(r.mergedFaults)],
  ['prefetched / urgent pages', (r) => `${n(r.pagesPrefetched)} / ${n(r.pagesUrgent)}`],
  ['resent / discarded pages', (r) => `${n(r.pagesResent)} / ${n(r.pagesDiscarded)}`],
  ['duplicate copies (EEXIST)', (r) => n(r.duplicatePages)],
  ['demand queueing mean/max', (r) => `${us(r.demandQueueUs.mean)} / ${us(r.demandQueueUs.max)}`],
  [
    'fault time: simulator threads',
    (r) =>
      r.faultBreakdownUs
        ? `${us(r.faultBreakdownUs.toFetcher + r.faultBreakdownUs.atSource + r.faultBreakdownUs.toInstall + r.faultBreakdownUs.toResume)}`
        : '-',
  ],
  [
    'fault time: modelled link',
    (r) => (r.faultBreakdownUs ? `${us(r.faultBreakdownUs.sendQueue + r.faultBreakdownUs.wire)} (queue ${us(r.faultBreakdownUs.sendQueue)})` : '-'),
  ],
  ['bytes on wire', (r) => formatBytes(r.bytesOnWire)],
  ['link utilisation', (r) => (r.linkUtilisation === null ? '-' : `${Math.round(r.linkUtilisation * 100)}%`)],
  ['uffd lock contended', (r) => (r.uffd ? `${n(r.uffd.contended)} of ${n(r.uffd.acquires)} (${us(r.uffd.lockWaitUs)} waiting)` : '-')],
  [
    'guest degradation',
    (r) => (r.degradation === null ? '-' : `${(r.degradation * 100).toFixed(1)}% (baseline ${n(r.baselineAccessesPerSec ?? 0)} accesses/s)`),
  ],
  ['time dilation', (r) => formatDilation(r.dilation)],
  ['peak RSS', (r) => formatBytes(r.peakRssBytes)],
  ['verified', (r) => (r.verified ? 'true' : `FALSE: ${r.verifyErrors[0]}`)],
];

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

/**
 * The summary's dilation cell: D, and how much of a modelled fault the simulator still took (measured
 * in the run, else predicted at start; the JSON has both), and the wire's idle share when the source
 * came late. Short: it must fit the table's 100 columns.
 */
export function formatDilation(d: DilationReport): string {
  if (d.factor === 1 && !d.auto) return '1x';
  const share = d.share ?? d.predictedShare;
  const parts = [share !== null ? `simulator ${pct(share)} of a fault` : null, d.linkStallShare ? `link idle ${pct(d.linkStallShare)}` : null].filter(
    (x) => x !== null,
  );
  return `${d.factor}x ${d.auto ? 'auto' : 'set'}${parts.length ? ` (${parts.join(', ')})` : ''}`;
}

/**
 * The line said before a dilated run starts: D, why, and the wall time it will take (the link's time
 * for every page, stretched D-fold: a floor).
 */
export function formatPlanLine(d: DilationReport, label: string): string | null {
  if (d.factor === 1) return null;
  const why = d.predictedShare !== null ? `simulator ${pct(d.predictedShare)} of a ${us(d.modelledFaultUs)} fault, measured at start` : 'as set';
  const cap = d.budgetBound && d.wallBudgetMs !== null ? `, capped by the ${(d.wallBudgetMs / 1000).toFixed(0)} s wall budget` : '';
  const wall = d.wallEstimateMs !== null ? `: at least ${(d.wallEstimateMs / 1000).toFixed(1)} s of wall time` : '';
  return `${label}: time dilation ${d.factor}x (${why}${cap})${wall}`;
}

/** The widest a table gets before its run columns wrap into several blocks (each repeating the labels). */
export const TABLE_WIDTH = 100;

/** The summary table, then a note for each run whose simulator share is over 5% (src/cli/share-note.ts). */
export function formatSummary(results: RunResult[], headers?: string[], ctx: TableContext = {}, maxWidth = TABLE_WIDTH): string {
  const text = formatTable(results, headers, ctx, maxWidth);
  const notes = shareNotes(
    results,
    results.map((r, i) => headers?.[i] ?? r.mode),
  );
  return notes.length ? `${text}\n\n${notes.join('\n')}` : text;
}

/** Runs as columns, `rows` as rows, in blocks of columns that fit `maxWidth`. */
export function formatTable(results: RunResult[], headers?: string[], ctx: TableContext = {}, maxWidth = TABLE_WIDTH, rows: Row[] = ROWS): string {
  const cols = results.map((r, i) => headers?.[i] ?? r.mode);
  const cells = rows.map(([label, cell]) => [label, ...results.map((r) => cell(r, ctx))]);
  const table = [['', ...cols], ...cells];
  const widths = table[0]!.map((_, c) => Math.max(...table.map((row) => row[c]!.length)));
  // Greedy blocks of run columns that fit maxWidth next to the label column (at least one per block).
  const blocks: number[][] = [];
  let block: number[] = [];
  let width = widths[0]!;
  for (let c = 1; c < widths.length; c++) {
    if (block.length && width + 2 + widths[c]! > maxWidth) {
      blocks.push(block);
      block = [];
      width = widths[0]!;
    }
    block.push(c);
    width += 2 + widths[c]!;
  }
  if (block.length) blocks.push(block);
  return blocks
    .map((cs) =>
      table
        .map((row, i) => {
          const line = [0, ...cs].map((c) => (c === 0 ? row[c]!.padEnd(widths[c]!) : row[c]!.padStart(widths[c]!))).join('  ');
          return i === 0 ? `${line}\n${[0, ...cs].map((c) => '-'.repeat(widths[c]!)).join('  ')}` : line;
        })
        .join('\n'),
    )
    .join('\n\n');
}
