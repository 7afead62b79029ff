/**
 * The bounds of every size, duration, rate and count option, in one table: checked by
 * resolveOptions before any work (one line naming the field, exit 2), and written into docs/cli.md
 * by scripts/cli-limits.mjs from this same table, so the documented limits are the enforced ones.
 *
 * Why these bounds: a run must end, and every modelled time must stay exact. Modelled times are
 * doubles in microseconds and the latency histogram records nanoseconds as integers, so one fault's
 * wait must stay well under 2^53 ns (104 days); the slowest link (10 kbit/s) draining the largest send
 * buffer (1 GiB) takes 10 days. Counts are bounded so a run ends; per-page tables are typed arrays,
 * so the page count is bounded too (2^28 pages: a 1 TiB guest at 4 KiB pages, 512 TiB at 2 MiB).
 */
import { ECHO_CHARS, Errors } from './errors.js';
import { MAX_LINE_CHARS } from './trace/lines.js';
import { MIN_BANDWIDTH_BPS } from './model/injections.js';
import { formatBytes, formatRate } from './units.js';

export type LimitKind = 'size' | 'rate' | 'duration' | 'count';

export interface Limit {
  /** the option's name (the flag is its kebab-case form) */
  field: string;
  kind: LimitKind;
  /** smallest accepted value (bytes, bit/s, us or a count); absent: 0 is fine */
  min?: number;
  /** the minimum when it depends on other options (checked where they are known, src/options.ts) */
  minNote?: string;
  max: number;
  why: string;
}

const KiB = 1024,
  MiB = 1024 ** 2,
  GiB = 1024 ** 3;
const MS = 1000,
  S = 1e6;

// The slowest link is the model's (src/model/injections.ts): a bandwidth injection obeys it too.
export { MIN_BANDWIDTH_BPS };

/** The largest guest, in pages (any engine; the threaded engine also needs the host memory). */
export const MAX_PAGES = 2 ** 28;

export const LIMITS: readonly Limit[] = [
  // counts the schema bounds as it parses them (src/options.ts); listed here to be documented with the rest
  { field: 'vcpus', kind: 'count', min: 1, max: 1024, why: 'the threaded engine runs at most 256' },
  { field: 'handlers', kind: 'count', min: 1, max: 1024, why: 'uffd mode; the threaded engine runs at most 64' },
  { field: 'cores', kind: 'count', min: 1, max: 65536, why: 'virtual engine only' },
  { field: 'precopyRounds', kind: 'count', min: 1, max: 100, why: 'hybrid' },
  { field: 'wakeBatch', kind: 'count', min: 1, max: 64, why: 'uffd mode' },
  { field: 'runLength', kind: 'count', min: 1, max: 2 ** 20, why: 'regions workload: pages per sequential run' },
  { field: 'accesses', kind: 'count', min: 1, max: 1e9, why: 'per vCPU: a run must end' },
  { field: 'tailAccesses', kind: 'count', max: 1e9, why: 'per vCPU: a run must end' },
  { field: 'phaseAccesses', kind: 'count', max: 1e12, why: 'a period, in accesses' },
  {
    field: 'bandwidth',
    kind: 'rate',
    min: MIN_BANDWIDTH_BPS,
    max: 10e12,
    why: 'or unlimited; a slower link makes one fault longer than time can be kept exactly',
  },
  { field: 'latency', kind: 'duration', max: 10 * S, why: 'one way' },
  { field: 'msgOverhead', kind: 'size', max: 64 * KiB, why: 'per message: an IP datagram is at most 64 KiB' },
  { field: 'sendBuffer', kind: 'size', minNote: 'one page frame', max: 1 * GiB, why: 'one frame is the page and its header: with less, nothing is ever sent' },
  { field: 'dirtyRate', kind: 'size', max: 64 * GiB, why: "bytes per second; a precopy round runs the guest's writes one by one" },
  { field: 'regionSize', kind: 'size', min: 1, max: 1024 * GiB, why: 'the smallest region' },
  { field: 'think', kind: 'duration', max: 1 * S, why: 'between two accesses' },
  { field: 'spin', kind: 'duration', max: 1 * S, why: 'before a waiting vCPU sleeps' },
  { field: 'serviceSpin', kind: 'duration', max: 1 * S, why: 'before an idle service thread sleeps' },
  { field: 'watchdog', kind: 'duration', min: 1 * MS, max: 3600 * S, why: 'threaded engine only' },
  { field: 'reconnect', kind: 'duration', max: 3600 * S, why: 'one recovery' },
  { field: 'conversionCost', kind: 'duration', max: 1 * S, why: 'one page' },
  { field: 'tagRestoreCost', kind: 'duration', max: 1 * S, why: 'one page' },
];

export function formatLimit(kind: LimitKind, v: number): string {
  if (kind === 'size') return formatBytes(v);
  if (kind === 'rate') return formatRate(v).replace(/^(\d+)bit$/, (_, n: string) => (Number(n) >= 1e3 ? `${Number(n) / 1e3}kbit` : `${n}bit`));
  if (kind === 'duration') return v >= S && v % S === 0 ? `${v / S}s` : v >= MS && v % MS === 0 ? `${v / MS}ms` : `${v}us`;
  return v >= 1e6 && Number.isInteger(Math.log10(v)) ? `10^${Math.log10(v)}` : String(v);
}

/**
 * Checks every bounded option of `o` (the schema's output: bytes, bit/s, us, counts). An unlimited
 * rate (Infinity) is within bounds; an absent optional option is not checked.
 */
export function checkLimits(o: Record<string, unknown>): void {
  for (const l of LIMITS) {
    const v = o[l.field];
    if (typeof v !== 'number') continue;
    if (l.kind === 'rate' && v === Infinity) continue;
    if (v > l.max || (l.min !== undefined && v < l.min)) {
      const range = l.min !== undefined ? `from ${formatLimit(l.kind, l.min)} to ${formatLimit(l.kind, l.max)}` : `at most ${formatLimit(l.kind, l.max)}`;
      throw Errors.badInput(l.field, `must be ${range}${l.kind === 'rate' ? ' (or unlimited)' : ''}, got ${formatLimit(l.kind, v)}`);
    }
  }
}

/** The documentation's table (docs/cli.md, written by scripts/cli-limits.mjs). */
export function limitsTable(): string {
  const rows = LIMITS.map(
    (l) =>
      `| \`--${l.field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}\` | ${l.minNote ?? (l.min !== undefined ? formatLimit(l.kind, l.min) : '0')} | ${formatLimit(l.kind, l.max)} | ${l.why} |`,
  );
  return [
    '| option | minimum | maximum | note |',
    '| --- | --- | --- | --- |',
    ...rows,
    `| a line of a trace or perf script file | 0 | ${MAX_LINE_CHARS} characters | longer: an error naming the file and line, read no further |`,
    `| input an error message quotes | 0 | ${ECHO_CHARS} characters | the rest is left out, its length said |`,
    `| guest pages (\`--memory\` / page size) | 1 | ${MAX_PAGES} (${formatBytes(MAX_PAGES * 4 * KiB)} at 4 KiB pages, ${formatBytes(MAX_PAGES * 2 * MiB)} at 2 MiB) | the threaded engine also needs the guest in host memory, the virtual engine its per-page tables |`,
  ].join('\n');
}
