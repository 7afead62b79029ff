/**
 * kernel: the same experiment on real userfaultfd, for scale.
 *
 * What it measures: native/uffd_paging.c (built with the system `cc` by native/index.ts)
 * runs demand_paging_test's experiment without KVM: T threads each touch every 4 KiB page of their
 * own slice of an anonymous region registered for missing faults, and handler threads resolve
 * each uffd_msg with UFFDIO_COPY. For the rows of the paging-rate grid (threads = vCPUs, 64 MiB
 * per thread; quick: 16 MiB, rows 1 and 2) it runs the three variants the simulator models:
 *   single/1     one uffd, one reader        <-> uffd-1
 *   single/N     one uffd, N readers         <-> uffd-n
 *   per-thread   one uffd and reader a slice <-> uffd-pervcpu
 * and prints simulator / kernel ratios of the overall paging rate per row and column; `exit` is
 * put against the best kernel variant of its row (KVM_EXIT_MEMORY_FAULT exists to beat all three).
 * Two one-thread calibration runs pin the handler to the faulting CPU ('same') or the other one
 * ('other'): the price of one real fault round trip with and without a cross-CPU wake-up.
 *
 * Linux only and optional: without a compiler or without permission for userfaultfd the scenario
 * records one skip reason and the rest of the benchmark goes on.
 */
import { runNative, buildNative, type NativeResult, type NativeRun } from '../../native/index.js';
import { envelope, ratio, resolveBenchOptions, writeResult, type BenchOptions, type ResultEnvelope } from '../common.js';
import { findCell, measurePagingRate, pagingDefaults, type PagingColumn, type PagingRateBody } from './paging-rate.js';

export const KERNEL_COLUMNS = ['single/1', 'single/N', 'per-thread'] as const;
export type KernelColumn = (typeof KERNEL_COLUMNS)[number];

/** Which simulator column each kernel variant is compared with. */
export const SIM_OF: Record<KernelColumn, PagingColumn> = { 'single/1': 'uffd-1', 'single/N': 'uffd-n', 'per-thread': 'uffd-pervcpu' };

export interface KernelOptions extends BenchOptions {
  /** Thread counts. @default as paging-rate; quick [1, 2] */
  rows?: number[];
  /** Slice per thread in MiB. @default 64; quick 16 */
  mibPerThread?: number;
  /** The paging-rate grid of the same run; without it the simulator rows are measured here. */
  pagingRate?: PagingRateBody;
  /** Runs the two pinned one-thread calibration runs. @default true */
  calibrate?: boolean;
}

export interface KernelCell {
  threads: number;
  column: KernelColumn;
  run: NativeResult;
}

export interface KernelRatioRow {
  threads: number;
  /** Best kernel variant of the row (highest pages/s). */
  bestKernel: KernelColumn | null;
  bestKernelPagesPerSec: number | null;
  /** simulator pages/s / kernel pages/s; null where either side is missing. */
  exitVsBest: number | null;
  /** exit resolved on the vCPU's thread / the best kernel configuration */
  exitSelfVsBest: number | null;
  'uffd-1': number | null;
  'uffd-n': number | null;
  'uffd-pervcpu': number | null;
}

export interface KernelBody {
  skipped: boolean;
  skipReason?: string;
  rows: number[];
  mibPerThread: number;
  cells: KernelCell[];
  calibration: { same?: NativeResult; other?: NativeResult; skipReason?: string };
  /** Where the simulator's numbers came from. */
  simSource: 'paging-rate of this run' | 'own paging-rate run' | 'none';
  /** The simulator's overall paging rate per row and column, as compared. */
  sim: Array<{ vcpus: number; column: PagingColumn; pagesPerSec: number }>;
  ratios: KernelRatioRow[];
}

export type KernelResult = ResultEnvelope<'kernel', KernelBody>;

function runOf(column: KernelColumn, threads: number, mibPerThread: number): NativeRun {
  switch (column) {
    case 'single/1':
      return { queue: 'single', threads, readers: 1, mibPerThread };
    case 'single/N':
      return { queue: 'single', threads, readers: threads, mibPerThread };
    case 'per-thread':
      return { queue: 'per-thread', threads, readers: 1, mibPerThread };
  }
}

export async function runKernel(opts: KernelOptions = {}): Promise<KernelResult> {
  const o = resolveBenchOptions(opts);
  const t0 = performance.now();
  const d = pagingDefaults(o);
  const rows = opts.rows ?? (o.quick ? [1, 2] : d.rows);
  const mibPerThread = opts.mibPerThread ?? d.mibPerVcpu;
  const body: KernelBody = { skipped: false, rows, mibPerThread, cells: [], calibration: {}, simSource: 'none', sim: [], ratios: [] };
  const notes: string[] = [];

  const built = buildNative();
  let skipReason: string | undefined = built.ok ? undefined : built.reason;
  outer: for (const threads of skipReason ? [] : rows) {
    for (const column of KERNEL_COLUMNS) {
      const r = runNative(runOf(column, threads, mibPerThread));
      if (r.skipped) {
        skipReason = r.reason;
        break outer;
      }
      o.log(`kernel ${threads} threads ${column}: ${Math.round(r.pagesPerSec)} pages/s, p50 ${r.faultLatencyUs.p50} us`);
      body.cells.push({ threads, column, run: r });
    }
  }
  if (skipReason) {
    o.log(`kernel baseline skipped: ${skipReason}`);
    const result = envelope('kernel', o, t0, [`kernel baseline skipped: ${skipReason}`], { ...body, skipped: true, skipReason, cells: [] });
    writeResult(o.outDir, result);
    return result;
  }

  if (opts.calibrate ?? true) {
    for (const pin of ['same', 'other'] as const) {
      const r = runNative({ queue: 'single', threads: 1, readers: 1, mibPerThread: Math.min(16, mibPerThread), pin });
      if (r.skipped) {
        body.calibration.skipReason = r.reason;
        continue;
      }
      body.calibration[pin] = r;
      o.log(`kernel calibration, handler on the ${pin} CPU: p50 ${r.faultLatencyUs.p50} us`);
    }
  }

  // The simulator side: the paging-rate grid of this run, or the same rows measured here.
  const simColumns: PagingColumn[] = ['exit', 'exit-self', 'uffd-1', 'uffd-n', 'uffd-pervcpu'];
  let grid = opts.pagingRate;
  body.simSource = 'paging-rate of this run';
  if (!grid || grid.mibPerVcpu !== mibPerThread || rows.some((v) => simColumns.some((c) => !findCell(grid, v, c)))) {
    if (grid && grid.mibPerVcpu !== mibPerThread)
      notes.push(`paging-rate ran ${grid.mibPerVcpu} MiB per vCPU, the kernel ${mibPerThread}: measured the simulator again at ${mibPerThread}`);
    body.simSource = 'own paging-rate run';
    grid = await measurePagingRate(o, rows, mibPerThread, simColumns);
  }
  for (const vcpus of rows) {
    for (const column of simColumns) {
      const c = findCell(grid, vcpus, column);
      if (c) body.sim.push({ vcpus, column, pagesPerSec: c.pagesPerSec });
    }
    const kernel = (col: KernelColumn) => body.cells.find((k) => k.threads === vcpus && k.column === col)?.run.pagesPerSec ?? null;
    const sim = (col: PagingColumn) => findCell(grid, vcpus, col)?.pagesPerSec ?? null;
    let best: KernelColumn | null = null;
    for (const col of KERNEL_COLUMNS) if ((kernel(col) ?? -1) > (best ? (kernel(best) ?? -1) : -1)) best = col;
    const bestRate = best ? kernel(best) : null;
    body.ratios.push({
      threads: vcpus,
      bestKernel: best,
      bestKernelPagesPerSec: bestRate,
      exitVsBest: ratio(sim('exit'), bestRate),
      exitSelfVsBest: ratio(sim('exit-self'), bestRate),
      'uffd-1': ratio(sim('uffd-1'), kernel('single/1')),
      'uffd-n': ratio(sim('uffd-n'), kernel('single/N')),
      'uffd-pervcpu': ratio(sim('uffd-pervcpu'), kernel('per-thread')),
    });
  }
  notes.push('ratios are simulator / kernel overall paging rate (pages/s); above 1 the simulator is faster than the real fault path');
  const bad = body.cells.filter((k) => !k.run.verified || k.run.copyErrors > 0);
  if (bad.length) notes.push(`kernel runs not verified or with copy errors: ${bad.map((k) => `${k.threads}/${k.column}`).join(', ')}`);
  const result = envelope('kernel', o, t0, notes, body);
  writeResult(o.outDir, result);
  return result;
}
