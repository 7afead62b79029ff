/**
 * The published bench's cross-check against this host's own kernel: native/uffd_paging.c (the
 * demand_paging_test experiment on real userfaultfd) against the virtual engine's prediction from
 * this host's costs measured in the same run (src/calibrate/calibrate.ts measureKernelCosts).
 *
 * Each row is the median of `rounds` (>= 3) kernel runs, interleaved: round 1 runs every row once,
 * then round 2, ..., so a change of the machine's speed during the bench moves every row alike
 * instead of one. The spread (lowest and highest run) is kept with it. Rows with more threads than
 * cores check the run-queue model (src/virtual/kernel.ts); they, and one uffd per thread, were held
 * out while the model was developed (issue #20: the same must hold for configurations not used).
 *
 * Which CPU a woken thread runs on is the scheduler's choice, and on this shared 2-core machine the
 * other sessions' load makes it: the same row ran 15,898 and 29,866 pages/s in one sitting, with the
 * reader on the faulting CPU for 0% and 74% of the faults. So every kernel run reports where its
 * wakes landed (native/uffd_paging.c: sched_getcpu() on both sides of each fault). Besides the
 * prediction with every wake across the CPUs (the model's own rule) and with every wake on one, the
 * row is predicted per run with each wake priced where it landed (placedCosts): that share of the
 * wakes at the one-CPU price, the rest at the cross-CPU price, both measured before the runs. The
 * placement is a measurement of the run, as the costs are; no prediction moves a cost. Where the
 * placed prediction overshoots, the one-CPU path is what the model prices too cheaply.
 *
 * The machine is shared, so the bench also says how loaded it was (the load average at start and
 * end) and which of the costs measured now moved against the shipped profile's, and by how much:
 * a miss under load is explained by those, or it is not.
 */
import { availableParallelism, loadavg } from 'node:os';
import type { ResolvedOptions } from '../../src/options.js';
import { demandPagingOptions } from './demand-paging-options.js';
import { measureKernelCosts } from '../../src/calibrate/calibrate.js';
import { costsOf, shippedProfile, type CostModel } from '../../src/virtual/costs.js';
import { runVirtual, runVirtualToEnd } from '../../src/virtual/engine.js';
import { HANDLER, VCPU } from '../../src/virtual/kernel.js';

export interface CrossRow {
  run: string;
  threads: number;
  readers: number;
  queue: 'single' | 'per-thread';
  /** median of the kernel runs, pages/s (null: skipped) */
  measured: number | null;
  /** every kernel run of the row, pages/s, in run order */
  runs: number[];
  min: number | null;
  max: number | null;
  /** the virtual engine from this run's measured costs, and from the shipped this-host profile */
  predicted: number;
  predictedShipped: number;
  /** per kernel run, in run order: the share of its wakes that stayed on one CPU (sameCpuShare) */
  sameCpuShares: number[];
  /**
   * this run's costs with each wake priced where the kernel run's wakes landed (placedCosts): the
   * median of one prediction per kernel run (null: no wakelat, so no one-CPU price)
   */
  predictedPlaced: number | null;
  errorPlaced: number | null;
  /**
   * CPU time per fault of the kernel run's vCPU threads and of its readers (medians over the runs,
   * us; null: no runs): each side of a fault on a CPU, without the waits for a CPU that a wake-up
   * costs, which no thread is charged
   */
  vcpuCpuUsPerFault: number | null;
  readerCpuUsPerFault: number | null;
  /** the model's counterparts (modelCpuPerFault), for the pinned rows (null elsewhere) */
  modelVcpuCpuUsPerFault: number | null;
  modelReaderCpuUsPerFault: number | null;
  /**
   * from this run's costs with every wake priced as a wake on one CPU (no IPI: wakelat's same-CPU
   * figure, the large host's wake rule without its line transfer): what the rows cost when the
   * scheduler runs waker and wakee on one CPU, as it does when the other CPU is busy (null: no wakelat)
   */
  predictedSameCpu: number | null;
  errorSameCpu: number | null;
  error: number | null;
  /** held out while the model was developed: more threads than cores, one uffd per thread */
  heldOut: boolean;
  /**
   * 'same' | 'other': the reader pinned to the faulting thread's CPU or to the other one. These two
   * rows price one wake placement each on its own (predicted with every wake on one CPU, or across
   * the CPUs) and are not among the rows the 25% target judges.
   */
  pin?: 'same' | 'other';
  fitted: boolean;
  skipped?: string;
}

/** A measured cost of this run against the shipped profile's. */
export interface CostMove {
  cost: string;
  shipped: number;
  now: number;
  change: number;
}

export interface CrossCheck {
  rows: CrossRow[];
  rounds: number;
  cores: number;
  /** 1-minute load average when the cross-check started and ended */
  loadStart: number;
  loadEnd: number;
  /** this run's two wake figures (us): across the CPUs (ttwuUs + wakeupUs) and on one CPU (wakelat same-CPU) */
  wakeOtherCpuUs: number;
  wakeSameCpuUs: number | null;
  /** the costs that moved by >= MOVED against the shipped profile, largest first */
  moved: CostMove[];
  /** every cost measured in this run, the predictions' input: a later model can be re-run on this sitting */
  costs?: CostModel;
  shippedDate: string;
  skipped?: string;
}

/**
 * The costs of a run whose wakes landed on the waker's CPU for `share` of them: each wake's two
 * sides are that mix of the one-CPU price (`sameCpu`) and the cross-CPU price (`otherCpu`). The
 * mean price is what a run of independent wakes pays per wake; it does not see that a thread
 * sharing its CPU with a busy one also waits for it (the run-queue model only knows core counts).
 */
export function placedCosts(otherCpu: CostModel, sameCpu: CostModel, share: number): CostModel {
  const s = Math.min(1, Math.max(0, share));
  const mix = (a: number, b: number) => s * b + (1 - s) * a;
  return { ...otherCpu, ttwuUs: mix(otherCpu.ttwuUs, sameCpu.ttwuUs), wakeupUs: mix(otherCpu.wakeupUs, sameCpu.wakeupUs) };
}

/** Share of a kernel run's wakes that stayed on one CPU: the reader's (read on the faulting CPU) and the vCPU's (resumed on the copier's). */
export function sameCpuShare(m: { readerOnFaulterCpu: number; vcpuOnReaderCpu: number }): number {
  return (m.readerOnFaulterCpu + m.vcpuOnReaderCpu) / 2;
}

/** A cost that moved by at least this fraction is reported. */
export const MOVED = 0.2;

/** [threads, readers, queue, held out, pin] */
const ROWS: Array<[number, number, 'single' | 'per-thread', boolean, ('same' | 'other')?]> = [
  [1, 1, 'single', false],
  [1, 2, 'single', false],
  [2, 1, 'single', false],
  [2, 2, 'single', false],
  [1, 1, 'per-thread', true],
  [2, 1, 'per-thread', true],
  [4, 1, 'single', true],
  [4, 4, 'single', true],
  [4, 1, 'per-thread', true],
  [1, 1, 'single', true, 'same'],
  [1, 1, 'single', true, 'other'],
];

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

function virtualOpts(threads: number, readers: number, queue: 'single' | 'per-thread', mib: number): ResolvedOptions {
  const o = demandPagingOptions(threads, mib, 'uffd', 'missing', 1);
  return queue === 'per-thread' ? { ...o, uffdPerVcpu: true } : { ...o, handlers: readers };
}

function rate(o: ResolvedOptions, costs: CostModel): number {
  const r = runVirtual(o, costs);
  return Math.round(r.faults / (r.guestMs / 1000));
}

/**
 * The model's CPU time per fault on each side of a fault: the modelled time its vCPU threads and its
 * readers held a core (Thread.coreUs), per fault, the counterpart of the kernel run's
 * CLOCK_THREAD_CPUTIME_ID. It reads the run's state (runVirtualToEnd), so the result stays as it is.
 */
export function modelCpuPerFault(o: ResolvedOptions, costs: CostModel): { vcpuUs: number; readerUs: number } {
  const sim = runVirtualToEnd(o, costs);
  let vcpuUs = 0,
    readerUs = 0,
    faults = 0;
  for (const t of sim.threads) {
    if (t.kind === VCPU) vcpuUs += sim.coreTimeUs(t);
    else if (t.kind === HANDLER) readerUs += sim.coreTimeUs(t);
  }
  for (const v of sim.vcpus) faults += v.faults;
  return { vcpuUs: vcpuUs / faults, readerUs: readerUs / faults };
}

/** Which of this run's measured costs moved against the shipped this-host profile, and by how much. */
export function costMoves(now: CostModel, shipped: CostModel): CostMove[] {
  const out: CostMove[] = [];
  for (const [k, v] of Object.entries(now)) {
    const s = (shipped as unknown as Record<string, unknown>)[k];
    if (k === 'cores' || typeof v !== 'number' || typeof s !== 'number' || s <= 0) continue;
    const change = v / s - 1;
    if (Math.abs(change) >= MOVED) out.push({ cost: k, shipped: s, now: v, change });
  }
  return out.sort((a, b) => Math.abs(b.change) - Math.abs(a.change));
}

export async function crossCheck(log: (s: string) => void, quick: boolean, rounds = 3): Promise<CrossCheck> {
  const native = await import('../../native/index.js');
  const loadStart = loadavg()[0]!;
  const shipped = shippedProfile('this-host');
  const base = {
    rows: [],
    rounds,
    wakeOtherCpuUs: 0,
    wakeSameCpuUs: null,
    cores: availableParallelism(),
    loadStart,
    loadEnd: loadStart,
    moved: [],
    shippedDate: shipped.date,
  };
  log("published: cross-check: measuring this host's kernel costs");
  const k = await measureKernelCosts(quick);
  if ('skipped' in k) return { ...base, skipped: k.skipped };
  log('published: cross-check: costs measured, the kernel runs');
  const costs = k.costs,
    shippedCosts = costsOf(shipped);
  const sameCpuNs = (k.facts.mechanisms as { wakeLatency?: { sameCpuWakeNs?: number } } | undefined)?.wakeLatency?.sameCpuWakeNs;
  const sameCpu: CostModel | null =
    typeof sameCpuNs === 'number' ? { ...costs, ttwuUs: costs.ttwuNextUs, wakeupUs: Math.max(0, sameCpuNs / 1000 - costs.ttwuNextUs) } : null;
  // A row is 'fitted' only when the profile's wakeupUs came from the 1-thread, 1-reader round trip
  // (no wakelat micro-benchmark on this host); with wakelat no row sets a cost.
  const fittedFirst = /round trip/.test(k.sources.wakeupUs ?? '');
  const mib = quick ? 4 : 16;
  const runs: number[][] = ROWS.map(() => []);
  const shares: number[][] = ROWS.map(() => []);
  const vcpuCpu: number[][] = ROWS.map(() => []),
    readerCpu: number[][] = ROWS.map(() => []);
  let skipped: string | undefined;
  for (let round = 0; round < rounds && !skipped; round++) {
    for (let i = 0; i < ROWS.length && !skipped; i++) {
      const [threads, readers, queue, , pin] = ROWS[i]!;
      const m = native.runNative({ queue, threads, readers, mibPerThread: mib, ...(pin ? { pin } : {}) });
      if (m.skipped) {
        skipped = m.reason;
        break;
      }
      runs[i]!.push(Math.round(m.pagesPerSec));
      shares[i]!.push(sameCpuShare(m));
      vcpuCpu[i]!.push(m.vcpuCpuUsPerFault);
      readerCpu[i]!.push(m.readerCpuUsPerFault);
    }
    log(`published: cross-check round ${round + 1} of ${rounds}`);
  }
  const rows = ROWS.map(([threads, readers, queue, heldOut, pin], i): CrossRow => {
    const o = virtualOpts(threads, readers, queue, mib);
    const predictedShipped = rate(o, shippedCosts),
      predictedSameCpu = sameCpu ? rate(o, sameCpu) : null;
    // The reader pinned to the faulting CPU pays the one-CPU price for every wake (when there is one).
    const onOneCpu = pin === 'same' && sameCpu !== null;
    const rowCosts = onOneCpu ? sameCpu : costs;
    const predicted = onOneCpu ? predictedSameCpu! : rate(o, costs);
    const modelCpu = pin ? modelCpuPerFault(o, rowCosts) : null;
    const rs = runs[i]!,
      measured = rs.length ? median(rs) : null;
    const placed = sameCpu ? shares[i]!.map((f) => rate(o, placedCosts(costs, sameCpu, f))) : [];
    const predictedPlaced = placed.length ? median(placed) : null;
    const run =
      queue === 'per-thread'
        ? `${threads} thread(s), one uffd and reader each`
        : `${threads} thread(s), ${readers} reader(s)${pin ? `, the reader pinned to ${pin === 'same' ? "the thread's CPU" : 'the other CPU'}` : ''}`;
    return {
      run,
      threads,
      readers,
      queue,
      measured,
      runs: rs,
      min: rs.length ? Math.min(...rs) : null,
      max: rs.length ? Math.max(...rs) : null,
      predicted,
      predictedShipped,
      sameCpuShares: shares[i]!.map((f) => Math.round(f * 1000) / 1000),
      predictedPlaced,
      errorPlaced: measured === null || predictedPlaced === null ? null : predictedPlaced / measured - 1,
      vcpuCpuUsPerFault: vcpuCpu[i]!.length ? median(vcpuCpu[i]!) : null,
      readerCpuUsPerFault: readerCpu[i]!.length ? median(readerCpu[i]!) : null,
      modelVcpuCpuUsPerFault: modelCpu ? modelCpu.vcpuUs : null,
      modelReaderCpuUsPerFault: modelCpu ? modelCpu.readerUs : null,
      predictedSameCpu,
      errorSameCpu: measured === null || predictedSameCpu === null ? null : predictedSameCpu / measured - 1,
      error: measured === null ? null : predicted / measured - 1,
      heldOut,
      ...(pin ? { pin } : {}),
      fitted: fittedFirst && threads === 1 && readers === 1 && queue === 'single',
      ...(skipped && !rs.length ? { skipped } : {}),
    };
  });
  return {
    ...base,
    rows,
    wakeOtherCpuUs: costs.ttwuUs + costs.wakeupUs,
    wakeSameCpuUs: typeof sameCpuNs === 'number' ? sameCpuNs / 1000 : null,
    loadEnd: loadavg()[0]!,
    moved: costMoves(costs, shippedCosts),
    costs,
    ...(skipped ? { skipped } : {}),
  };
}
