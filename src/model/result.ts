/**
 * What a run reports: the `--json` object of `postcopy-sim run` and the value of simulate().
 * Names follow QEMU's postcopy metrics where they mean the same (blocktime, vcpu blocktime).
 */
import type { LatencySummaryUs } from '../histogram.js';
import type { FetcherStats, SourceStats, UffdLockStats } from './stats.js';
import type { RecoveryResult } from './impairments.js';
import type { FaultRecordsSummary } from './arch/counters.js';
import type { FaultKindName } from './arch/fault-kind.js';

export interface TimelineSample {
  /** ms since the vCPUs started */
  tMs: number;
  /** guest accesses completed by all vCPUs so far */
  accesses: number;
  faults: number;
  presentPages: number;
  blockedVcpus: number;
}

/** Guest memory in `cells` groups of `pagesPerCell` pages: mean arrival time and how they came. */
export interface PageMap {
  cells: number;
  pagesPerCell: number;
  /** mean ms after the start at which the cell's pages arrived (0 for pages present from the start) */
  arrivalMs: number[];
  /** fraction of the cell's pages that were demand-fetched (the rest pushed) */
  demand: number[];
  /** fraction of the cell's pages that travelled as zero pages */
  zero?: number[];
}

/**
 * Time dilation (docs/dilation.md). The threaded engine runs every modelled duration D
 * times slower on the wall and reports modelled time, so its own cost shrinks D-fold in every time
 * it reports; the virtual engine's time is virtual already and reports factor 1.
 */
export interface DilationReport {
  /** D: one modelled microsecond lasted D wall microseconds. */
  factor: number;
  /** D was chosen by `auto` from the simulator's costs measured at start. */
  auto: boolean;
  /** Modelled guest compute per access the vCPUs were paced to (us); 0 when not paced (D = 1). */
  accessUs: number;
  /** The simulator's own costs measured at start (wall us): a fault's round trip, a pushed page, a guest access. */
  measuredUs: { fault: number; page: number; access: number } | null;
  /** The modelled fault latency the share is held against: one page's round trip on the link (us). */
  modelledFaultUs: number;
  /** measuredUs.fault / D / modelledFaultUs: the simulator's share of a fault, predicted at start. */
  predictedShare: number | null;
  /** Measured in this run: the simulator threads' part of a demand fault (faultBreakdownUs) / modelledFaultUs. */
  share: number | null;
  /**
   * Measured in this run: the fraction of the migration during which the wire stood idle while a
   * frame waited to go, because the source thread came late (the host did not give it a core in
   * time). 0 in the virtual engine.
   */
  linkStallShare: number | null;
  /** Wall time the run was expected to take, at start (ms). */
  wallEstimateMs: number | null;
  /** Auto dilation: the wall budget the migration was held to (ms); null when D was set or not needed. */
  wallBudgetMs: number | null;
  /** Auto dilation: the budget capped D below what 5% of a fault needed (the share is then above 5%). */
  budgetBound: boolean;
  /** Auto dilation: the D the probes said 5% of a fault needs (the budget may have allowed less); null otherwise. */
  neededFactor: number | null;
}

export interface RunResult {
  engine: 'threads' | 'virtual';
  /** Time dilation: D and how much of a fault the simulator's own cost still is. */
  dilation: DilationReport;
  /** What ran it: the engine, the virtual engine's cost profile (null for threads) and cores, and the fault-path options. */
  engineInfo: { engine: 'threads' | 'virtual'; profile: string | null; cores: number; uffdMode: 'missing' | 'minor'; exitResolver: 'fetcher' | 'vcpu' };
  mode: 'exit' | 'uffd' | 'none';
  strategy: string;
  vcpus: number;
  handlers: number;
  uffdQueues: number;
  workload: string;
  writeRatio: number;
  partition: boolean;
  pageSize: number;
  pages: number;
  memoryBytes: number;
  memslots: number;
  bandwidthBps: number | null;
  latencyUs: number;
  seed: number;
  accesses: number;
  faults: number;
  faultsByFlags: { read: number; write: number; exec: number };
  /** Faults resolved per second of guest time (all vCPUs). */
  faultsPerSec: number;
  /** demand_paging_test's figures: total guest time, per-vCPU and overall paging rate. */
  guestMs: number;
  perVcpuPagesPerSec: number;
  faultLatencyUs: LatencySummaryUs;
  /** postcopy-blocktime: time all running vCPUs were blocked at once. */
  blocktimeMs: number;
  /** postcopy-vcpu-blocktime: per vCPU, total time blocked on faults. */
  vcpuBlocktimeMs: number[];
  /** From the first byte sent (precopy start for hybrid) to the last page present. */
  migrationMs: number;
  /** hybrid: time spent in precopy rounds, and the switch's downtime (guest stopped on both sides). */
  precopyMs: number;
  downtimeMs: number;
  precopyRounds: number;
  /** hybrid: pages sent again because the guest dirtied them during precopy */
  pagesResent: number;
  /** hybrid: pages whose destination copy went stale before the switch */
  pagesDiscarded: number;
  /** pages a strategy sent along with a demanded page (stride) */
  pagesPrefetched: number;
  /** demanded pages that went on the urgent channel (preempt) */
  pagesUrgent: number;
  pagesDemand: number;
  pagesPushed: number;
  zeroPages: number;
  /** Faults that found their page already requested (merged into the request in flight). */
  mergedFaults: number;
  /** Copies that found the page already there (EEXIST): duplicate or wasted transfers. */
  duplicatePages: number;
  requests: number;
  requestsForSentPages: number;
  /**
   * Where a demand fault's time goes (means, us): exit -> the fetcher reads the record (exit mode),
   * request at the source -> handled, queued behind bytes on the link (= demandQueueUs.mean), the
   * modelled wire (request + page), page arrived -> installed, installed -> vCPU running again.
   * The first and last two are the simulator's own threads; the middle two are what it models.
   */
  faultBreakdownUs?: { toFetcher: number; atSource: number; sendQueue: number; wire: number; toInstall: number; toResume: number } | null;
  /** Mean / max time a demanded page waited behind bytes already queued on the link. */
  demandQueueUs: { mean: number; max: number };
  bytesOnWire: number;
  bytesToDest: number;
  bytesToSource: number;
  linkUtilisation: number | null;
  peakRssBytes: number;
  wallMs: number;
  uffd: UffdLockStats | null;
  verified: boolean;
  verifyErrors: string[];
  /** Latency CDF points (us, fraction) and QEMU's postcopy-latency-dist buckets. */
  latencyCdf: Array<[number, number]>;
  latencyDist: number[];
  timeline: TimelineSample[];
  /** The guest's access rate with all memory present (compare, run --baseline), and the
   *  time-weighted slowdown during postcopy against it (0: none, 1: stalled); null when not measured. */
  baselineAccessesPerSec: number | null;
  degradation: number | null;
  /** The memory map: when and how each group of pages arrived (null when not collected). */
  pageMap: PageMap | null;
  /** Injections and postcopy recovery: the states the run went through and what recovery cost (null: no injection). */
  recovery: RecoveryResult | null;
  /**
   * The architecture's fault records (src/model/arch/): per fault kind (read, write, exec, walk, mte,
   * convert) the records handed to userspace, the round trips and pages they cost, local resolutions,
   * blocked time, what a syndrome-carrying record would have saved, and what a uffd handler loses.
   */
  faultRecords: FaultRecordsSummary;
  /** With recordFaultOrder: per vCPU, every fault record in order, as [kind, gpa]. */
  faultOrder?: Array<Array<[FaultKindName, number]>> | null;
  /** With recordSendOrder: the page frames the source sent, in order, as [page, frame flags]. */
  sendOrder?: Array<[number, number]> | null;
  /** Raw counters of the service threads (source host, page fetcher, uffd handlers). */
  services: Array<SourceStats | FetcherStats>;
}
