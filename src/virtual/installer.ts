/**
 * The install actor, run by whichever thread installs a page (the fetcher, a uffd handler, a vCPU
 * resolving its own exit): take the mm line, copy (UFFDIO_COPY; a zero page costs a quarter), then
 * publish and wake: exit mode's waiters on the page, and in uffd mode the queue's wake walk under
 * its lock. A copy that finds the page present is EEXIST, counted.
 */
import { ARRIVED_DEMAND, ARRIVED_PUSHED, ARRIVED_ZERO } from '../model/page-map.js';
import { PAGE_FLAG_DEMAND, PAGE_FLAG_PRECOPY, PAGE_FLAG_ZERO } from '../model/page-flags.js';
import { PAGE_PRESENT } from '../model/page-state.js';
import { isZeroPage } from '../model/rng.js';
import { countInstalled } from '../model/stats.js';
import { HANDLER, VCPU, type Thread } from './kernel.js';
import { GARBAGE } from './oracle.js';
import { Ph } from './phases.js';
import type { VirtualSim } from './sim.js';
import { uffdOf } from './uffd-handler.js';

/** Thread-local flag: this install published its page before the copy (the broken variant). */
const EARLY = 64;

export function zeroFlag(sim: VirtualSim, page: number): number {
  return isZeroPage(sim.opts.seed, page, sim.opts.zeroFraction) ? PAGE_FLAG_ZERO : 0;
}

export function beginInstall(sim: VirtualSim, t: Thread, page: number, flags: number, after: number): void {
  t.page = page;
  t.flags = flags;
  t.afterInstall = after;
  t.arrivedAtUs = -1;
  installCopy(sim, t, false);
}

/** Step 1 (mmDone false): take the mm line; step 2: the copy itself. */
export function installCopy(sim: VirtualSim, t: Thread, mmDone: boolean): void {
  if (!mmDone && sim.c.mmHoldUs > 0) { sim.lock(t, sim.mm, Ph.InstMmHeld); return; }
  if (mmDone && sim.c.mmHoldUs > 0) sim.unlock(sim.mm);
  const zero = (t.flags & PAGE_FLAG_ZERO) !== 0;
  const cost = t.kind === HANDLER || t.kind === VCPU ? sim.copyUs : sim.installUs;
  const gapUs = sim.state[t.page] === PAGE_PRESENT ? 0 : sim.opts.unsafePublishBeforeCopyUs;
  if (gapUs > 0) { t.flags |= EARLY; publish(sim, t, true); } // the deliberate bug: visible before its bytes
  sim.cpu(t, (zero ? cost / 4 : cost) + gapUs, Ph.InstPublish);
}

export function installPublish(sim: VirtualSim, t: Thread): void {
  const page = t.page;
  if (t.flags & EARLY) {
    t.flags &= ~EARLY;
    sim.memVer[page] = 0; // the bytes land now: the source's version (guest writes in the gap are lost)
    installWake(sim, t);
    return;
  }
  if (sim.state[page] === PAGE_PRESENT && (t.flags & PAGE_FLAG_PRECOPY)) { // a precopy round resends a dirtied page
    sim.statsOf(t).overwritten++;
    sim.cpu(t, 0, t.afterInstall);
    return;
  }
  if (sim.state[page] === PAGE_PRESENT) { // EEXIST: someone installed it first
    if (t.kind !== VCPU) sim.statsOf(t).eexist++; else sim.vcpus[t.id]!.selfEexist++;
    sim.cpu(t, 0, t.afterInstall);
    return;
  }
  publish(sim, t, false);
  installWake(sim, t);
}

/** The page becomes present (with `garbage`: before its bytes, the broken variant). */
function publish(sim: VirtualSim, t: Thread, garbage: boolean): void {
  const page = t.page;
  sim.state[page] = PAGE_PRESENT;
  sim.memVer[page] = garbage ? GARBAGE : 0;
  sim.presentPages++;
  const how = ((t.flags & PAGE_FLAG_DEMAND) ? ARRIVED_DEMAND : ARRIVED_PUSHED) | ((t.flags & PAGE_FLAG_ZERO) ? ARRIVED_ZERO : 0);
  const ms = Math.max(0.001, sim.now / 1000);
  sim.events.markCell(sim.map.record(page, ms, how));
  if (sim.arrivalMs) { sim.arrivalMs[page] = ms; sim.arrivalHow![page] = how; }
  if (t.kind !== VCPU) {
    const st = sim.statsOf(t);
    countInstalled(st, t.flags);
    if ((t.flags & PAGE_FLAG_DEMAND) && t.arrivedAtUs >= 0) st.installLagUsTotal += sim.now - t.arrivedAtUs;
  } else sim.vcpus[t.id]!.selfInstalled++;
  if (sim.presentPages === sim.pages && sim.migrationDoneUs < 0 && !sim.precopy) sim.migrationDoneUs = sim.now;
  const w = sim.pageWaiters.get(page);
  if (w) {
    sim.pageWaiters.delete(page);
    for (const v of w) { sim.vcpus[v]!.installedUs = sim.now; sim.notify(sim.threads[v]!); }
  }
  if (sim.uffds.length) for (const v of uffdOf(sim, page).byPage.get(page) ?? []) sim.vcpus[v]!.installedUs = sim.now;
}

/** The wake after UFFDIO_COPY: under the queue lock, walk every queued entry (skipped when none). */
function installWake(sim: VirtualSim, t: Thread): void {
  if (sim.uffds.length) {
    const uq = uffdOf(sim, t.page);
    if (uq.pendingCount + uq.waitingCount > 0) { sim.lock(t, uq.lock, Ph.InstWakeHeld); return; }
  }
  sim.cpu(t, 0, t.afterInstall);
}

export function installWakeHeld(sim: VirtualSim, t: Thread): void {
  const uq = uffdOf(sim, t.page), c = sim.c;
  const entries = uq.pendingCount + uq.waitingCount;
  uq.wakeWalks++;
  uq.wakeWalkEntries += entries;
  sim.schedule(sim.now + c.lockHoldUs + entries * c.wakePerEntryUs, t, Ph.InstWakeRel);
}

export function installWakeRel(sim: VirtualSim, t: Thread): void {
  const uq = uffdOf(sim, t.page);
  const w = uq.byPage.get(t.page);
  if (w) {
    uq.byPage.delete(t.page);
    for (const v of w) {
      const s = sim.vcpus[v]!;
      if (s.entry === 1) uq.pendingCount--; else if (s.entry === 2) uq.waitingCount--;
      s.entry = 0;
      sim.notify(sim.threads[v]!);
    }
  }
  sim.unlock(uq.lock);
  sim.cpu(t, 0, t.afterInstall);
}
