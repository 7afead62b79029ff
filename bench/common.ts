/**
 * What every benchmark scenario shares: the options a scenario takes, the machine facts stamped on
 * every result (CPU model, cores, memory, Node version, commit, seed, date: pino's runbench prints
 * the same, TigerBeetle prints seed and commit in every report), the JSON envelope written to
 * `bench/results/<name>.json`, progress lines on stderr, and the small formatters of the summary.
 *
 * Nothing here measures anything; each scenario under bench/scenarios/ does.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../src/paths.js';

/** The scenarios, in the order the runner runs them (later ones reuse earlier results). */
export const SCENARIOS = [
  'paging-rate',
  'floors',
  'kernel',
  'pipeline',
  'scale',
  'network',
  'published',
  'soak',
  'workloads',
  'fault-records',
  'front-door',
  'engine-speed',
] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

/**
 * Results the docs generators read that the bench runner does not write: the workloads table and
 * the strategy tables (`node scripts/readme-workloads.mjs --run`, `node scripts/readme-strategies.mjs
 * --run`) and the sweep throughput (bench/sweep-throughput.ts). They carry the same machine block,
 * so the clean-tree target (bench/targets.ts) judges them with the scenarios.
 */
export const DOCS_RESULTS = ['workloads-table', 'strategies', 'sweep-throughput'] as const;
export type DocsResultName = (typeof DOCS_RESULTS)[number];

/** Options every scenario function takes; the runner fills them from argv, tests pass tiny ones. */
export interface BenchOptions {
  /** Smaller sizes and fewer rows, aimed at two minutes for the whole suite (the bench-quick target says whether it did). @default false */
  quick?: boolean;
  /** Adds the largest rows (scale: 64 GiB where the host has the memory). @default false */
  full?: boolean;
  /** Seed of every simulated run (workload, source image). @default 1 */
  seed?: number;
  /** Where `<name>.json` is written. @default `<repo>/bench/results`, or `<repo>/bench/results/quick` (git-ignored) with quick, so a quick run never replaces the committed full results */
  outDir?: string;
  /** Progress lines (one per run). @default a line on stderr */
  log?: (line: string) => void;
}

export interface ResolvedBenchOptions {
  quick: boolean;
  full: boolean;
  seed: number;
  outDir: string;
  log: (line: string) => void;
}

export function resolveBenchOptions(o: BenchOptions): ResolvedBenchOptions {
  return {
    quick: o.quick ?? false,
    full: o.full ?? false,
    seed: o.seed ?? 1,
    outDir: o.outDir ?? join(repoRoot(), 'bench', 'results', ...(o.quick ? ['quick'] : [])),
    log: o.log ?? ((line) => process.stderr.write(`[bench] ${line}\n`)),
  };
}

/** The package root (src/paths.ts), from bench/ and dist/bench/ alike. */
export const repoRoot = packageRoot;

/** Facts about the machine and the code that produced a result. */
export interface MachineFacts {
  cpuModel: string;
  /** CPUs this process may run on (os.availableParallelism()): above this, threads share cores. */
  cores: number;
  logicalCpus: number;
  totalMemoryBytes: number;
  node: string;
  platform: string;
  kernel: string;
  arch: string;
  /** `git rev-parse --short HEAD`, or null outside a git checkout. */
  commit: string | null;
  /** Tracked files differ from the commit (the numbers are of uncommitted code); null if unknown. */
  dirty: boolean | null;
}

function git(args: string[]): string | null {
  try {
    return execFileSync('git', args, { cwd: repoRoot(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).trim();
  } catch {
    return null;
  }
}

export function machineFacts(): MachineFacts {
  const commit = git(['rev-parse', '--short', 'HEAD']);
  // The results a bench writes are its output, not the code measured: a run of several scenarios
  // must not call the later ones dirty because the earlier ones wrote bench/results/.
  const status = commit === null ? null : git(['status', '--porcelain', '--untracked-files=no', '--', '.', ':(exclude)bench/results']);
  return {
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    logicalCpus: cpus().length,
    totalMemoryBytes: totalmem(),
    node: process.version,
    platform: process.platform,
    kernel: release(),
    arch: process.arch,
    commit: commit || null,
    dirty: status === null ? null : status.length > 0,
  };
}

/** The envelope of every `bench/results/<name>.json`. */
export interface ResultEnvelope<Name extends ScenarioName, Body> {
  scenario: Name;
  /** ISO date of the end of the run. */
  date: string;
  seed: number;
  quick: boolean;
  full: boolean;
  machine: MachineFacts;
  /** Wall time of the whole scenario. */
  durationMs: number;
  /** Lines worth reading next to the numbers (skips, oversubscription, how a figure was derived). */
  notes: string[];
  body: Body;
}

export function envelope<Name extends ScenarioName, Body>(
  scenario: Name,
  o: ResolvedBenchOptions,
  startedMs: number,
  notes: string[],
  body: Body,
): ResultEnvelope<Name, Body> {
  return {
    scenario,
    date: new Date().toISOString(),
    seed: o.seed,
    quick: o.quick,
    full: o.full,
    machine: machineFacts(),
    durationMs: Math.round(performance.now() - startedMs),
    notes,
    body,
  };
}

/** Writes `<outDir>/<scenario>.json` (via a temporary name, so a reader never sees half a file). */
export function writeResult(outDir: string, result: ResultEnvelope<ScenarioName, unknown>): string {
  return writeResultFile(outDir, result.scenario, result);
}

/** Writes `value` as `<outDir>/<name>.json`, through a temporary name. */
export function writeResultFile(outDir: string, name: string, value: unknown): string {
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `${name}.json`);
  const partial = `${file}.${process.pid}.tmp`;
  writeFileSync(partial, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(partial, file);
  return file;
}

/** A thrown value as one line. */
export function errorLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0] ?? msg;
}

// ---- formatting ---------------------------------------------------------------------------

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

/** A markdown table: the first column left-aligned, the numbers right-aligned (or all `left`). */
export function mdTable(headers: string[], rows: string[][], left = false): string {
  const align = headers.map((_, c) => (c === 0 || left ? ':--' : '--:'));
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(headers), line(align), ...rows.map(line)].join('\n');
}

/** 12345 -> "12,345"; null/NaN -> "-". */
export function fmtInt(x: number | null | undefined): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '-' : Math.round(x).toLocaleString('en-US');
}

/** Fixed decimals, or "-" when missing. */
export function fmtNum(x: number | null | undefined, digits = 1): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(digits);
}

export function fmtRatio(x: number | null | undefined): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '-' : `${x.toFixed(2)}x`;
}

export function fmtPct(x: number | null | undefined): string {
  return x === null || x === undefined || !Number.isFinite(x) ? '-' : `${Math.round(x * 100)}%`;
}

export function fmtBytes(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return '-';
  if (Math.abs(x) >= GiB) return `${(x / GiB).toFixed(2)} GiB`;
  if (Math.abs(x) >= MiB) return `${(x / MiB).toFixed(0)} MiB`;
  return `${(x / 1024).toFixed(0)} KiB`;
}

/** 256 -> "256 MiB", 4096 -> "4 GiB". */
export function fmtMiB(mib: number): string {
  return mib >= 1024 && mib % 1024 === 0 ? `${mib / 1024} GiB` : `${mib} MiB`;
}

/** a / b, or null when either is missing or b is 0. */
export function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a === null || a === undefined || b === null || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return null;
  return a / b;
}
