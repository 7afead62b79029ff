/**
 * Deciding a threaded run's time dilation (README "Honest time: dilation"), the way time-warped
 * network emulators do it: every modelled duration (the link, the guest's compute and think time,
 * the watchdog) lasts D times longer on the wall, and every time reported is modelled time, so the
 * simulator's own cost per fault shrinks D-fold in what it reports.
 *
 * `auto` measures, briefly, before the run (cached per process for the same shape, so `compare`
 * measures once):
 *   fault   one fault's round trip through the simulator's threads, p50, over an instant link
 *           (a 1-vCPU run of the same fault mode: every access a first touch)
 *   page    host time per pushed page: derive, wire ring, install (src/threads/pipeline-probe.ts)
 *   access  the guest's compute per access of this workload (a 1-vCPU run with all memory present)
 * and picks the smallest D for which
 *   fault / D <= 5% of the modelled fault latency (one page's round trip on the link),
 *   page / D  <= half a page's wire time (the pipeline keeps up with the modelled link), and
 *   vCPUs / D <= half the cores (the paced guest leaves the cores to the services).
 * With D > 1 the guest is paced to `access` modelled us per access (src/threads/pacer.ts), so the
 * guest runs at the speed it has on this host undilated, and its all-present access rate is known
 * in modelled time (the degradation baseline, src/compare.ts).
 */
import { availableParallelism } from 'node:os';
import { Link } from '../model/link.js';
import { PAGE_HEADER_BYTES, REQUEST_BYTES } from '../model/page-flags.js';
import type { DilationReport, RunResult } from '../model/result.js';
import { resolveOptions, type OptionsInput, type ResolvedOptions } from '../options.js';
import { measurePipelineUs } from './pipeline-probe.js';
import type { DilationPlan } from './protocol.js';

/** The share of a fault the simulator's own cost may take under `auto`. */
export const AUTO_SHARE = 0.05;
/** `auto` never stretches a run more than this (the report then shows the share it could reach). */
export const MAX_AUTO_DILATION = 1000;
const PROBE_FAULT_PAGES_4K = 2048;
const PROBE_ACCESSES = 300_000;
const PROBE_MEMORY_MAX = 64 * 1024 * 1024;

export interface PlannedDilation { plan: DilationPlan; report: DilationReport }
/** Runs a probe on the threaded engine at D = 1. */
export type ProbeRunner = (opts: ResolvedOptions) => Promise<RunResult>;

const cache = new Map<string, Promise<number>>();

export async function planDilation(opts: ResolvedOptions, runAtOne: ProbeRunner): Promise<PlannedDilation> {
  const faultUs = modelledFaultUs(opts);
  const requested = opts.timeDilation;
  if (requested !== 'auto') {
    const accessUs = requested > 1 ? await measured('access', accessProbe(opts), runAtOne) : 0;
    return planned(opts, requested, false, accessUs, null, faultUs);
  }
  // Nothing modelled on a fault's path (no link, or an instant one): nothing to protect.
  if (!(faultUs > 0)) return planned(opts, 1, true, 0, null, faultUs);
  const fault = await measured('fault', faultProbe(opts), runAtOne);
  const page = await measured('page', { pageSize: opts.pageSize }, null);
  const access = await measured('access', accessProbe(opts), runAtOne);
  const pageWireUs = new Link(linkOf(opts)).serialiseUs(opts.pageSize + PAGE_HEADER_BYTES + opts.msgOverheadBytes);
  const d = Math.max(
    fault / (AUTO_SHARE * faultUs),
    pageWireUs > 0 ? page / (0.5 * pageWireUs) : 1,
    (2 * opts.vcpus) / availableParallelism(),
  );
  const factor = Math.min(MAX_AUTO_DILATION, Math.max(1, Math.ceil(d)));
  return planned(opts, factor, true, factor > 1 ? access : 0, { fault, page, access }, faultUs);
}

function planned(
  opts: ResolvedOptions, factor: number, auto: boolean, accessUs: number, measuredUs: DilationReport['measuredUs'], faultUs: number,
): PlannedDilation {
  const wireUs = new Link(linkOf(opts)).serialiseUs(opts.pages * (opts.pageSize + PAGE_HEADER_BYTES + opts.msgOverheadBytes));
  return {
    plan: { factor, accessUs },
    report: {
      factor, auto, accessUs, measuredUs, modelledFaultUs: round2(faultUs),
      predictedShare: measuredUs && faultUs > 0 ? round3(measuredUs.fault / factor / faultUs) : null,
      share: null,
      // The link's time for every page (twice for hybrid's rounds), stretched D-fold: a floor, not a promise.
      wallEstimateMs: Number.isFinite(wireUs) ? Math.round((factor * wireUs * (opts.strategy === 'hybrid' ? 2 : 1)) / 1000) : null,
    },
  };
}

/** The modelled fault latency the share is held against: a request and a page across the link, both ways' latency. */
export function modelledFaultUs(opts: ResolvedOptions): number {
  if (opts.mode === 'none' || opts.network === 'none') return 0;
  const link = new Link(linkOf(opts));
  return link.serialiseUs(REQUEST_BYTES + opts.msgOverheadBytes) + link.serialiseUs(opts.pageSize + PAGE_HEADER_BYTES + opts.msgOverheadBytes) + 2 * opts.latencyUs;
}

function linkOf(opts: ResolvedOptions) {
  return { bandwidthBps: opts.bandwidthBps, latencyUs: opts.latencyUs, overheadBytes: opts.msgOverheadBytes };
}

/** One measurement, once per process for the same probe. */
function measured(what: 'fault' | 'page' | 'access', probe: OptionsInput, runAtOne: ProbeRunner | null): Promise<number> {
  const key = `${what}:${JSON.stringify(probe)}`;
  let m = cache.get(key);
  if (!m) {
    m = what === 'page' ? Promise.resolve(measurePipelineUs(probe.pageSize as number)) : probeRun(what, probe, runAtOne!);
    cache.set(key, m);
    m.catch(() => cache.delete(key));
  }
  return m;
}

async function probeRun(what: 'fault' | 'access', probe: OptionsInput, runAtOne: ProbeRunner): Promise<number> {
  const r = await runAtOne(resolveOptions({ ...probe, timeDilation: 1 }));
  if (what === 'fault') return r.faultLatencyUs.p50;
  return (r.guestMs * 1000 * r.vcpus) / Math.max(1, r.accesses); // per access of one vCPU
}

/** Every access a first touch, over an instant link: a fault's round trip is the simulator's alone. */
function faultProbe(opts: ResolvedOptions): OptionsInput {
  const pages = Math.max(16, Math.round((PROBE_FAULT_PAGES_4K * 4096) / opts.pageSize));
  return {
    vcpus: 1, memory: pages * opts.pageSize, pageSize: opts.pageSize, mode: opts.mode, handlers: 1, workload: 'sequential', writeRatio: 0,
    accesses: pages, strategy: 'demand', network: 'link', bandwidth: 'unlimited', latency: 0, zeroFraction: 0, seed: opts.seed,
  };
}

/** The workload's own access loop over present memory (a trace needs its own layout). */
function accessProbe(opts: ResolvedOptions): OptionsInput {
  const trace = opts.workload === 'trace';
  const memory = trace ? undefined : Math.max(opts.pageSize, Math.min(opts.memoryBytes, PROBE_MEMORY_MAX) - (Math.min(opts.memoryBytes, PROBE_MEMORY_MAX) % opts.pageSize));
  return {
    vcpus: 1, mode: 'none', pageSize: opts.pageSize, workload: opts.workload, zipfExponent: opts.zipfExponent, writeRatio: opts.writeRatio,
    accesses: PROBE_ACCESSES, seed: opts.seed, zeroFraction: opts.zeroFraction,
    ...(trace ? { trace: opts.trace, memslots: opts.memslots.map((m) => ({ base: m.baseGpa, size: m.sizeBytes })), vcpus: opts.vcpus } : { memory }),
  };
}

const round2 = (x: number) => Math.round(x * 100) / 100;
const round3 = (x: number) => Math.round(x * 1000) / 1000;
