/**
 * Host time per pushed page: the source deriving a page onto the wire ring (SourceHost.emit), the
 * receiver taking it off (FrameReceiver), the fetcher installing it (FaultResolver.onPage:
 * UFFDIO_COPY, publish, count). The real code of both ends, run in one thread over an instant link
 * so nothing waits: what one page costs the host, summed over the pipeline's stages, as the CPU time
 * the process spent (on a shared machine the wall time also holds the time others had the core).
 * Used by `auto` time dilation (src/threads/dilation.ts) and the `pipeline` bench scenario.
 */
import { performance } from 'node:perf_hooks';
import { FaultResolver } from './resolver.js';
import { FrameReceiver } from './receiver.js';
import { Installer } from './installer.js';
import { prefaultMemory } from './guest-memory.js';
import { CTL_PRESENT_PAGES } from './layout.js';
import { CH_BULK, type ServiceStart } from './protocol.js';
import { allocateShared, openShared } from './shared.js';
import { SourceHost } from './source.js';
import { WireRing } from './wire.js';
import { newFetcherStats } from '../model/stats.js';
import { resolveOptions } from '../options.js';

/** Frames published per batch, as the source's transmit loop looks at requests every 16 frames. */
const BATCH = 16;

/**
 * One pass: host us per pushed page as CPU time (what the page costs the host, whatever else runs on
 * the machine) and as wall time, and the wall time's two halves (the source's derive onto the wire;
 * taking it off and installing).
 */
export interface PipelinePass { cpuUs: number; perPageUs: number; sourceUs: number; destinationUs: number }

/** Median over `reps` passes of host (CPU) microseconds per pushed page of `pageSize` bytes. */
export function measurePipelineUs(pageSize: number, memoryBytes = 64 * 1024 * 1024, reps = 3): number {
  const passes = measurePipeline(pageSize, memoryBytes, reps).map((p) => p.cpuUs).sort((a, b) => a - b);
  return passes[passes.length >> 1]!;
}

/** `reps` passes over a guest of `memoryBytes`, every page pushed once per pass. */
export function measurePipeline(pageSize: number, memoryBytes: number, reps: number): PipelinePass[] {
  const opts = resolveOptions({
    vcpus: 1, memory: memoryBytes, pageSize, mode: 'exit', network: 'link', bandwidth: 'unlimited', latency: 0, zeroFraction: 0,
    strategy: 'linear', writeRatio: 0, timeDilation: 1,
  });
  const shared = allocateShared(opts, performance.timeOrigin, { factor: 1, accessUs: 0 });
  const views = openShared(shared);
  prefaultMemory(views.mem.slotBytes, 0, 1); // as the vCPUs do before a run: no host page fault inside an install
  // One source and one destination for every pass, as a run has: only the pages are reset.
  const start: ServiceStart = { role: 'source', shared, vcpuPorts: [], uffd: 0, handler: 0 };
  const ring = new WireRing(shared.wireToDest[CH_BULK]!);
  const ends: Ends = {
    host: new SourceHost(start),
    resolver: new FaultResolver(newFetcherStats('fetcher'), views.mem, new Installer(shared, views.mem, views.ctl, views.times, views.clock, [], 1),
      views.clock, null, null, views.sourceBell),
    receiver: new FrameReceiver(ring, views.clock, views.ctl),
    batch: Math.max(1, Math.min(BATCH, ring.slots >> 1)), // huge pages: a ring of a few slots
  };
  // One pass first, not reported: a run's first ~16 k pages run partly unoptimised (JIT warm-up,
  // measured 4-5 us per page, then 2-3), and the steady state is what a page costs.
  const passes: PipelinePass[] = [];
  for (let r = -1; r < reps; r++) {
    views.mem.pageState.fill(0);
    views.ctl[CTL_PRESENT_PAGES] = 0;
    const pass = onePass(ends, views, opts.pages);
    if (r >= 0) passes.push(pass);
  }
  return passes;
}

interface Ends { host: SourceHost; resolver: FaultResolver; receiver: FrameReceiver; batch: number }

function onePass({ host, resolver, receiver, batch }: Ends, views: ReturnType<typeof openShared>, pages: number): PipelinePass {
  const installedBefore = resolver.stats.installedPushed;
  let sourceMs = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let p = 0; p < pages; p += batch) {
    const now = views.clock.nowUs();
    const end = Math.min(pages, p + batch);
    const a = performance.now();
    for (let q = p; q < end; q++) if (!host.emit(q, 0, CH_BULK, 0, false, now, now)) throw new Error('assertion failed: pipeline probe ring full');
    host.flush();
    sourceMs += performance.now() - a;
    receiver.drain(resolver.onPage);
  }
  const totalMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const installed = resolver.stats.installedPushed - installedBefore;
  if (installed !== pages) throw new Error(`assertion failed: pipeline probe installed ${installed} of ${pages} pages`);
  const per = (ms: number) => (ms * 1000) / pages;
  return { cpuUs: (cpu.user + cpu.system) / pages, perPageUs: per(totalMs), sourceUs: per(sourceMs), destinationUs: per(totalMs - sourceMs) };
}
