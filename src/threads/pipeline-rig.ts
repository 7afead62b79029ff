/**
 * The pipeline of pushed pages, both ends in one thread: a source host's postcopy loop (SourceHost.serve:
 * the push policy and the strategy pick each page, the send buffer queues it, emit derives it onto
 * the wire ring), the fetcher's receiver taking frames off in its batches (FrameReceiver) and
 * installing them (FaultResolver.onPage: UFFDIO_COPY, publish, count). The real code, on a guest and
 * rings of its own, over a link so fast that nothing waits (but finite, so the link model takes the
 * branches a run's does). The pipeline probe (pipeline-probe.ts) times it; the service threads'
 * warm-up (warm-up.ts) runs it so that V8 has compiled that code before the start gun.
 */
import { performance } from 'node:perf_hooks';
import { FaultResolver } from './resolver.js';
import { FrameReceiver } from './receiver.js';
import { Installer } from './installer.js';
import { prefaultMemory } from './guest-memory.js';
import { CTL_PRESENT_PAGES, PAGE_WAITERS } from './layout.js';
import { CH_BULK } from './protocol.js';
import { allocateShared, openShared } from './shared.js';
import type { SharedState } from './protocol.js';
import { SourceHost } from './source.js';
import { BULK_BATCH } from './fetcher.js';
import { WireRing } from './wire.js';
import { newFetcherStats } from '../model/stats.js';
import type { FetcherStats } from './protocol.js';
import type { ResolvedOptions } from '../options.js';

/**
 * One pass: host us per pushed page as CPU time (what the page costs the host, whatever else runs on
 * the machine) and as wall time, and the wall time's two halves (the source's derive onto the wire;
 * taking it off and installing).
 */
export interface PipelinePass {
  cpuUs: number;
  perPageUs: number;
  sourceUs: number;
  destinationUs: number;
}

/**
 * A guest and rings of its own, and per pass a fresh source and destination (the source's push
 * policy starts over; every thread's clock is a closure of its own, as each thread of a run opens
 * its views: code warmed on one clock only was measured to deoptimise on a run's, "wrong call
 * target"). Each pass resets the pages' states and pushes every page once.
 */
export class PipelineRig {
  readonly pages: number;
  readonly shared: SharedState;
  /** The fetcher's counters of the last pass (how many pages came pushed, demanded, as zero pages). */
  lastStats: FetcherStats | null = null;

  /**
   * `opts`: rigOptions() of pipeline-probe.ts (one vCPU, exit mode, a link nothing waits on, a push
   * strategy). `demandEvery` > 0: besides the push, the fetcher asks for one page every that many
   * pushed (a request frame to the source, a demanded page back, its install), so the warm-up also
   * takes the demand path's branches; the probe measures the push alone (0).
   */
  constructor(
    opts: ResolvedOptions,
    private readonly demandEvery = 0,
  ) {
    if (opts.network !== 'link' || opts.vcpus !== 1 || opts.mode !== 'exit')
      throw new Error('assertion failed: a pipeline rig is one vCPU in exit mode over a link');
    const shared = allocateShared(opts, performance.timeOrigin, { factor: 1, accessUs: 0 });
    prefaultMemory(openShared(shared).mem.slotBytes, 0, 1); // as the vCPUs do before a run: no host page fault inside an install
    new WireRing(shared.wireToDest[CH_BULK]!).prefault(); // as a run's source does before it reports ready
    this.pages = opts.pages;
    this.shared = shared;
  }

  /** Pushes every page of the guest once, each checked in as installed; what it cost per page. */
  pass(): PipelinePass {
    const { shared, pages } = this;
    const views = openShared(shared);
    views.mem.pageState.fill(0);
    views.ctl[CTL_PRESENT_PAGES] = 0;
    const host = new SourceHost({ role: 'source', shared, vcpuPorts: [], uffd: 0, handler: 0 });
    const stats = newFetcherStats('fetcher');
    const requests = this.demandEvery > 0 ? new WireRing(shared.wireToSource[CH_BULK]!) : null;
    const resolver = new FaultResolver(
      stats,
      views.mem,
      new Installer(shared, views.mem, views.ctl, views.times, views.clock, [], 1),
      views.clock,
      null,
      requests,
      views.sourceBell,
    );
    const receiver = new FrameReceiver(new WireRing(shared.wireToDest[CH_BULK]!), views.clock, views.ctl);
    this.lastStats = stats;
    const installed = () => stats.installedPushed + stats.installedDemand;
    let demanded = 0;
    let sourceMs = 0;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    // Each round: the source tops its send buffer up and puts it on the wire; the fetcher installs it in its batches.
    for (let rounds = 0; installed() < pages; rounds++) {
      if (rounds > 4 * pages + 64) throw new Error(`assertion failed: pipeline rig stalled at ${installed()} of ${pages} pages`);
      // A fault on a page spread over the guest (resolve() skips one already there or on its way).
      if (requests !== null && installed() >= demanded * this.demandEvery) {
        const page = (demanded++ * 7919) % pages;
        resolver.resolve(page, 0, 0);
        if (!views.mem.isPresent(page)) Atomics.or(views.mem.pageState, page, PAGE_WAITERS); // the faulting vCPU sleeps on it: the install wakes it
      }
      const a = performance.now();
      host.serve(views.clock.nowUs(), true);
      sourceMs += performance.now() - a;
      while (receiver.drain(resolver.onPage, undefined, BULK_BATCH) !== Infinity && installed() < pages) {
        /* the next batch is due */
      }
    }
    const totalMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    if (installed() !== pages) throw new Error(`assertion failed: pipeline rig installed ${installed()} of ${pages} pages`);
    const per = (ms: number) => (ms * 1000) / pages;
    return { cpuUs: (cpu.user + cpu.system) / pages, perPageUs: per(totalMs), sourceUs: per(sourceMs), destinationUs: per(totalMs - sourceMs) };
  }
}
