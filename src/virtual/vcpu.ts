/**
 * The vCPU actor: runs its workload on the virtual clock, one event per batch of accesses to present
 * pages, and faults on a missing one. Exit mode: KVM_RUN exits with the memory_fault record, the vCPU
 * posts it to the fetcher (or, with exit resolver 'vcpu', resolves it on its own thread) and waits on
 * the page. uffd mode: handle_userfault under the queue lock, then sleep until a UFFDIO_COPY's wake.
 */
import { Errors } from '../errors.js';
import { blockEnd, vcpuRetired } from '../model/blocktime.js';
import { KC_BLOCKED_US, KC_FIELDS } from '../model/arch/counters.js';
import { FK_NONE, isFetchKind } from '../model/arch/fault-kind.js';
import type { VcpuFaults } from '../model/arch/vcpu-faults.js';
import { decideFault, FAULT_PRESENT, FAULT_REQUEST } from '../model/fault-decision.js';
import { pageOfGpa } from '../model/memslots.js';
import { PAGE_FLAG_DEMAND } from '../model/page-flags.js';
import { PAGE_PRESENT } from '../model/page-state.js';
import { latencyBucket } from '../model/stats.js';
import { Access } from '../model/uapi.js';
import type { AccessStream } from '../model/workload.js';
import { beginInstall, zeroFlag } from './installer.js';
import { BUSY, DONE, type Thread } from './kernel.js';
import { accessPage } from './oracle.js';
import { Ph } from './phases.js';
import type { VirtualSim } from './sim.js';
import { kickSource } from './source.js';
import { uffdOf } from './uffd-handler.js';
import { archFault, awaitAhead, dataFault, postAhead, retryAccess } from './vcpu-faults.js';

/** Accesses a vCPU runs per event at most (a bound on one loop; the horizon bounds it first). */
const BATCH = 4096;

export interface VcpuState {
  stream: AccessStream;
  limit: number;
  untilMigrated: boolean;
  tail: number;
  i: number;
  faults: number; faultsRead: number; faultsWrite: number; faultsExec: number;
  reads: number; writes: number; badReads: number; firstBadRead: string | null;
  faultStartUs: number;
  /** Page of the latest fault (for the event stream's decoded record). */
  lastPage: number;
  blockedUs: number;
  runUs: number;
  access: number;
  /** uffd entry: 0 none, 1 pending, 2 waiting (read by a handler). */
  entry: number;
  entryPage: number;
  /** fault-time breakdown: page installed -> running again; and exit resolver 'vcpu' installs */
  resumeLagUsTotal: number;
  selfInstalled: number;
  selfEexist: number;
  /** when the page this vCPU waits on was installed (-1: not yet) */
  installedUs: number;
  /** The architectural fault path (records, per-kind counts, the guest planner), the current record's kind, and how far a syndrome walk's pages are. */
  arch: VcpuFaults;
  faultKind: number;
  aheadAt: number;
}

export function vcpuRun(sim: VirtualSim, t: Thread): void {
  const o = sim.opts, s = sim.vcpus[t.id]!, st = sim.state;
  let horizon = sim.q.peekTimeUs();
  if (sim.coresWanted) horizon = Math.min(horizon, t.coreSinceUs + sim.sliceUs);
  const stepUs = sim.c.accessUs + o.thinkUs;
  const g = s.arch.guest; // null unless the run models the guest's architecture (walks, tags, conversions)
  let at = sim.now;
  for (let n = 0; n < BATCH; n++) {
    if (n > 0 && at >= horizon) {
      if (sim.coresWanted && at >= t.coreSinceUs + sim.sliceUs) sim.schedule(at, t, Ph.Preempt);
      else sim.schedule(at, t, Ph.VRun);
      return;
    }
    if (s.i >= s.limit || (s.untilMigrated && sim.migrationDoneUs >= 0 && s.tail-- <= 0)) { sim.now = at; vcpuFinish(sim, t); return; }
    const stream = s.stream;
    stream.next();
    let page = stream.page;
    if (page < 0) {
      page = pageOfGpa(o.memslots, o.pageSize, stream.gpa);
      if (page < 0) throw Errors.noMemslot(t.id, stream.gpa);
    }
    s.i++;
    if (g === null) {
      if (st[page] !== PAGE_PRESENT) { sim.now = at; dataFault(sim, t, s, page, stream.access); return; }
    } else {
      // A modelled guest: its walk, attributes and tags may stop the access first (vcpu-faults.ts).
      g.begin(page, stream.access);
      if (g.obstacle(sim) !== FK_NONE) { sim.now = at; archFault(sim, t, s); return; }
    }
    accessPage(sim, t.id, s, page, stream.write);
    at += stepUs;
  }
  sim.schedule(at, t, Ph.VRun);
}

export function vcpuFaultDone(sim: VirtualSim, t: Thread): void {
  const page = t.page;
  if (sim.opts.mode === 'uffd') { sim.lock(t, uffdOf(sim, page).lock, Ph.VUffdHeld); return; }
  if (sim.exitByVcpu) {
    const d = decideFault(sim, page, null);
    if (d === FAULT_REQUEST) { beginInstall(sim, t, page, PAGE_FLAG_DEMAND | zeroFlag(sim, page), Ph.VResume); return; }
    if (d === FAULT_PRESENT) { vcpuResume(sim, t); return; }
    waitOnPage(sim, t, page);
    return;
  }
  // Post the memory_fault record to the fetcher, then wait for the page.
  sim.faultInbox.push(t.id);
  sim.faultPostedUs.push(sim.now);
  const s = sim.vcpus[t.id]!;
  if (s.arch.guest !== null) postAhead(sim, t, s);
  sim.notify(sim.threads[sim.fetcher]!);
  if (sim.state[page] === PAGE_PRESENT) { vcpuResume(sim, t); return; }
  waitOnPage(sim, t, page);
}

export function waitOnPage(sim: VirtualSim, t: Thread, page: number): void {
  let w = sim.pageWaiters.get(page);
  if (!w) { w = []; sim.pageWaiters.set(page, w); }
  w.push(t.id);
  sim.park(t, sim.spinUs, Ph.VResume);
}

/** handle_userfault under the queue lock: re-check, else queue the message and poll-wake the readers. */
export function vcpuUffdHeld(sim: VirtualSim, t: Thread): void {
  const page = t.page, uq = uffdOf(sim, page), s = sim.vcpus[t.id]!, c = sim.c;
  if (sim.state[page] === PAGE_PRESENT) { sim.schedule(sim.now + c.lockHoldUs, t, Ph.VUffdCancelRel); return; }
  s.entry = 1;
  uq.pending.push(t.id);
  uq.pendingCount++;
  let w = uq.byPage.get(page);
  if (!w) { w = []; uq.byPage.set(page, w); }
  w.push(t.id);
  let polling = 0;
  for (const h of uq.handlers) if (sim.threads[h]!.state === 2 /* SLEEP */) polling++;
  sim.schedule(sim.now + c.lockHoldUs + c.enqueueUs + polling * c.wakePerEntryUs, t, Ph.VUffdRel);
}

export function vcpuUffdRel(sim: VirtualSim, t: Thread): void {
  const uq = uffdOf(sim, t.page);
  sim.unlock(uq.lock);
  for (const h of uq.handlers) sim.notify(sim.threads[h]!); // wake_up_poll: every reader polling the fd
  sim.park(t, sim.spinUs, Ph.VResume);
}

export function vcpuResume(sim: VirtualSim, t: Thread): void {
  const s = sim.vcpus[t.id]!;
  const fetched = isFetchKind(s.faultKind);
  if (fetched && sim.state[t.page] !== PAGE_PRESENT) throw new Error(`assertion failed: vCPU ${t.id} resumed with page ${t.page} missing`);
  if (fetched && awaitAhead(sim, t, s, waitOnPage)) return;
  const dUs = sim.now - s.faultStartUs;
  s.blockedUs += dUs;
  // Straight into the counters: a double passed to a call that is not inlined is boxed on the heap
  // (measured: one more scavenge per ~400 k faults when this went through VcpuFaults.done).
  s.arch.counters.c[s.faultKind * KC_FIELDS + KC_BLOCKED_US]! += dUs;
  if (s.installedUs >= 0) s.resumeLagUsTotal += sim.now - s.installedUs;
  sim.latency.record(dUs >= 0.001 ? Math.round(dUs * 1000) : 1);
  sim.events.latencyBuckets[latencyBucket(dUs)]!++;
  s.entryPage = -1;
  blockEnd(sim.blocks, sim.now);
  t.state = BUSY;
  const g = s.arch.guest;
  if (g === null) accessPage(sim, t.id, s, t.page, s.access === Access.Write); // the access that faulted, now retried
  else if (retryAccess(sim, t, s)) return; // the whole access again: the walk's next level, or the data page
  else accessPage(sim, t.id, s, g.dataPage, g.write);
  sim.cpu(t, sim.c.accessUs + sim.opts.thinkUs, Ph.VRun);
}

function vcpuFinish(sim: VirtualSim, t: Thread): void {
  const s = sim.vcpus[t.id]!;
  s.runUs = sim.now - sim.goUs;
  t.state = DONE;
  sim.vcpusDone++;
  vcpuRetired(sim.blocks, sim.now);
  sim.releaseCore(t);
  if (sim.vcpusDone === sim.opts.vcpus) {
    if (sim.outbound) kickSource(sim);
    if (sim.fetcher >= 0) sim.notify(sim.threads[sim.fetcher]!);
  }
}
