/**
 * The page fetcher: QEMU's postcopy listen thread, which installs the bulk stream (pushed pages, and
 * demanded ones in vanilla postcopy), and in exit mode with the fetcher resolver also reads the
 * vCPUs' fault records, decides (the model's decision) and asks the source. With network 'none' it
 * copies the rest of memory once the guest is done. The preempt-channel thread runs the same loop on
 * the urgent channel's frames only.
 */
import { decideFault, FAULT_REQUEST } from '../model/fault-decision.js';
import { PAGE_FLAG_DEMAND } from '../model/page-flags.js';
import { PAGE_MISSING, PAGE_PRESENT } from '../model/page-state.js';
import { beginInstall, zeroFlag } from './installer.js';
import { FETCHER, type Thread } from './kernel.js';
import { Ph } from './phases.js';
import type { VirtualSim } from './sim.js';
import { idle, sweepDue, takeArrival } from './service.js';
import { DISCARD_ARRIVAL, kickSource } from './source.js';

export function fetcherLoop(sim: VirtualSim, t: Thread): void {
  const st = sim.statsOf(t);
  if (t.kind === FETCHER && sim.faultHead < sim.faultInbox.length) {
    const i = sim.faultHead++;
    const v = sim.faultInbox[i]!;
    const postedUs = sim.faultPostedUs[i]!; // < 0: -1 - page, a page riding with the record before (a syndrome walk)
    if (postedUs >= 0) st.recordLagUsTotal += sim.now - postedUs; // vCPU exit -> the fetcher reads the record
    t.page = sim.faultPage[i]!; // the page in the record (the vCPU may have moved on since)
    if (sim.faultHead > 4096 && sim.faultHead * 2 > sim.faultInbox.length) {
      sim.faultInbox.splice(0, sim.faultHead);
      sim.faultPostedUs.splice(0, sim.faultHead);
      sim.faultPage.splice(0, sim.faultHead);
      sim.faultHead = 0;
    }
    t.flags = v; // the faulting vCPU, for the request
    sim.cpu(t, postedUs >= 0 ? sim.c.receiveUs : 0, Ph.FFault);
    return;
  }
  if (t.arrivalHead < t.arrivals.length && t.arrivals[t.arrivalHead] === DISCARD_ARRIVAL) {
    takeArrival(t);
    // Dropping a stale copy is priced as a zero-page install (unmapping and zeroing a page).
    sim.cpu(t, sim.c.receiveUs + sim.source.stale.length * sim.c.zeropageUs, Ph.FDiscard);
    return;
  }
  if (takeArrival(t)) {
    sim.cpu(t, sim.c.receiveUs, Ph.InstStart);
    return;
  }
  if (t.kind === FETCHER && sweepDue(sim)) {
    while (sim.sweepCursor < sim.pages && sim.state[sim.sweepCursor] !== PAGE_MISSING) sim.sweepCursor++;
    if (sim.sweepCursor < sim.pages) {
      const p = sim.sweepCursor++;
      sim.claim(p);
      beginInstall(sim, t, p, zeroFlag(sim, p), Ph.FLoop);
      return;
    }
  }
  idle(sim, t);
}

export function fetcherFault(sim: VirtualSim, t: Thread): void {
  const page = t.page;
  if (decideFault(sim, page, sim.statsOf(t)) === FAULT_REQUEST) {
    if (!sim.outbound) {
      beginInstall(sim, t, page, PAGE_FLAG_DEMAND | zeroFlag(sim, page), Ph.FLoop);
      return;
    }
    sim.cpu(t, sim.c.postUs, Ph.FSent);
    return;
  }
  sim.cpu(t, 0, Ph.FLoop);
}

/**
 * Hybrid's switch reached the destination: forget every stale copy (QEMU's postcopy discard), then
 * the guest starts here and the source's postcopy phase begins with the stale pages unsent.
 */
export function applyDiscards(sim: VirtualSim, t: Thread): void {
  const stale = sim.source.stale;
  const st = sim.statsOf(t);
  // The injected bug lose-discard (as the threaded fetcher's): the switch's first discard is lost.
  const lost = sim.opts.injectBug === 'lose-discard' && stale.length > 0 ? 1 : 0;
  for (let i = lost; i < stale.length; i++) {
    const p = stale[i]!;
    if (sim.state[p] !== PAGE_PRESENT) continue;
    sim.state[p] = PAGE_MISSING;
    sim.presentPages--;
    sim.map.forget(p, sim.arrivalMs![p]!, sim.arrivalHow![p]!);
    sim.marks.markCell(sim.map.cellOf(p));
    st.discarded++;
  }
  sim.policy!.resetTo(stale);
  // The guest resumes here with the source's memory as it stopped: every page's version at the switch.
  sim.expVer.set(sim.source.rounds!.versions);
  sim.precopy = false;
  if (sim.presentPages === sim.pages) sim.migrationDoneUs = sim.now; // nothing went stale
  sim.startGuest();
  kickSource(sim);
  sim.cpu(t, 0, Ph.FLoop);
}
