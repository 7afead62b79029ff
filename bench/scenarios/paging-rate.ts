/**
 * paging-rate: the demand_paging_test analogue.
 *
 * What it measures: how fast each fault path resolves faults when nothing else costs anything.
 * Every vCPU touches every 4 KiB page of its own slice of guest memory exactly once
 * (`workload: 'sequential', partition: true, accesses: pages per vCPU`, reads only), with
 * `network: 'none'` (the fetcher or the handlers copy pages from a local image), so every access
 * is one fault and only the fault-handling machinery is timed.
 *
 * How it maps to the kernel experiment (tools/testing/selftests/kvm/demand_paging_test.c,
 * `-b 64M -v N`, and the tables of ../shared/uapi.md):
 *   none          all memory present before the guest starts: the "no userfault" ceiling;
 *   exit          KVM_EXIT_MEMORY_FAULT records to the page fetcher over MessagePorts (the design card's path);
 *   exit-self     the same exit resolved on the vCPU's own thread, no shared thread at all: what
 *                 demand_paging_test's exit path does, and the published "memory-fault exits" column;
 *   uffd-1        one shared uffd queue, one handler thread (`-a -r 1`);
 *   uffd-n        one shared uffd queue, one handler per vCPU (`-a -r N`);
 *   uffd-pervcpu  one uffd queue and handler per vCPU slice (the sharded, non `-a` run).
 * Rows are vCPU counts (1, 2, 4, 8, 16; quick: 1, 2, 4, on 16 MiB slices instead of 64).
 * Each cell reports the selftest's three figures (total guest time, per-vCPU paging rate, overall
 * paging rate) plus fault latency p50/p99, and how many threads the run used against the cores.
 */
import { simulate, type OptionsInput, type RunResult } from '../../src/index.js';
import {
  envelope,
  errorLine,
  machineFacts,
  MiB,
  resolveBenchOptions,
  writeResult,
  type BenchOptions,
  type ResolvedBenchOptions,
  type ResultEnvelope,
} from '../common.js';

export const PAGING_COLUMNS = ['none', 'exit', 'exit-self', 'uffd-1', 'uffd-n', 'uffd-pervcpu'] as const;
export type PagingColumn = (typeof PAGING_COLUMNS)[number];

export const PAGE_BYTES = 4096;

export interface PagingRateOptions extends BenchOptions {
  /** vCPU counts. @default [1, 2, 4, 8, 16]; quick [1, 2, 4] */
  rows?: number[];
  /** Slice per vCPU in MiB (the selftest's -b). @default 64; quick 16 */
  mibPerVcpu?: number;
  /** Columns to run. @default all five */
  columns?: readonly PagingColumn[];
}

/** One run: one vCPU count in one fault path. */
export interface PagingCell {
  column: PagingColumn;
  vcpus: number;
  /** vCPU threads plus service threads (fetcher, handlers) the run started. */
  threads: number;
  /** threads > cores: the threads share cores, and the rates measure the scheduler too. */
  oversubscribed: boolean;
  /** Pages touched in all (each one a fault, except in 'none'). */
  pages: number;
  faults: number;
  /** Total guest execution time: from the start gun until the last vCPU finished. */
  guestMs: number;
  /** Mean over vCPUs of its pages / its own run time ('none': pagesPerSec / vCPUs). */
  perVcpuPagesPerSec: number;
  /** All pages / guest time: the selftest's "overall demand paging rate". */
  pagesPerSec: number;
  faultLatencyUs: { p50: number; p99: number };
  verified: boolean;
  wallMs: number;
  /** Set when the run failed; the figures are then 0. */
  error?: string;
}

export interface PagingRateBody {
  rows: number[];
  columns: PagingColumn[];
  mibPerVcpu: number;
  cores: number;
  cells: PagingCell[];
}

export type PagingRateResult = ResultEnvelope<'paging-rate', PagingRateBody>;

/** simulate() options of one cell: the same experiment in every column. */
export function pagingOptions(column: PagingColumn, vcpus: number, mibPerVcpu: number, seed: number): OptionsInput {
  const pagesPerVcpu = (mibPerVcpu * MiB) / PAGE_BYTES;
  const base: OptionsInput = {
    vcpus,
    memory: vcpus * mibPerVcpu * MiB,
    pageSize: PAGE_BYTES,
    workload: 'sequential',
    partition: true,
    accesses: pagesPerVcpu,
    writeRatio: 0,
    network: 'none',
    seed,
  };
  switch (column) {
    case 'none':
      return { ...base, mode: 'none' };
    case 'exit':
      return { ...base, mode: 'exit' };
    case 'exit-self':
      return { ...base, mode: 'exit', exitResolver: 'vcpu' };
    case 'uffd-1':
      return { ...base, mode: 'uffd', handlers: 1 };
    case 'uffd-n':
      return { ...base, mode: 'uffd', handlers: vcpus };
    case 'uffd-pervcpu':
      return { ...base, mode: 'uffd', uffdPerVcpu: true };
  }
}

function cellOf(column: PagingColumn, vcpus: number, pagesPerVcpu: number, cores: number, r: RunResult): PagingCell {
  const threads = vcpus + r.services.length;
  const pages = vcpus * pagesPerVcpu;
  // In 'none' nothing faults, so the fault-based rates are 0: the rate is pages touched over the
  // guest time instead (every access is a distinct page), and per vCPU its even share of it.
  const noFaults = column === 'none';
  const pagesPerSec = noFaults ? (r.guestMs > 0 ? r.accesses / (r.guestMs / 1000) : 0) : r.faultsPerSec;
  const errors: string[] = [];
  if (!r.verified) errors.push(`not verified: ${r.verifyErrors[0] ?? 'no reason given'}`);
  if (!noFaults && r.faults !== pages) errors.push(`expected ${pages} faults (one per page), got ${r.faults}`);
  return {
    column,
    vcpus,
    threads,
    oversubscribed: threads > cores,
    pages,
    faults: r.faults,
    guestMs: r.guestMs,
    perVcpuPagesPerSec: noFaults ? pagesPerSec / vcpus : r.perVcpuPagesPerSec,
    pagesPerSec,
    faultLatencyUs: { p50: r.faultLatencyUs.p50, p99: r.faultLatencyUs.p99 },
    verified: r.verified && errors.length === 0,
    wallMs: r.wallMs,
    ...(errors.length ? { error: errors.join('; ') } : {}),
  };
}

function failedCell(column: PagingColumn, vcpus: number, pagesPerVcpu: number, cores: number, e: unknown): PagingCell {
  return {
    column,
    vcpus,
    threads: 0,
    oversubscribed: vcpus > cores,
    pages: vcpus * pagesPerVcpu,
    faults: 0,
    guestMs: 0,
    perVcpuPagesPerSec: 0,
    pagesPerSec: 0,
    faultLatencyUs: { p50: 0, p99: 0 },
    verified: false,
    wallMs: 0,
    error: errorLine(e),
  };
}

/** Runs the grid without writing a file (floors and kernel reuse it when run on their own). */
export async function measurePagingRate(
  o: ResolvedBenchOptions,
  rows: number[],
  mibPerVcpu: number,
  columns: readonly PagingColumn[],
): Promise<PagingRateBody> {
  const cores = machineFacts().cores;
  const pagesPerVcpu = (mibPerVcpu * MiB) / PAGE_BYTES;
  // Warm-up: the first run of a process also loads modules and compiles the hot paths.
  await simulate(pagingOptions('exit', 1, Math.min(4, mibPerVcpu), o.seed)).catch(() => undefined);
  const cells: PagingCell[] = [];
  for (const vcpus of rows) {
    for (const column of columns) {
      let cell: PagingCell;
      try {
        cell = cellOf(column, vcpus, pagesPerVcpu, cores, await simulate(pagingOptions(column, vcpus, mibPerVcpu, o.seed)));
      } catch (e) {
        cell = failedCell(column, vcpus, pagesPerVcpu, cores, e);
      }
      o.log(
        `paging-rate ${vcpus} vCPU ${column}: ${
          cell.error ? `FAILED ${cell.error}` : `${Math.round(cell.pagesPerSec)} pages/s, p50 ${cell.faultLatencyUs.p50} us, ${cell.threads} threads`
        }`,
      );
      cells.push(cell);
    }
  }
  return { rows, columns: [...columns], mibPerVcpu, cores, cells };
}

export function pagingDefaults(o: ResolvedBenchOptions): { rows: number[]; mibPerVcpu: number } {
  // Quick: 16 MiB per vCPU (4096 faults each, after the warm-up run that compiles the hot paths).
  // At 64 MiB the quick grid took 31.6 s of the quick bench's 395 s, 29 s of it in the 18 runs;
  // the default run keeps the selftest's 64 MiB.
  return o.quick ? { rows: [1, 2, 4], mibPerVcpu: 16 } : { rows: [1, 2, 4, 8, 16], mibPerVcpu: 64 };
}

export async function runPagingRate(opts: PagingRateOptions = {}): Promise<PagingRateResult> {
  const o = resolveBenchOptions(opts);
  const t0 = performance.now();
  const d = pagingDefaults(o);
  const body = await measurePagingRate(o, opts.rows ?? d.rows, opts.mibPerVcpu ?? d.mibPerVcpu, opts.columns ?? PAGING_COLUMNS);
  const notes: string[] = [];
  if (body.cells.some((c) => c.oversubscribed)) {
    notes.push(
      `this machine has ${body.cores} cores: cells marked * ran more threads (vCPUs + fetcher/handlers) than cores, so their threads share cores and the rates include the scheduler`,
    );
  }
  notes.push("'none' faults nothing: its rates are pages touched / guest time, per vCPU an even share");
  const result = envelope('paging-rate', o, t0, notes, body);
  writeResult(o.outDir, result);
  return result;
}

export function findCell(body: PagingRateBody | undefined, vcpus: number, column: PagingColumn): PagingCell | undefined {
  return body?.cells.find((c) => c.vcpus === vcpus && c.column === column && c.error === undefined);
}
