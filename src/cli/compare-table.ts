/**
 * `compare` at a glance: one table with the strategies as columns and only the rows that decide
 * between them, then one line per strategy against the baseline (the first column), the way
 * hyperfine says "X ran 2.3x faster than Y". `--full` prints the whole summary table instead.
 */
import type { RunResult } from '../model/result.js';
import { formatTable, us, type Row, type TableContext } from './format.js';
import { shareNotes, simulatorShare } from './share-note.js';

const n = (x: number) => x.toLocaleString('en-US');
const ms = (x: number) => `${x.toFixed(1)} ms`;

/** The rows that decide, in the order a reader weighs them. */
export const DECIDING_ROWS: Row[] = [
  ['fault latency p50', (r) => (r.faults ? us(r.faultLatencyUs.p50) : '-')],
  ['fault latency p99', (r) => (r.faults ? us(r.faultLatencyUs.p99) : '-')],
  ['blocktime (all vCPUs)', (r) => ms(r.blocktimeMs)],
  ['migration time', (r) => ms(r.migrationMs)],
  // compare's own measure: how much the strategy slowed the guest against all memory present.
  ['guest degradation', (r) => (r.degradation === null ? '-' : `${(r.degradation * 100).toFixed(1)}%`)],
  ['demand pages', (r) => n(r.pagesDemand)],
  ['pushed pages', (r) => n(r.pagesPushed)],
  ['link utilisation', (r) => (r.linkUtilisation === null ? '-' : `${Math.round(r.linkUtilisation * 100)}%`)],
  [
    'simulator share',
    (r) => {
      const share = simulatorShare(r);
      return share === null ? '-' : r.engine === 'virtual' ? '0% (virtual)' : `${(share * 100).toFixed(1)}% (${r.dilation.factor}x)`;
    },
  ],
  ['verified', (r) => (r.verified ? 'yes' : `NO: ${r.verifyErrors[0]}`)],
];

/** The measures the ratio lines compare, each with the words for less and more of it. */
const MEASURES: Array<{ what: string; of: (r: RunResult) => number | null; less: string; more: string }> = [
  { what: 'p50 fault latency', of: (r) => (r.faults ? r.faultLatencyUs.p50 : null), less: 'lower', more: 'higher' },
  { what: 'blocktime', of: (r) => r.blocktimeMs, less: 'less', more: 'more' },
];

/** One measure of `r` against the baseline's: "18.6x lower p50 fault latency than linear". */
function ratio(m: (typeof MEASURES)[number], r: RunResult, base: RunResult, baseLabel: string): string | null {
  const a = m.of(r);
  const b = m.of(base);
  if (a === null || b === null) return null;
  if (a === b || (a > 0 && b > 0 && Math.abs(a / b - 1) < 0.05)) return `about the same ${m.what} as ${baseLabel}`;
  if (a === 0) return `no ${m.what} (${baseLabel}: ${m.what === 'blocktime' ? ms(b) : us(b)})`;
  if (b === 0) return `${m.what} where ${baseLabel} had none`;
  return a < b ? `${(b / a).toFixed(1)}x ${m.less} ${m.what} than ${baseLabel}` : `${(a / b).toFixed(1)}x ${m.more} ${m.what} than ${baseLabel}`;
}

/** "preempt: 18.6x lower p50 fault latency than linear, ...", one line per column after the baseline. */
export function ratioLines(results: RunResult[], labels: string[]): string[] {
  const base = results[0];
  if (!base || results.length < 2) return [];
  return results.slice(1).map((r, i) => {
    const parts = MEASURES.map((m) => ratio(m, r, base, labels[0]!)).filter((x) => x !== null);
    return `${labels[i + 1]}: ${parts.length ? parts.join(', ') : `nothing to compare with ${labels[0]} (no faults)`}`;
  });
}

/** compare's output: the deciding rows (every row with `full`), the ratio lines, the share notes. */
export function formatCompare(results: RunResult[], labels: string[], ctx: TableContext = {}, full = false): string {
  const table = full ? formatTable(results, labels, ctx) : formatTable(results, labels, ctx, undefined, DECIDING_ROWS);
  return [table, ratioLines(results, labels).join('\n'), shareNotes(results, labels).join('\n')].filter(Boolean).join('\n\n');
}
