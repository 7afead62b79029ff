/**
 * Deciding a threaded run's time dilation (docs/dilation.md), the way time-warped
 * network emulators do it: every modelled duration (the link, the guest's compute and think time,
 * the watchdog) lasts D times longer on the wall, and every time reported is modelled time, so the
 * simulator's own cost per fault shrinks D-fold in what it reports.
 *
 * `auto` measures, briefly, before the run (cached per process for the same shape, so `compare`
 * measures once):
 *   fault   the simulator's own part of one fault's time (faultBreakdownUs: exit -> fetcher, at the
 *           source, arrived -> installed, installed -> running; mean) in the regime a dilated run
 *           has: a run with the run's vCPUs (at most 16) in the same fault mode at a trial
 *           dilation D0, every access a first touch, so each fault wakes the fetcher, the source and the vCPU from sleep; that part x
 *           D0 is its wall cost. The probe's link is a fixed 10 Gbit/s, 50 us one (the hops are the
 *           same on any link, and a slow link would make the probe last minutes)
 *   page    host time per pushed page: derive, wire ring, install (src/threads/pipeline-probe.ts)
 *   access  the guest's compute per access of this workload (a 1-vCPU run with all memory present)
 * and picks the smallest D for which
 *   fault / D <= 5% of the modelled fault latency (one page's round trip on the link),
 *   page / D  <= half a page's wire time (the pipeline keeps up with the modelled link), and
 *   vCPUs / D <= half the cores (the paced guest leaves the cores to the services),
 * capped by the wall budget (--wall-budget): D x the run's floor (the link's time for every page, or
 * a trace's recorded span: runFloorUs) <= the budget, so a command answers in the time the user gave
 * it. A capped run reports `budgetBound` and the share it measured, and the summary flags a share
 * above 5% (chooseAutoFactor).
 * With D > 1 the guest is paced to `access` modelled us per access (src/threads/pacer.ts), so the
 * guest runs at the speed it has on this host undilated, and its all-present access rate is known
 * in modelled time (the degradation baseline, src/compare.ts).
 */
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Link } from '../model/link.js';
import { PAGE_HEADER_BYTES, REQUEST_BYTES } from '../model/page-flags.js';
import type { DilationReport, RunResult } from '../model/result.js';
import { strategyTraits } from '../model/strategies/index.js';
import { resolveOptions, type OptionsInput, type ResolvedOptions } from '../options.js';
import { measurePipelineUs } from './pipeline-probe.js';
import type { DilationPlan } from './protocol.js';

/** The share of a fault the simulator's own cost may take under `auto`. */
export const AUTO_SHARE = 0.05;
/** `auto` never stretches a run more than this (the report then shows the share it could reach). */
export const MAX_AUTO_DILATION = 1000;
/** The fault probe: this many first touches of 4 KiB pages per vCPU, at this trial dilation. */
const PROBE_FAULTS = 160;
/**
 * Larger pages get proportionally fewer probe faults, at least this many per vCPU: a 2 MiB page
 * lasts 1.68 ms on the probe's 10 Gbit/s wire, 34 ms at D0, and 160 of them per vCPU made the
 * probe of a 4-vCPU hugepage run last ~25 s (measured: `run --strategy hugepage` took 26.2 s of
 * wall for a 1.3 s run) and allocate 1.25 GiB.
 */
const PROBE_FAULTS_MIN = 8;
const PROBE_VCPUS_MAX = 16;
const PROBE_DILATION = 20;
const PROBE_ACCESSES = 300_000;
const PROBE_MEMORY_MAX = 64 * 1024 * 1024;

export interface PlannedDilation {
  plan: DilationPlan;
  report: DilationReport;
}
/** Runs a probe on the threaded engine at dilation `factor`, unpaced. */
export type ProbeRunner = (opts: ResolvedOptions, factor: number) => Promise<RunResult>;

/** Measurements are reused for this long (a `compare` measures once; a long-lived process re-measures). */
const PROBE_TTL_MS = 60_000;
const cache = new Map<string, { at: number; value: Promise<number> }>();

/** Drops every cached measurement: the next `auto` run measures the host again. */
export function forgetProbes(): void {
  cache.clear();
}

export async function planDilation(opts: ResolvedOptions, runProbe: ProbeRunner): Promise<PlannedDilation> {
  const faultUs = modelledFaultUs(opts);
  const requested = opts.timeDilation;
  if (requested !== 'auto') {
    const accessUs = requested > 1 ? await measured('access', accessProbe(opts), runProbe) : 0;
    return planned(opts, requested, false, accessUs, null, faultUs);
  }
  // Nothing modelled on a fault's path (no link, or an instant one): nothing to protect.
  if (!(faultUs > 0)) return planned(opts, 1, true, 0, null, faultUs);
  const fault = await measured('fault', faultProbe(opts), runProbe);
  const page = await measured('page', { pageSize: opts.pageSize }, null);
  const access = await measured('access', accessProbe(opts), runProbe);
  const pageWireUs = new Link(linkOf(opts)).serialiseUs(opts.pageSize + PAGE_HEADER_BYTES + opts.msgOverheadBytes);
  const choice = chooseAutoFactor({
    faultWallUs: fault,
    pageWallUs: page,
    modelledFaultUs: faultUs,
    pageWireUs,
    vcpus: opts.vcpus,
    cores: availableParallelism(),
    floorUs: runFloorUs(opts),
    wallBudgetUs: opts.wallBudgetUs,
  });
  const out = planned(opts, choice.factor, true, choice.factor > 1 ? access : 0, { fault, page, access }, faultUs);
  out.report.wallBudgetMs = Math.round(opts.wallBudgetUs / 1000);
  out.report.budgetBound = choice.budgetBound;
  out.report.neededFactor = choice.needed;
  return out;
}

/** What the auto choice of D weighs: the probes' wall costs, the modelled link, the host, the budget. */
export interface AutoFactorInput {
  /** the simulator's part of one fault, wall us (the fault probe) */
  faultWallUs: number;
  /** host time per pushed page, wall us (the page probe) */
  pageWallUs: number;
  /** the modelled fault latency the share is held against (us) */
  modelledFaultUs: number;
  /** one page's time on the modelled wire (us) */
  pageWireUs: number;
  vcpus: number;
  cores: number;
  /** modelled us the run cannot be shorter than (runFloorUs) */
  floorUs: number;
  /** the wall time the dilated migration may take (us) */
  wallBudgetUs: number;
}

/**
 * The smallest D that keeps the simulator's share of a fault at AUTO_SHARE, the pipeline half busy
 * and the paced vCPUs on half the cores; then capped so the run's floor, stretched D-fold, fits
 * the wall budget. When the cap binds (`budgetBound`), the share is what the budget allows and
 * the summary says so; the run never silently pretends it reached 5%.
 */
export function chooseAutoFactor(x: AutoFactorInput): { factor: number; budgetBound: boolean; needed: number } {
  const needed = Math.max(
    x.faultWallUs / (AUTO_SHARE * x.modelledFaultUs),
    x.pageWireUs > 0 ? x.pageWallUs / (0.5 * x.pageWireUs) : 1,
    (2 * x.vcpus) / x.cores,
  );
  const wanted = Math.min(MAX_AUTO_DILATION, Math.max(1, Math.ceil(needed)));
  const allowed = x.floorUs > 0 ? Math.max(1, Math.floor(x.wallBudgetUs / x.floorUs)) : MAX_AUTO_DILATION;
  return wanted > allowed ? { factor: allowed, budgetBound: true, needed: wanted } : { factor: wanted, budgetBound: false, needed: wanted };
}

/**
 * What a run cannot take less modelled time than: the link's time for every page, or a trace
 * replayed at its recorded timing (the guest runs its recorded span, however soon memory is there).
 */
export function runFloorUs(opts: ResolvedOptions): number {
  const spool = opts.workload === 'trace' && opts.traceTiming === 'recorded' ? opts.traceSpool : undefined;
  return Math.max(migrationFloorUs(opts), spool ? spool.recordedUs * opts.traceTimeScale : 0);
}

/** The link's time for every page (twice for hybrid's rounds), modelled us: a floor of the migration. */
export function migrationFloorUs(opts: ResolvedOptions): number {
  const wireUs = new Link(linkOf(opts)).serialiseUs(opts.pages * (opts.pageSize + PAGE_HEADER_BYTES + opts.msgOverheadBytes));
  return Number.isFinite(wireUs) ? wireUs * (strategyTraits(opts.strategy).precopy ? 2 : 1) : 0;
}

function planned(
  opts: ResolvedOptions,
  factor: number,
  auto: boolean,
  accessUs: number,
  measuredUs: DilationReport['measuredUs'],
  faultUs: number,
): PlannedDilation {
  const floorUs = runFloorUs(opts);
  return {
    plan: { factor, accessUs },
    report: {
      factor,
      auto,
      accessUs,
      measuredUs,
      modelledFaultUs: round2(faultUs),
      predictedShare: measuredUs && faultUs > 0 ? round3(measuredUs.fault / factor / faultUs) : null,
      share: null,
      linkStallShare: null,
      // The link's time for every page (twice for hybrid's rounds) or a trace's recorded span, the
      // longer, stretched D-fold: a floor, not a promise.
      wallEstimateMs: floorUs > 0 ? Math.round((factor * floorUs) / 1000) : null,
      wallBudgetMs: null,
      budgetBound: false,
      neededFactor: null,
    },
  };
}

/** The simulator threads' part of a demand fault in `r` (modelled us; its faultBreakdownUs). */
export function simulatorFaultUs(r: Pick<RunResult, 'faultBreakdownUs'>): number {
  const b = r.faultBreakdownUs;
  return b ? b.toFetcher + b.atSource + b.toInstall + b.toResume : 0;
}

/** The modelled fault latency the share is held against: a request and a page across the link, both ways' latency. */
export function modelledFaultUs(opts: ResolvedOptions): number {
  if (opts.mode === 'none' || opts.network === 'none') return 0;
  const link = new Link(linkOf(opts));
  return (
    link.serialiseUs(REQUEST_BYTES + opts.msgOverheadBytes) + link.serialiseUs(opts.pageSize + PAGE_HEADER_BYTES + opts.msgOverheadBytes) + 2 * opts.latencyUs
  );
}

function linkOf(opts: ResolvedOptions) {
  return { bandwidthBps: opts.bandwidthBps, latencyUs: opts.latencyUs, overheadBytes: opts.msgOverheadBytes };
}

/** One measurement, once per process for the same probe. */
function measured(what: 'fault' | 'page' | 'access', probe: OptionsInput, runProbe: ProbeRunner | null): Promise<number> {
  const key = `${what}:${JSON.stringify(probe)}`;
  const hit = cache.get(key);
  if (hit && performance.now() - hit.at < PROBE_TTL_MS) return hit.value;
  const value = what === 'page' ? Promise.resolve(measurePipelineUs(probe.pageSize as number)) : probeRun(what, probe, runProbe!);
  cache.set(key, { at: performance.now(), value });
  value.catch(() => cache.delete(key));
  return value;
}

async function probeRun(what: 'fault' | 'access', probe: OptionsInput, runProbe: ProbeRunner): Promise<number> {
  if (what === 'access') {
    const r = await runProbe(resolveOptions({ ...probe, timeDilation: 1 }), 1);
    return (r.guestMs * 1000 * r.vcpus) / Math.max(1, r.accesses); // per access of one vCPU
  }
  const r = await runProbe(resolveOptions({ ...probe, timeDilation: PROBE_DILATION }), PROBE_DILATION);
  // The simulator threads' part of a fault (the run's breakdown, as the share in a result), in wall us.
  return simulatorFaultUs(r) * PROBE_DILATION;
}

/** Every access a first touch of a page nobody pushes, at a trial dilation. */
function faultProbe(opts: ResolvedOptions): OptionsInput {
  // As many vCPUs faulting at once as the run has (up to PROBE_VCPUS_MAX): a fault's cost is mostly
  // thread wake-ups, and they cost more with more threads on the cores. Measured side by side on the
  // agreement scenarios: a one-vCPU probe predicted 5% where the runs measured 5.8-7.8%; with the
  // run's 4 vCPUs the runs measured 4.4-6.2%.
  const vcpus = Math.min(opts.vcpus, PROBE_VCPUS_MAX);
  const faults = Math.max(PROBE_FAULTS_MIN, Math.ceil((PROBE_FAULTS * 4096) / opts.pageSize));
  return {
    vcpus,
    partition: true,
    memory: vcpus * faults * opts.pageSize,
    pageSize: opts.pageSize,
    mode: opts.mode,
    handlers: 1,
    workload: 'sequential',
    writeRatio: 0,
    accesses: faults,
    strategy: 'demand',
    network: 'link',
    bandwidth: '10Gbit',
    latency: '50us',
    zeroFraction: 0,
    seed: opts.seed,
  };
}

/** The workload's own access loop over present memory (a trace needs its own layout). */
function accessProbe(opts: ResolvedOptions): OptionsInput {
  const trace = opts.workload === 'trace';
  const memory = trace
    ? undefined
    : Math.max(opts.pageSize, Math.min(opts.memoryBytes, PROBE_MEMORY_MAX) - (Math.min(opts.memoryBytes, PROBE_MEMORY_MAX) % opts.pageSize));
  return {
    vcpus: 1,
    mode: 'none',
    pageSize: opts.pageSize,
    workload: opts.workload,
    zipfExponent: opts.zipfExponent,
    writeRatio: opts.writeRatio,
    accesses: PROBE_ACCESSES,
    seed: opts.seed,
    zeroFraction: opts.zeroFraction,
    // A trace's recorded gaps are guest time of their own (the run replays them): only the compute is probed.
    ...(trace
      ? { trace: opts.trace, traceTiming: 'asap', memslots: opts.memslots.map((m) => ({ base: m.baseGpa, size: m.sizeBytes })), vcpus: opts.vcpus }
      : { memory }),
  };
}

const round2 = (x: number) => Math.round(x * 100) / 100;
const round3 = (x: number) => Math.round(x * 1000) / 1000;
