/**
 * The mechanism benchmarks: builds and runs native/uffd_mech.c, which measures, each on its own,
 * the costs a shared userfaultfd pays per fault (docs: /native/MECHANISMS.md):
 *
 *   wake       eventfd write() waking k threads asleep in poll(): try_to_wake_up as the waker
 *              sees it (what handle_userfault's wake_up_poll on fd_wqh pays per sleeping reader)
 *   walk       UFFDIO_WAKE on a range nobody waits on, w faults asleep elsewhere on the same uffd:
 *              __wake_userfault's walk, per waiter
 *   emptyRead  poll(0) + empty non-blocking read() on an idle uffd, k loopers at once
 *   copy / zeropage / continue   UFFDIO_COPY / _ZEROPAGE / _CONTINUE with MODE_DONTWAKE, t at once
 *   mmapLock   mincore() on one page, an mm-wide mmap_read_lock, k threads at once
 *   cacheLine  atomic add on one shared line vs on private lines: the unit price of contention
 *   wakeLatency  eventfd ping-pong on one CPU and across two: a wake without and with a cross-CPU IPI
 *
 * Each subcommand runs `runs` times and every number is the median over those runs (the C side
 * already takes medians over repetitions inside a run). Where a cost grows with contenders the
 * result keeps every {contenders, ns} point and adds a least-squares line over the points with
 * contenders >= 1; the 0 point (nobody waiting) is a different code path, so it is kept as a
 * point but left out of the fit. Nothing here throws: a missing compiler skips everything, a
 * missing kernel feature skips only its case, each with a one-line reason.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Errors, isStopSignal } from '../src/errors.js';
import { buildCProgram, firstLine } from './index.js';

export interface Skipped { skipped: true; reason: string }
export interface ContenderPoint {
  contenders: number;
  /** Median over runs. */
  ns: number;
  /** Lowest and highest run: on a shared VM some phases run slower (see MECHANISMS.md). */
  nsMin: number;
  nsMax: number;
}
/** ns = baseNs + slopeNsPerContender * contenders, least squares over the points named. */
export interface LinearFit {
  baseNs: number;
  slopeNsPerContender: number;
  method: string;
}
/** A cost measured at several contender counts, ascending, plus its fitted line. */
export interface Sweep { points: ContenderPoint[]; fit: LinearFit }

/** The machine that measured: a 2-core VM is not a 256-core two-socket host. */
export interface MechanismHost { cpuModel: string; cpus: number; allowedCpus: number; kernel: string; note: string }

export interface MechanismCosts {
  skipped?: false;
  host: MechanismHost;
  /** Runs per subcommand; every number is the median over them. */
  runs: number;
  quick: boolean;
  /** ns per eventfd write() by threads asleep in poll() on it (asleep on another CPU if any). */
  wake: { writeNsBySleepers: Sweep; sleepersOnOtherCpus: boolean } | Skipped;
  /** ns per UFFDIO_WAKE on an unwaited page, by faults asleep (read, unresolved) on the uffd. */
  walk: { wakeIoctlNsByWaiters: Sweep } | Skipped;
  /** CPU ns per poll(0) + empty read() loop by concurrent loopers, and each call alone. */
  emptyRead: { loopCpuNsByReaders: Sweep; pollOnlyNs: number; emptyReadOnlyNs: number } | Skipped;
  /** ns per 4 KiB page per thread, DONTWAKE, by threads filling at once (own 2 MiB slices). */
  copy: { nsPerPageByThreads: Sweep } | Skipped;
  zeropage: { nsPerPageByThreads: Sweep } | Skipped;
  /** MINOR fault on shmem: the page is already in the page cache, CONTINUE only maps it. */
  continue: { nsPerPageByThreads: Sweep } | Skipped;
  /** CPU ns per mincore() call by threads calling it at once. */
  mmapLock: { mincoreCpuNsByThreads: Sweep } | Skipped;
  /** ns per atomic add, 1 thread vs 2 on one shared line or on private lines. */
  cacheLine: { sharedLineNsPerAdd: Sweep; ownLineNsPerAdd: Sweep } | Skipped;
  /** one wake (both sides: try_to_wake_up and the woken thread running), same CPU (no IPI) and across CPUs */
  wakeLatency?: { sameCpuWakeNs: number; otherCpuWakeNs: number; eventfdPairNs: number } | Skipped;
  /** a write fault against a read fault on a MISSING-registered anonymous page (SIGBUS mode): the
   *  page do_anonymous_page allocates, zeroes and frees before it calls handle_userfault */
  writeFault?: { readFaultNs: number; writeFaultNs: number; writeExtraNs: number } | Skipped;
}

export interface MechanismOptions {
  /** Short loops (a test); numbers are noisier. @default false */
  quick?: boolean;
  /** Runs per subcommand, pointwise median. @default 3 */
  runs?: number;
  /** Largest contender count for wake, walk, mmapLock (1..64). @default 16 */
  maxContenders?: number;
  /** Largest reader count for emptyRead (1..64). @default 4 */
  maxReaders?: number;
  /** Largest filler thread count for copy / zeropage / continue (1..8). @default 2 */
  maxFillThreads?: number;
  repoRoot?: string;
}

const SOURCE = join('native', 'uffd_mech.c');
const HEADERS = [join('native', 'mech_host.h')];
const BINARY = 'uffd_mech';
/** The C watchdog answers at 25 s with a skip line; this is the backstop. */
const RUN_TIMEOUT_MS = 40_000;

type Json = Record<string, unknown>;

function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Ordinary least squares of ns on contenders over the points with contenders >= 1. */
export function fitLine(points: ContenderPoint[]): LinearFit {
  const used = points.filter((p) => p.contenders >= 1);
  const method = 'least squares over the points with contenders >= 1';
  if (used.length === 0) return { baseNs: 0, slopeNsPerContender: 0, method: `${method} (none: no fit)` };
  const n = used.length;
  const mx = used.reduce((a, p) => a + p.contenders, 0) / n;
  const my = used.reduce((a, p) => a + p.ns, 0) / n;
  const sxx = used.reduce((a, p) => a + (p.contenders - mx) ** 2, 0);
  if (sxx === 0) return { baseNs: my, slopeNsPerContender: 0, method: `${method} (one contender count: slope 0)` };
  const slope = used.reduce((a, p) => a + (p.contenders - mx) * (p.ns - my), 0) / sxx;
  return { baseNs: my - slope * mx, slopeNsPerContender: slope, method };
}

/** Points of one key in one run's JSON, validated: ascending contenders, finite positive ns. */
function pointsOf(o: Json, key: string): ContenderPoint[] | string {
  const raw = o[key];
  if (!Array.isArray(raw) || raw.length === 0) return `missing ${key}`;
  const pts: ContenderPoint[] = [];
  for (const r of raw as Json[]) {
    if (!isFiniteNumber(r.contenders) || !isFiniteNumber(r.ns) || r.ns <= 0) return `bad point in ${key}`;
    if (pts.length > 0 && r.contenders <= pts[pts.length - 1]!.contenders) return `${key} not ascending`;
    pts.push({ contenders: r.contenders, ns: r.ns, nsMin: r.ns, nsMax: r.ns });
  }
  return pts;
}

/** The pointwise median over runs of one key, with its fit. */
function sweepOf(runs: Json[], key: string): Sweep | string {
  const each = runs.map((o) => pointsOf(o, key));
  const bad = each.find((e): e is string => typeof e === 'string');
  if (bad !== undefined) return bad;
  const first = each[0] as ContenderPoint[];
  const points = first.map((p, i) => {
    const ns = (each as ContenderPoint[][]).map((e) => (e[i]?.contenders === p.contenders ? e[i]!.ns : Number.NaN));
    return { contenders: p.contenders, ns: median(ns), nsMin: Math.min(...ns), nsMax: Math.max(...ns) };
  });
  if (points.some((p) => !Number.isFinite(p.nsMax))) return `${key}: runs disagree on the contender counts`;
  return { points, fit: fitLine(points) };
}

function scalarOf(runs: Json[], key: string): number | string {
  const v = runs.map((o) => o[key]);
  return v.every((x) => isFiniteNumber(x) && x > 0) ? median(v as number[]) : `missing ${key}`;
}

/** Runs one subcommand `runs` times; the first skip line or failure ends it as Skipped. */
function runBench(binary: string, args: string[], runs: number): Json[] | Skipped {
  const out: Json[] = [];
  for (let r = 0; r < runs; r++) {
    const child = spawnSync(binary, args, { encoding: 'utf8', timeout: RUN_TIMEOUT_MS, killSignal: 'SIGKILL' });
    if (child.error !== undefined) return { skipped: true, reason: `${args[0]}: ${firstLine(child.error.message, 'spawn error')}` };
    if (isStopSignal(child.signal)) throw Errors.interrupted(child.signal); // Ctrl-C: stop, do not go on with a skipped mechanism
    if (child.signal !== null) return { skipped: true, reason: `${args[0]}: killed by ${child.signal}` };
    const line = child.stdout.trim().split('\n').pop() ?? '';
    let o: Json;
    try {
      o = JSON.parse(line) as Json;
    } catch {
      return { skipped: true, reason: `${args[0]}: unparsable output (exit ${String(child.status)}): ${firstLine(child.stderr, 'no stderr')}` };
    }
    if (o.skipped === true) return { skipped: true, reason: `${args[0]}: ${typeof o.reason === 'string' ? o.reason : 'skipped'}` };
    out.push(o);
  }
  return out;
}

/** Assembles one result from named sweeps and scalars; any malformed field makes it a skip. */
function assemble<T>(name: string, runs: Json[] | Skipped, sweeps: Record<string, string>, scalars: Record<string, string> = {},
  extra: (o: Json) => Json = () => ({})): T | Skipped {
  if (!Array.isArray(runs)) return runs;
  const result: Json = {};
  for (const [field, key] of Object.entries({ ...sweeps, ...scalars })) {
    const v = field in sweeps ? sweepOf(runs, key) : scalarOf(runs, key);
    if (typeof v === 'string') return { skipped: true, reason: `${name}: output malformed (${v})` };
    result[field] = v;
  }
  return { ...result, ...extra(runs[0]!) } as T;
}

function clampInt(v: number | undefined, fallback: number, lo: number, hi: number): number {
  return v !== undefined && Number.isInteger(v) ? Math.min(hi, Math.max(lo, v)) : fallback;
}

/**
 * Builds (if needed) and runs every mechanism benchmark; never throws.
 * Takes ~20 s with the defaults on a 2-core host, ~3 s with `quick`.
 */
export function measureMechanisms(opts: MechanismOptions = {}): MechanismCosts | Skipped {
  try {
    const built = buildCProgram(SOURCE, BINARY, opts.repoRoot, HEADERS);
    if (!built.ok) return { skipped: true, reason: built.reason };
    const quick = opts.quick ?? false;
    const runs = clampInt(opts.runs, 3, 1, 15);
    const k = String(clampInt(opts.maxContenders, 16, 1, 64));
    const readers = String(clampInt(opts.maxReaders, 4, 1, 64));
    const t = String(clampInt(opts.maxFillThreads, 2, 1, 8));
    const run = (...args: string[]): Json[] | Skipped => runBench(built.binary, quick ? [...args, '--quick'] : args, runs);

    const wakeRuns = run('wake', k);
    const fill = (name: string) => assemble<{ nsPerPageByThreads: Sweep }>(name, run(name, t), { nsPerPageByThreads: 'nsPerPage' });
    const costs = {
      wake: assemble<{ writeNsBySleepers: Sweep; sleepersOnOtherCpus: boolean }>('wake', wakeRuns,
        { writeNsBySleepers: 'wakeNsPerWrite' }, {}, (o) => ({ sleepersOnOtherCpus: o.sleepersOnOtherCpus === true })),
      walk: assemble<{ wakeIoctlNsByWaiters: Sweep }>('walk', run('walk', k), { wakeIoctlNsByWaiters: 'wakeIoctlNs' }),
      emptyRead: assemble<{ loopCpuNsByReaders: Sweep; pollOnlyNs: number; emptyReadOnlyNs: number }>('emptyread',
        run('emptyread', readers), { loopCpuNsByReaders: 'pollReadLoopCpuNs' },
        { pollOnlyNs: 'pollOnlyNs', emptyReadOnlyNs: 'emptyReadOnlyNs' }),
      copy: fill('copy'),
      zeropage: fill('zeropage'),
      continue: fill('continue'),
      mmapLock: assemble<{ mincoreCpuNsByThreads: Sweep }>('mmaplock', run('mmaplock', k), { mincoreCpuNsByThreads: 'mincoreCpuNsPerCall' }),
      cacheLine: assemble<{ sharedLineNsPerAdd: Sweep; ownLineNsPerAdd: Sweep }>('cacheline', run('cacheline'),
        { sharedLineNsPerAdd: 'sharedLineNsPerAdd', ownLineNsPerAdd: 'ownLineNsPerAdd' }),
      wakeLatency: assemble<{ sameCpuWakeNs: number; otherCpuWakeNs: number; eventfdPairNs: number }>('wakelat', run('wakelat'), {},
        { sameCpuWakeNs: 'sameCpuWakeNs', otherCpuWakeNs: 'otherCpuWakeNs', eventfdPairNs: 'eventfdPairNs' }),
      writeFault: assemble<{ readFaultNs: number; writeFaultNs: number; writeExtraNs: number }>('writefault', run('writefault'), {},
        { readFaultNs: 'readFaultNs', writeFaultNs: 'writeFaultNs', writeExtraNs: 'writeExtraNs' }),
    };
    // The host facts come with every result; wake needs no userfaultfd, else ask cacheline once.
    const probe = Array.isArray(wakeRuns) ? wakeRuns : runBench(built.binary, ['cacheline', '--quick'], 1);
    const head: Json = Array.isArray(probe) ? probe[0]! : {};
    const host: MechanismHost = {
      cpuModel: typeof head.cpuModel === 'string' ? head.cpuModel : 'unknown',
      cpus: isFiniteNumber(head.cpus) ? head.cpus : 0,
      allowedCpus: isFiniteNumber(head.allowedCpus) ? head.allowedCpus : 0,
      kernel: typeof head.kernel === 'string' ? head.kernel : 'unknown',
      note: typeof head.hostNote === 'string' ? head.hostNote : 'host facts unavailable',
    };
    return { host, runs, quick, ...costs };
  } catch (e) {
    return { skipped: true, reason: `mechanism benchmarks failed: ${firstLine((e as Error).message, 'unknown error')}` };
  }
}
