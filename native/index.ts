/**
 * The kernel baseline: builds and runs native/uffd_paging.c, which repeats the KVM
 * selftest demand_paging_test experiment on real userfaultfd (no KVM). T "vCPU" threads touch
 * every 4 KiB page of their own slice of a region registered for missing faults; handler
 * threads read each `struct uffd_msg` and resolve it with UFFDIO_COPY. The variants match the
 * ones the simulator models:
 *
 *   queue 'single',     readers 1  "uffd-1":       one uffd, one reader (selftest -a -r 1)
 *   queue 'single',     readers T  "uffd-n":       one uffd, T readers  (selftest -a -r T)
 *   queue 'per-thread'             "uffd-pervcpu": one uffd and one reader per vCPU slice
 *   pin 'same' | 'other', threads 1: the single-fault round trip with the handler on the
 *                                    faulting CPU or on the other one (calibration)
 *
 * Its numbers are what the real kernel path costs on this machine, so the simulator's paging
 * rates can be read against them. Nothing here throws: a machine without a C compiler or
 * without userfaultfd yields `{ skipped: true, reason }` and the benchmark goes on.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../src/paths.js';
import { Errors, isStopSignal } from '../src/errors.js';

/** One run of the native experiment. */
export interface NativeRun {
  /** 'single': one uffd for the whole region; 'per-thread': one uffd per vCPU slice. */
  queue: 'single' | 'per-thread';
  /** vCPU threads, each touching its own slice. */
  threads: number;
  /** Handler threads reading the one uffd (queue 'single' only; 'per-thread' has one per uffd). */
  readers: number;
  /** Slice per vCPU, in MiB of 4 KiB pages (the selftest's -b; 64 in the published runs). */
  mibPerThread: number;
  /** CPU placement of the handlers relative to the vCPUs. @default 'none' */
  pin?: 'same' | 'other' | 'none';
}

export interface NativeResult {
  skipped?: false;
  queue: string;
  threads: number;
  /** Handler threads in total (for 'per-thread', one per vCPU). */
  readers: number;
  /** Pages touched in total, every one of them a fault. */
  pages: number;
  /** Wall time from the start barrier until the last vCPU finished. */
  totalGuestSec: number;
  /** Mean over vCPUs of (its pages / its own time). */
  perVcpuPagesPerSec: number;
  /** pages / totalGuestSec: the selftest's "overall demand paging rate". */
  pagesPerSec: number;
  /** Per fault, from just before the touching store to just after it returned. */
  faultLatencyUs: { p50: number; p99: number };
  /** Mean time inside the UFFDIO_COPY ioctl (allocate, copy, map, wake). */
  copyNsMean: number;
  /** UFFDIO_COPYs that found the page already present (harmless races). */
  eexist: number;
  /** Every page equals its source page after the run. */
  verified: boolean;
  /** Calibration: an ordinary first-touch fault on fresh anonymous memory, no userfaultfd. */
  firstTouchUsPerPage: number;
  /** Reads that found the uffd empty because another reader took the message (uffd-n). */
  emptyReads: number;
  /** UFFDIO_COPYs that failed with anything but EEXIST (should be 0). */
  copyErrors: number;
  /** Share of faults whose message was read on the CPU the vCPU faulted on (sched_getcpu on both sides). */
  readerOnFaulterCpu: number;
  /** Share of faults after which the vCPU resumed on the CPU that read and copied its page. */
  vcpuOnReaderCpu: number;
  /** CPU time of the vCPU threads per fault (CLOCK_THREAD_CPUTIME_ID): their side of a fault, without waits to run. */
  vcpuCpuUsPerFault: number;
  /** CPU time of the handler threads per fault: the reader's side. */
  readerCpuUsPerFault: number;
}

export type NativeOutcome = NativeResult | { skipped: true; reason: string };

const SOURCE_RELATIVE = join('native', 'uffd_paging.c');
const BUILD_RELATIVE = join('native', 'build');
const BINARY_NAME = 'uffd_paging';
/** The C program's own watchdog fires at 100 s and still prints JSON; this is the backstop. */
const RUN_TIMEOUT_MS = 120_000;
const COMPILE_TIMEOUT_MS = 60_000;


/** First meaningful line of a tool's output, so every reason stays one line. */
export function firstLine(text: string | undefined, fallback: string): string {
  const lines = (text ?? '').split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  const line = lines.find((l) => /error/i.test(l)) ?? lines[0];
  return line ?? fallback;
}

/**
 * Compiles the C program with the system `cc -O2 -pthread` into native/build/, only when
 * the source is newer than the binary.
 * @param repoRoot where native/uffd_paging.c lives; defaults to the walk up from here.
 */
export function buildNative(repoRoot?: string): { ok: true; binary: string } | { ok: false; reason: string } {
  return buildCProgram(SOURCE_RELATIVE, BINARY_NAME, repoRoot);
}

/**
 * Compiles one C translation unit (`source`, relative to the repo root) into native/build/<binary>
 * with `cc -O2 -std=c11 -pthread`, only when it or one of `headers` is newer than the binary.
 * Never throws: a missing compiler or a compile error becomes `{ ok: false, reason }`.
 */
export function buildCProgram(source: string, binaryName: string, repoRoot?: string, headers: string[] = []):
  { ok: true; binary: string } | { ok: false; reason: string } {
  const root = repoRoot ?? packageRoot();
  if (root === undefined) return { ok: false, reason: 'repo root not found (no package.json above the module)' };
  const sourcePath = join(root, source);
  const buildDir = join(root, BUILD_RELATIVE);
  const binary = join(buildDir, binaryName);
  try {
    const inputs = [sourcePath, ...headers.map((h) => join(root, h))];
    const absent = inputs.find((f) => !existsSync(f));
    if (absent !== undefined) return { ok: false, reason: `C source not found: ${absent}` };
    const newest = Math.max(...inputs.map((f) => statSync(f).mtimeMs));
    if (existsSync(binary) && statSync(binary).mtimeMs >= newest) return { ok: true, binary };
    mkdirSync(buildDir, { recursive: true });
    // Compile to a private name and rename: a concurrent caller never runs a half-written file.
    const partial = `${binary}.${process.pid}.tmp`;
    const cc = spawnSync('cc', ['-O2', '-std=c11', '-pthread', '-Wall', '-Wextra', '-o', partial, sourcePath], {
      encoding: 'utf8',
      timeout: COMPILE_TIMEOUT_MS,
    });
    if (cc.error !== undefined) {
      const code = (cc.error as NodeJS.ErrnoException).code;
      return { ok: false, reason: code === 'ENOENT' ? 'no C compiler: `cc` not found on PATH' : `cc failed: ${cc.error.message}` };
    }
    if (cc.status !== 0) {
      rmSync(partial, { force: true });
      return { ok: false, reason: `compile failed: ${firstLine(cc.stderr, `cc exited with ${String(cc.status ?? cc.signal)}`)}` };
    }
    renameSync(partial, binary);
    return { ok: true, binary };
  } catch (e) {
    return { ok: false, reason: `build failed: ${firstLine((e as Error).message, 'unknown error')}` };
  }
}

function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** Checks the C program's JSON field by field, so a format drift shows up as a skip reason
 * rather than as NaN in a report. */
function toOutcome(parsed: unknown): NativeOutcome {
  if (typeof parsed !== 'object' || parsed === null) return { skipped: true, reason: 'native output is not a JSON object' };
  const o = parsed as Record<string, unknown>;
  if (o.skipped === true) return { skipped: true, reason: typeof o.reason === 'string' ? o.reason : 'skipped (no reason given)' };
  const latency = o.faultLatencyUs as Record<string, unknown> | undefined;
  const numbers = ['threads', 'readers', 'pages', 'totalGuestSec', 'perVcpuPagesPerSec', 'pagesPerSec', 'copyNsMean',
    'eexist', 'firstTouchUsPerPage', 'emptyReads', 'copyErrors', 'readerOnFaulterCpu', 'vcpuOnReaderCpu', 'vcpuCpuUsPerFault', 'readerCpuUsPerFault'] as const;
  const missing: string[] = numbers.filter((k) => !isFiniteNumber(o[k]));
  if (typeof latency !== 'object' || latency === null || !isFiniteNumber(latency.p50) || !isFiniteNumber(latency.p99)) {
    missing.push('faultLatencyUs');
  }
  if (typeof o.queue !== 'string') missing.push('queue');
  if (typeof o.verified !== 'boolean') missing.push('verified');
  if (missing.length > 0) return { skipped: true, reason: `native output malformed (bad or missing: ${missing.join(', ')})` };
  const n = (k: (typeof numbers)[number]): number => o[k] as number;
  return {
    queue: o.queue as string,
    threads: n('threads'),
    readers: n('readers'),
    pages: n('pages'),
    totalGuestSec: n('totalGuestSec'),
    perVcpuPagesPerSec: n('perVcpuPagesPerSec'),
    pagesPerSec: n('pagesPerSec'),
    faultLatencyUs: { p50: latency!.p50 as number, p99: latency!.p99 as number },
    copyNsMean: n('copyNsMean'),
    eexist: n('eexist'),
    verified: o.verified as boolean,
    firstTouchUsPerPage: n('firstTouchUsPerPage'),
    emptyReads: n('emptyReads'),
    copyErrors: n('copyErrors'),
    readerOnFaulterCpu: n('readerOnFaulterCpu'),
    vcpuOnReaderCpu: n('vcpuOnReaderCpu'),
    vcpuCpuUsPerFault: n('vcpuCpuUsPerFault'),
    readerCpuUsPerFault: n('readerCpuUsPerFault'),
  };
}

function positiveInt(v: number): boolean {
  return Number.isInteger(v) && v >= 1;
}

/**
 * Builds (if needed) and runs one variant; never throws. Every failure, from a missing
 * compiler to a timeout or unparsable output, becomes `{ skipped: true, reason }`.
 * @param repoRoot as for buildNative.
 */
export function runNative(run: NativeRun, repoRoot?: string): NativeOutcome {
  try {
    if (!positiveInt(run.threads) || !positiveInt(run.readers) || !positiveInt(run.mibPerThread)) {
      return { skipped: true, reason: 'invalid run: threads, readers and mibPerThread must be positive integers' };
    }
    const built = buildNative(repoRoot);
    if (!built.ok) return { skipped: true, reason: built.reason };
    const args = ['--queue', run.queue, '--threads', String(run.threads), '--mib-per-thread', String(run.mibPerThread),
      '--pin', run.pin ?? 'none'];
    // 'per-thread' has exactly one reader per uffd; the C program rejects --readers there.
    if (run.queue === 'single') args.push('--readers', String(run.readers));
    const child = spawnSync(built.binary, args, { encoding: 'utf8', timeout: RUN_TIMEOUT_MS, killSignal: 'SIGKILL' });
    if (child.error !== undefined) return { skipped: true, reason: `native run failed: ${firstLine(child.error.message, 'spawn error')}` };
    if (isStopSignal(child.signal)) throw Errors.interrupted(child.signal); // Ctrl-C: stop, do not go on with a skipped baseline
    if (child.signal !== null) return { skipped: true, reason: `native run killed by ${child.signal}` };
    // The program prints one JSON line, even for bad arguments (exit 2); take the last one.
    const line = child.stdout.trim().split('\n').pop() ?? '';
    if (line === '') return { skipped: true, reason: `native run printed nothing (exit ${String(child.status)}): ${firstLine(child.stderr, 'no stderr')}` };
    return toOutcome(JSON.parse(line));
  } catch (e) {
    return { skipped: true, reason: `native run failed: ${firstLine((e as Error).message, 'unknown error')}` };
  }
}
