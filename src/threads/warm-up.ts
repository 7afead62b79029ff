/**
 * What a service thread does before it reports ready, so that the migration does not pay for it:
 * the simulator's own start-up cost, which would otherwise land in modelled time at the start of
 * the migration while the link idles.
 *
 * JIT warm-up. A thread's first few thousand pages run V8's unoptimised code: measured on this VM,
 * the pipeline probe's first 1024 pages cost 12-14 us each, and it took ~8 k pages to come down to
 * the steady ~0.8 us. The source and the fetcher met that at the start of every migration (the
 * first ~140 ms of an undilated 25 Gbit/s run moved pages at 14-41% of the line rate, then ~100%;
 * with the warm-up the two threads' CPU time for the first 8 k pages fell from 22-28 and 13-14 ms
 * to 9-11 and 8-9 ms). So they first push pages through the real pipeline code (pipeline-rig.ts:
 * SourceHost.serve, FrameReceiver, FaultResolver, on a small guest and a ring of their own, over a
 * link nothing waits on) until V8 has compiled it; the run's objects are of the same classes, so
 * they run the compiled code. Nothing of the rig reaches the run: its guest, ring and counters are
 * its own. Runs dilated 10-fold or more are not warmed (WARM_UP_MAX_DILATION), nor huge pages: a
 * 2 MiB copy takes ~0.3 ms, which a few us of unoptimised code per call do not change, and their
 * rig would map tens of MiB.
 *
 * Ring memory. The source maps its wire rings (WireRing.prefault), as the vCPUs map guest memory.
 *
 * The start gun waits for every service thread, and the vCPUs prefault guest memory meanwhile.
 */
import { PipelineRig } from './pipeline-rig.js';
import type { ServiceStart, WarmUpPlan } from './protocol.js';
import { WireRing } from './wire.js';

/** Pages pushed in the warm-up: past the ~8 k the probe took to reach its steady cost, with margin. */
export const WARM_UP_PAGES = 16_384;
/**
 * Then pages pushed over the run's own link: frames in flight, a receiver that waits for the next
 * one. The instant link alone left those branches cold: a 25 Gbit/s run deoptimised the receiver
 * and the doorbell's wait in its first milliseconds (V8 --trace-deopt after the start gun).
 */
export const WARM_UP_LINK_PAGES = 4096;
/** The slowest link the warm-up runs at (a slower run's warm-up runs at this): 4096 pages in ~13 ms. */
export const WARM_UP_LINK_MIN_BPS = 10e9;
/** Pages larger than this are not warmed up. */
export const WARM_UP_MAX_PAGE_BYTES = 4096;
/** The warm-up's guest, per pass (it stays in the cache, so its copies are cheap). */
export const WARM_UP_GUEST_BYTES = 2 * 1024 * 1024;
/** Its send buffer, so that its ring is the smallest one (1 MiB) and the warm-up maps little memory. */
export const WARM_UP_SEND_BUFFER_BYTES = 256 * 1024;
/**
 * Runs dilated this much or more do not warm up: the warm-up saves the source ~15 ms of wall time
 * at the start of the migration (measured above), under 1.5 ms of modelled time at D = 10, while it
 * costs every run ~0.1 s of CPU per warmed thread (measured: a default `run`, auto-dilated with its
 * probes, took 6.6% more CPU with every run warmed, 4.38 s against 3.99 s, median of 5 paired).
 */
export const WARM_UP_MAX_DILATION = 10;
/** One demanded page per this many pushed: the demand path's branches get warm too. */
const WARM_UP_DEMAND_EVERY = 32;

let warmedPageSize = 0;

/**
 * Runs the pipeline's code on the plan's rigs (pipeline-probe.ts warmUpOptions) until it is
 * compiled, once per thread and page size; returns the pages pushed (0: already warm).
 */
export function warmUpPipeline(plan: WarmUpPlan): number {
  const { rig, linkRig } = plan;
  if (warmedPageSize === rig.pageSize) return 0;
  if (rig.pageSize > WARM_UP_MAX_PAGE_BYTES) throw new Error(`assertion failed: ${rig.pageSize}-byte pages are not warmed up`);
  const pushed = push(new PipelineRig(rig, WARM_UP_DEMAND_EVERY), WARM_UP_PAGES) + push(new PipelineRig(linkRig, WARM_UP_DEMAND_EVERY), WARM_UP_LINK_PAGES);
  warmedPageSize = rig.pageSize;
  return pushed;
}

function push(pipeline: PipelineRig, pages: number): number {
  let pushed = 0;
  while (pushed < pages) {
    pipeline.pass();
    pushed += pipeline.pages;
  }
  return pushed;
}

/** A service thread's preparation before it reports ready (the engine says which threads warm up: engine.ts). */
export function prepareService(start: ServiceStart): void {
  if (start.role === 'source') for (const wire of start.shared.wireToDest) new WireRing(wire).prefault();
  if (start.warmUp) warmUpPipeline(start.warmUp);
}
