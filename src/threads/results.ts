/**
 * The end of a threaded run: its totals handed to the model's result builder (src/model/run-result.ts),
 * and mode none's prefilled memory (every page present before the guest starts).
 */
import { availableParallelism } from 'node:os';
import { peakRssBytes } from '../rss.js';
import type { PlannedDilation } from './dilation.js';
import type { GuestMemory } from './guest-memory.js';
import { mergeHistograms } from '../histogram.js';
import { buildResult } from '../model/run-result.js';
import { sumUffdLockStats } from '../model/stats.js';
import {
  CTL_MIGRATION_DONE,
  CTL_PRESENT_PAGES,
  PAGE_PRESENT,
  TIME_ALL_BLOCKED_TOTAL_US,
  TIME_GO_US,
  TIME_MIGRATION_DONE_US,
  TIME_MIGRATION_START_US,
  TIME_SWITCH_START_US,
} from './layout.js';
import type { ResolvedOptions } from '../options.js';
import type { FetcherStats, ServiceReport, SharedState, SourceStats, VcpuReport, VerifyReport } from './protocol.js';
import type { RunResult, TimelineSample } from '../model/result.js';
import type { openShared } from './shared.js';
import { pageMap } from './observe.js';

/** The threaded engine's totals, handed to the model's result builder (src/model/run-result.ts). */
export function buildThreadsResult(
  opts: ResolvedOptions,
  reports: VcpuReport[],
  services: ServiceReport[],
  verify: VerifyReport[],
  views: ReturnType<typeof openShared>,
  timeline: TimelineSample[],
  wallMs: number,
  shared: SharedState,
  planned: PlannedDilation,
): RunResult {
  const { times } = views;
  const source = services.find((s): s is SourceStats => s.role === 'source') ?? null;
  const fetchers = services.filter((s): s is FetcherStats => s.role !== 'source' && s.role !== 'error');
  return buildResult({
    engine: 'threads',
    opts,
    vcpus: reports,
    latency: mergeHistograms(reports.map((r) => r.latency)),
    source,
    fetchers,
    uffd: sumUffdLockStats(views.queues.map((q) => q.stats())),
    uffdQueues: views.queues.length,
    proof: {
      pagesNotPresent: verify.reduce((a, r) => a + r.pagesNotPresent, 0),
      pagesWrong: verify.reduce((a, r) => a + r.pagesWrong, 0),
      firstProblem: verify.find((r) => r.firstProblem)?.firstProblem ?? null,
    },
    blocktimeUs: times[TIME_ALL_BLOCKED_TOTAL_US]!,
    migrationStartUs: times[TIME_MIGRATION_START_US]!,
    migrationDoneUs: times[TIME_MIGRATION_DONE_US]!,
    switchStartUs: times[TIME_SWITCH_START_US]!,
    goUs: times[TIME_GO_US]!,
    timeline,
    pageMap: pageMap(opts, shared),
    wallMs,
    peakRssBytes: peakRssBytes(),
    dilation: planned.report,
    engineInfo: { profile: null, cores: availableParallelism() },
    recovery: source?.recovery ?? null,
    liveInjections: source?.liveInjections,
  });
}

/** No postcopy: the whole image is on the destination before the guest starts (the bench's ceiling). */
export function prefill(mem: GuestMemory, views: ReturnType<typeof openShared>): void {
  const { image, ctl, times } = views;
  // Mode none has no source and no precopy: every page is at version 0.
  for (let page = 0; page < mem.pages; page++) {
    const slot = mem.slotOfPage(page);
    image.fillPage(page, mem.slotWords[slot]!, mem.pageWordBase(page, slot));
    mem.pageState[page] = PAGE_PRESENT;
  }
  ctl[CTL_PRESENT_PAGES] = mem.pages;
  ctl[CTL_MIGRATION_DONE] = 1;
  times[TIME_MIGRATION_DONE_US] = 0;
}
