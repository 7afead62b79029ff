/**
 * Host time per pushed page: the source deriving a page onto the wire ring (SourceHost.emit), the
 * receiver taking it off (FrameReceiver), the fetcher installing it (FaultResolver.onPage:
 * UFFDIO_COPY, publish, count). The real code of both ends, run in one thread over an instant link
 * so nothing waits: what one page costs the host, summed over the pipeline's stages, as the CPU time
 * the process spent (on a shared machine the wall time also holds the time others had the core).
 * Used by `auto` time dilation (src/threads/dilation.ts) and the `pipeline` bench scenario; the rig
 * it runs is pipeline-rig.ts, which the service threads' JIT warm-up (warm-up.ts) runs too.
 */
import { PipelineRig, type PipelinePass } from './pipeline-rig.js';
import { WARM_UP_GUEST_BYTES, WARM_UP_LINK_MIN_BPS, WARM_UP_MAX_PAGE_BYTES, WARM_UP_SEND_BUFFER_BYTES, warmUpPipeline } from './warm-up.js';
import type { WarmUpPlan } from './protocol.js';
import { resolveOptions, type ResolvedOptions } from '../options.js';
import { strategyTraits, type StrategyName } from '../model/strategies/index.js';

export type { PipelinePass };

/**
 * 10 Tbit/s, the fastest link --bandwidth allows: a page's frame takes 3 ns of it, so nothing waits,
 * yet the link model serialises and keeps its spans as it does on any modelled link (an unlimited
 * one skips those branches, which a run then met cold).
 */
const RIG_BANDWIDTH_BPS = 10e12;

/** What may differ between rigs: the ring's size, the share of zero pages, the push strategy. */
export interface RigShape {
  sendBufferBytes?: number;
  zeroFraction?: number;
  strategy?: StrategyName;
  /** A modelled link instead of the instant one: frames arrive in the future, so the receiver waits. */
  link?: { bandwidthBps: number; latencyUs: number };
}

/**
 * The options of a pipeline rig: one vCPU in exit mode, a link nothing waits on, every page pushed
 * once; by default none of them zero, a run's send buffer, the linear push.
 */
export function rigOptions(pageSize: number, memoryBytes: number, shape: RigShape = {}): ResolvedOptions {
  return resolveOptions({
    vcpus: 1,
    memory: memoryBytes,
    pageSize,
    mode: 'exit',
    network: 'link',
    bandwidth: shape.link?.bandwidthBps ?? RIG_BANDWIDTH_BPS,
    latency: shape.link ? `${shape.link.latencyUs}us` : 0,
    zeroFraction: shape.zeroFraction ?? 0,
    strategy: shape.strategy ?? 'linear',
    writeRatio: 0,
    timeDilation: 1,
    ...(shape.sendBufferBytes === undefined ? {} : { sendBuffer: shape.sendBufferBytes }),
  });
}

/**
 * The rig a run's service threads warm up on (warm-up.ts), or undefined for pages too large to warm:
 * a small guest and the smallest ring, the run's share of zero pages and its push strategy when that
 * is one a rig can run (one that pushes while the guest runs, without precopy, with its demanded
 * pages on the bulk stream the rig's fetcher reads), so the warmed code has taken the run's branches;
 * and the same rig over the run's link (at least WARM_UP_LINK_MIN_BPS, so that it takes milliseconds),
 * where frames arrive in the future and the receiver waits for them, as in a run.
 */
export function warmUpOptions(run: Pick<ResolvedOptions, 'pageSize' | 'zeroFraction' | 'strategy' | 'bandwidthBps' | 'latencyUs'>): WarmUpPlan | undefined {
  if (run.pageSize > WARM_UP_MAX_PAGE_BYTES) return undefined;
  const t = strategyTraits(run.strategy);
  const strategy = t.pushWhileGuestRuns && !t.precopy && !t.urgentChannel ? run.strategy : 'linear';
  const shape: RigShape = { sendBufferBytes: WARM_UP_SEND_BUFFER_BYTES, zeroFraction: run.zeroFraction, strategy };
  const bandwidthBps = Number.isFinite(run.bandwidthBps) ? Math.max(run.bandwidthBps, WARM_UP_LINK_MIN_BPS) : RIG_BANDWIDTH_BPS;
  return {
    rig: rigOptions(run.pageSize, WARM_UP_GUEST_BYTES, shape),
    linkRig: rigOptions(run.pageSize, WARM_UP_GUEST_BYTES, { ...shape, link: { bandwidthBps, latencyUs: run.latencyUs } }),
  };
}

/** Median over `reps` passes of host (CPU) microseconds per pushed page of `pageSize` bytes. */
export function measurePipelineUs(pageSize: number, memoryBytes = 64 * 1024 * 1024, reps = 3): number {
  const passes = measurePipeline(pageSize, memoryBytes, reps)
    .map((p) => p.cpuUs)
    .sort((a, b) => a - b);
  return passes[passes.length >> 1]!;
}

/**
 * `reps` passes over a guest of `memoryBytes`, every page pushed once per pass, after the JIT warm-up
 * a service thread does before the start gun (warm-up.ts; pages too large to warm get one pass
 * first, not reported): what is measured is the steady state a run's pages see, not the first
 * pages' unoptimised code (measured 4-14 us per page for the first few thousand, which a guest of a
 * few MiB per pass had mostly inside its median).
 */
export function measurePipeline(pageSize: number, memoryBytes: number, reps: number): PipelinePass[] {
  const rig = new PipelineRig(rigOptions(pageSize, memoryBytes));
  const warm = warmUpOptions({ pageSize, zeroFraction: 0, strategy: 'linear', bandwidthBps: RIG_BANDWIDTH_BPS, latencyUs: 0 });
  if (warm) warmUpPipeline(warm);
  else rig.pass();
  const passes: PipelinePass[] = [];
  for (let r = 0; r < reps; r++) passes.push(rig.pass());
  return passes;
}
