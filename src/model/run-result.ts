/**
 * Builds the RunResult from what an engine counted, the same way for both engines: the engine hands
 * over its raw totals (per-vCPU counts, service statistics, the latency histogram, the proof's
 * findings, the times of the migration's phases) and everything derived is computed here once.
 */
import type { RecordableHistogram } from '../histogram.js';
import type { ResolvedOptions } from './config.js';
import { cdfPoints, latencyDist, summarizeNs } from '../histogram.js';
import { Link } from './link.js';
import { handlerCount } from './memslots.js';
import { PAGE_HEADER_BYTES, REQUEST_BYTES } from './page-flags.js';
import type { DilationReport, PageMap, RunResult, TimelineSample } from './result.js';
import type { FetcherStats, SourceStats, UffdLockStats } from './stats.js';
import type { InjectionMark, RecoveryStats } from './impairments.js';
import { formatInjection, type Injection } from './injections.js';
import { summarizeKinds } from './arch/counters.js';
import { FAULT_KIND_NAMES, type FaultKindName } from './arch/fault-kind.js';
import { strategyTraits } from './strategies/index.js';

/** What one vCPU counted over its run. */
export interface VcpuTotals {
  accesses: number;
  faults: number;
  faultsRead: number;
  faultsWrite: number;
  faultsExec: number;
  /** time blocked on faults (postcopy-vcpu-blocktime) */
  blockedUs: number;
  /** from the start gun to the end of its workload */
  runUs: number;
  badReads: number;
  firstBadRead: string | null;
  /** page installed -> this vCPU running again, summed over faults */
  resumeLagUsTotal: number;
  /** exit resolver 'vcpu': pages this vCPU installed itself, and copies that found the page there */
  selfInstalled: number;
  selfEexist: number;
  /** exit resolver 'vcpu' over a link: requests this vCPU sent the source itself */
  selfRequests: number;
  /** Per fault kind (src/model/arch/counters.ts), and with recordFaultOrder every record as kind, gpa. */
  kindCounts?: Float64Array;
  faultOrder?: number[] | null;
}

/** The end-of-run proof's findings over all of memory. */
export interface MemoryProof {
  pagesNotPresent: number;
  pagesWrong: number;
  firstProblem: string | null;
}

export interface RunTotals {
  engine: RunResult['engine'];
  opts: ResolvedOptions;
  vcpus: VcpuTotals[];
  /** fault latencies in ns */
  latency: RecordableHistogram;
  source: SourceStats | null;
  fetchers: FetcherStats[];
  uffd: UffdLockStats | null;
  uffdQueues: number;
  proof: MemoryProof;
  /** whole-VM blocktime */
  blocktimeUs: number;
  /** phase times on the engine's clock (us): migration start/done, hybrid's switch start, guest start */
  migrationStartUs: number;
  migrationDoneUs: number;
  switchStartUs: number;
  goUs: number;
  timeline: TimelineSample[];
  pageMap: PageMap | null;
  wallMs: number;
  peakRssBytes: number;
  /** The threaded engine's time dilation; absent: D = 1 (the virtual engine, whose time is virtual). */
  dilation?: DilationReport;
  recovery: RecoveryStats | null;
  /** injections added while the run played (the demo's live link cuts), after the plan's */
  liveInjections?: Injection[];
  /** the virtual engine's cost profile and modelled cores; the threaded engine's real cores */
  engineInfo: { profile: string | null; cores: number };
}

/** What a run without dilation reports. */
export function noDilation(): DilationReport {
  return {
    factor: 1,
    auto: false,
    accessUs: 0,
    measuredUs: null,
    modelledFaultUs: 0,
    predictedShare: null,
    share: null,
    linkStallShare: null,
    wallEstimateMs: null,
    wallBudgetMs: null,
    budgetBound: false,
    neededFactor: null,
  };
}

const r2 = (x: number) => Math.round(x * 100) / 100;

export function buildResult(t: RunTotals): RunResult {
  const opts = t.opts,
    vs = t.vcpus,
    source = t.source,
    fetchers = t.fetchers;
  const sum = (f: (s: FetcherStats) => number) => fetchers.reduce((a, s) => a + f(s), 0);
  const vsum = (f: (v: VcpuTotals) => number) => vs.reduce((a, v) => a + f(v), 0);
  const faults = vsum((v) => v.faults);
  const guestUs = Math.max(...vs.map((v) => v.runUs));
  const migrationMs = opts.mode === 'none' ? 0 : (t.migrationDoneUs - t.migrationStartUs) / 1000;
  const hybrid = strategyTraits(opts.strategy).precopy && opts.mode !== 'none';
  const bytesToDest = source?.bytesToDest ?? 0;
  const bytesToSource = source?.bytesToSource ?? 0;
  const wireUs = Number.isFinite(opts.bandwidthBps) ? (bytesToDest * 8e6) / opts.bandwidthBps : 0;
  const breakdown = faultBreakdown(opts, vs, source, fetchers);
  const faultLatencyUs = summarizeNs(t.latency);
  return {
    engine: t.engine,
    dilation: t.dilation
      ? {
          ...t.dilation,
          share: simulatorShare(breakdown, t.dilation.modelledFaultUs),
          linkStallShare: source && migrationMs > 0 ? Math.round((source.linkStallUsTotal / 1000 / migrationMs) * 1000) / 1000 : null,
        }
      : noDilation(),
    engineInfo: { engine: t.engine, ...t.engineInfo, uffdMode: opts.uffdMode, exitResolver: opts.exitResolver },
    mode: opts.mode,
    strategy: opts.strategy,
    vcpus: opts.vcpus,
    handlers: handlerCount(opts),
    uffdQueues: t.uffdQueues,
    workload: opts.workload,
    writeRatio: opts.writeRatio,
    partition: opts.partition,
    pageSize: opts.pageSize,
    pages: opts.pages,
    memoryBytes: opts.memoryBytes,
    memslots: opts.memslots.length,
    bandwidthBps: Number.isFinite(opts.bandwidthBps) ? opts.bandwidthBps : null,
    latencyUs: opts.latencyUs,
    seed: opts.seed,
    accesses: vsum((v) => v.accesses),
    faults,
    faultsByFlags: { read: vsum((v) => v.faultsRead), write: vsum((v) => v.faultsWrite), exec: vsum((v) => v.faultsExec) },
    faultsPerSec: guestUs > 0 ? Math.round(faults / (guestUs / 1e6)) : 0,
    guestMs: r2(guestUs / 1000),
    perVcpuPagesPerSec: Math.round(vsum((v) => (v.runUs > 0 ? v.faults / (v.runUs / 1e6) : 0)) / vs.length),
    faultLatencyUs,
    blocktimeMs: r2(t.blocktimeUs / 1000),
    vcpuBlocktimeMs: vs.map((v) => r2(v.blockedUs / 1000)),
    migrationMs: r2(migrationMs),
    precopyMs: hybrid ? r2((t.switchStartUs - t.migrationStartUs) / 1000) : 0,
    downtimeMs: hybrid ? r2((t.goUs - t.switchStartUs) / 1000) : 0,
    precopyRounds: source?.precopyRounds ?? 0,
    pagesResent: source?.pagesResent ?? 0,
    pagesDiscarded: source?.pagesDiscarded ?? 0,
    pagesPrefetched: source?.pagesPrefetched ?? 0,
    pagesUrgent: source?.pagesUrgent ?? 0,
    pagesDemand: source ? source.pagesDemand : sum((s) => s.installedDemand) + vsum((v) => v.selfInstalled),
    pagesPushed: source ? source.pagesPushed : sum((s) => s.installedPushed),
    zeroPages: source ? source.zeroPages : sum((s) => s.installedZero),
    mergedFaults: sum((s) => s.mergedFaults),
    duplicatePages: sum((s) => s.eexist) + vsum((v) => v.selfEexist),
    requests: sum((s) => s.requestsSent) + vsum((v) => v.selfRequests),
    requestsForSentPages: source?.requestsForSentPages ?? 0,
    faultBreakdownUs: breakdown,
    demandQueueUs: { mean: source?.pagesDemand ? r2(source.demandQueueUsTotal / source.pagesDemand) : 0, max: r2(source?.demandQueueUsMax ?? 0) },
    bytesOnWire: bytesToDest + bytesToSource,
    bytesToDest,
    bytesToSource,
    linkUtilisation: wireUs > 0 && migrationMs > 0 ? Math.round(Math.min(1, wireUs / 1000 / migrationMs) * 1000) / 1000 : null,
    peakRssBytes: t.peakRssBytes,
    wallMs: Math.round(t.wallMs),
    uffd: t.uffd,
    latencyCdf: cdfPoints(t.latency),
    latencyDist: latencyDist(t.latency),
    timeline: t.timeline,
    baselineAccessesPerSec: null,
    degradation: null,
    pageMap: t.pageMap,
    sendOrder: source?.sendOrder ? pairs(source.sendOrder) : null,
    recovery: t.recovery ? { ...t.recovery, injections: injectionMarks([...opts.inject, ...(t.liveInjections ?? [])]) } : null,
    faultRecords: summarizeKinds(
      opts.arch,
      opts.faultRecord,
      vs.map((v) => v.kindCounts),
    ),
    faultOrder: opts.recordFaultOrder ? vs.map((v) => kindPairs(v.faultOrder ?? [])) : null,
    services: [...(source ? [source] : []), ...fetchers].map((s) =>
      s.role === 'source' ? { ...s, sendOrder: undefined, recovery: undefined, liveInjections: undefined } : s,
    ),
    ...proofVerdict(vs, t.proof),
  };
}

/**
 * The simulator threads' part of a demand fault's time (breakdown, modelled us) over the modelled
 * fault latency it is held against (one page's round trip on the link): what `auto` dilation aims
 * to keep at or under 5%.
 */
function simulatorShare(b: RunResult['faultBreakdownUs'], modelledFaultUs: number): number | null {
  if (!b || !(modelledFaultUs > 0)) return null;
  return Math.round(((b.toFetcher + b.atSource + b.toInstall + b.toResume) / modelledFaultUs) * 1000) / 1000;
}

function pairs(flat: number[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}

function kindPairs(flat: number[]): Array<[FaultKindName, number]> {
  const out: Array<[FaultKindName, number]> = [];
  for (let i = 0; i < flat.length; i += 2) out.push([FAULT_KIND_NAMES[flat[i]!]!, flat[i + 1]!]);
  return out;
}

/** The proof's verdict: every read each vCPU checked, then every page at the end. */
function proofVerdict(vs: VcpuTotals[], proof: MemoryProof): { verified: boolean; verifyErrors: string[] } {
  const errors: string[] = [];
  for (const v of vs) if (v.firstBadRead) errors.push(`${v.firstBadRead} (${v.badReads} bad reads on this vCPU)`);
  if (proof.pagesNotPresent) errors.push(`${proof.pagesNotPresent} pages never arrived; ${proof.firstProblem}`);
  if (proof.pagesWrong) errors.push(`${proof.pagesWrong} pages differ from what the guest must see; ${proof.firstProblem}`);
  return { verified: errors.length === 0, verifyErrors: errors };
}

/**
 * Where a demand fault's time goes (means, us): exit -> the fetcher reads the record, request at the
 * source -> handled, queued behind bytes on the link, the modelled wire (request + page), page
 * arrived -> installed, installed -> vCPU running again.
 */
function faultBreakdown(opts: ResolvedOptions, vs: VcpuTotals[], source: SourceStats | null, fetchers: FetcherStats[]): RunResult['faultBreakdownUs'] {
  const faults = vs.reduce((a, r) => a + r.faults, 0);
  if (!faults || opts.mode === 'none') return null;
  const records = fetchers.reduce((a, s) => a + s.faultRecords, 0);
  const demand = fetchers.reduce((a, s) => a + s.installedDemand, 0);
  const r1 = (x: number) => Math.round(x * 10) / 10;
  const link = new Link({ bandwidthBps: opts.bandwidthBps, latencyUs: opts.latencyUs, overheadBytes: opts.msgOverheadBytes });
  return {
    toFetcher: opts.mode === 'exit' && records ? r1(fetchers.reduce((a, s) => a + s.recordLagUsTotal, 0) / records) : 0,
    atSource: source?.requestsReceived ? r1(source.requestLagUsTotal / source.requestsReceived) : 0,
    sendQueue: source?.pagesDemand ? r1(source.demandQueueUsTotal / source.pagesDemand) : 0,
    wire:
      opts.network === 'none'
        ? 0
        : r1(
            link.serialiseUs(REQUEST_BYTES + opts.msgOverheadBytes) +
              link.serialiseUs(opts.pageSize + PAGE_HEADER_BYTES + opts.msgOverheadBytes) +
              2 * opts.latencyUs,
          ),
    toInstall: demand ? r1(fetchers.reduce((a, s) => a + s.installLagUsTotal, 0) / demand) : 0,
    toResume: r1(vs.reduce((a, r) => a + r.resumeLagUsTotal, 0) / faults),
  };
}

/** The plan's injections as the result and the report's status band show them. */
function injectionMarks(plan: Injection[]): InjectionMark[] {
  return plan.map((i) => ({ spec: formatInjection(i), tMs: i.atUs / 1000, durationMs: i.durationUs / 1000 }));
}
