/**
 * What the destination's service threads (the page fetcher and the uffd handlers) share in the
 * virtual engine: frames arriving for them, and going idle when there is nothing to do.
 */
import { PAGE_FLAG_ZERO, PAGE_HEADER_BYTES } from '../model/page-flags.js';
import { sweepDue } from './fetcher.js';
import { FETCHER, type Thread } from './kernel.js';
import { Ph } from './phases.js';
import type { VirtualSim } from './sim.js';
import { uffdOfHandler } from './uffd-handler.js';

/** A frame arrived for thread `t` (the fetcher, or the uffd handler that asked for it). */
export function onArrive(sim: VirtualSim, t: Thread, arg: number): void {
  t.arrivals.push(arg);
  t.arrivedUs.push(sim.now);
  const st = sim.statsOf(t);
  st.framesReceived++;
  if (arg >= 0) st.bytesReceived += PAGE_HEADER_BYTES + ((arg % 64) & PAGE_FLAG_ZERO ? 0 : sim.opts.pageSize);
  sim.notify(t);
}

/** Takes the oldest arrived frame into `t.page` / `t.flags`; false when there is none. */
export function takeArrival(t: Thread): boolean {
  if (t.arrivalHead >= t.arrivals.length) return false;
  const i = t.arrivalHead++;
  const a = t.arrivals[i]!;
  t.page = Math.floor(a / 64);
  t.flags = a % 64;
  t.arrivedAtUs = t.arrivedUs[i]!;
  if (t.arrivalHead === t.arrivals.length) { t.arrivals.length = 0; t.arrivedUs.length = 0; t.arrivalHead = 0; }
  t.afterInstall = t.kind === FETCHER ? Ph.FLoop : Ph.HLoop;
  return true;
}

/** A service thread with nothing to do: re-check for work (a notify while busy is not kept), then park. */
export function idle(sim: VirtualSim, t: Thread): void {
  const loop = t.kind === FETCHER ? Ph.FLoop : Ph.HLoop;
  if (hasWork(sim, t)) { sim.cpu(t, 0, loop); return; }
  sim.park(t, sim.serviceSpinUs, loop);
}

function hasWork(sim: VirtualSim, t: Thread): boolean {
  if (t.arrivalHead < t.arrivals.length) return true;
  if (t.kind === FETCHER) return sim.faultHead < sim.faultInbox.length || sweepDue(sim);
  return uffdOfHandler(sim, t).pendingCount > 0;
}
