/**
 * What the threads that receive frames share in the virtual engine (the listen thread, the preempt
 * thread, a vCPU resolving its own exit): frames arriving for them; and the service threads' idling.
 */
import { PAGE_FLAG_ZERO, PAGE_HEADER_BYTES } from '../model/page-flags.js';
import { FETCHER, VCPU, type Thread } from './kernel.js';
import { Ph } from './phases.js';
import type { VirtualSim } from './sim.js';
import { flushWakes } from './installer.js';
import { frameFlags, framePage, frameVersion } from './frame.js';

/** A frame arrived for thread `t` (the fetcher, or the uffd handler that asked for it). */
export function onArrive(sim: VirtualSim, t: Thread, arg: number): void {
  if (sim.received && arg >= 0) sim.received[framePage(arg)] = 1;
  t.arrivals.push(arg);
  t.arrivedUs.push(sim.now);
  if (t.kind !== VCPU) {
    const st = sim.statsOf(t);
    st.framesReceived++;
    if (arg >= 0) st.bytesReceived += PAGE_HEADER_BYTES + (frameFlags(arg) & PAGE_FLAG_ZERO ? 0 : sim.opts.pageSize);
  }
  sim.notify(t);
}

/** Takes the oldest arrived frame into `t.page` / `t.flags`; false when there is none. */
export function takeArrival(t: Thread): boolean {
  if (t.arrivalHead >= t.arrivals.length) return false;
  const i = t.arrivalHead++;
  const a = t.arrivals[i]!;
  t.page = framePage(a);
  t.flags = frameFlags(a);
  t.version = frameVersion(a);
  t.arrivedAtUs = t.arrivedUs[i]!;
  if (t.arrivalHead === t.arrivals.length) {
    t.arrivals.length = 0;
    t.arrivedUs.length = 0;
    t.arrivalHead = 0;
  }
  t.afterInstall = Ph.FLoop;
  return true;
}

/**
 * The listen or preempt thread has nothing to do: wake what its DONTWAKE copies left unwoken,
 * re-check for work (a notify while busy is not kept), then park.
 */
export function idle(sim: VirtualSim, t: Thread): void {
  if (t.batch.length) {
    sim.schedule(flushWakes(sim, t, sim.now), t, Ph.FLoop);
    return;
  }
  if (hasWork(sim, t)) {
    sim.cpu(t, 0, Ph.FLoop);
    return;
  }
  sim.park(t, sim.serviceSpinUs, Ph.FLoop);
}

/** network 'none': once the guest is done, the fetcher copies whatever is still missing. */
export function sweepDue(sim: VirtualSim): boolean {
  return sim.opts.network === 'none' && sim.vcpusDone === sim.opts.vcpus && sim.sweepCursor < sim.pages;
}

function hasWork(sim: VirtualSim, t: Thread): boolean {
  if (t.arrivalHead < t.arrivals.length) return true;
  return t.kind === FETCHER && (sim.faultHead < sim.faultInbox.length || sweepDue(sim));
}
