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
import { decideFault, FAULT_PRESENT, FAULT_REQUEST } from '../model/fault-decision.js';
import { pageOfGpa } from '../model/memslots.js';
import { PAGE_FLAG_DEMAND } from '../model/page-flags.js';
import { PAGE_PRESENT } from '../model/page-state.js';
import { latencyBucket } from '../model/stats.js';
import { Access } from '../model/uapi.js';
import { beginInstall, zeroFlag } from './installer.js';
import { BUSY, DONE, type Thread } from './kernel.js';
import { accessPage } from './oracle.js';
import { Ph } from './phases.js';
import type { VirtualSim } from './sim.js';
import { kickSource, sendRequest } from './source.js';
import { takeArrival } from './service.js';
import { OPS_PER_USE } from './shared-lines.js';
import { enqueueFault, uffdOf } from './uffd.js';
import { ENTRY_NONE } from './uffd-state.js';
import { archFault, awaitAhead, dataFault, postAhead, retryAccess } from './vcpu-faults.js';

/** Accesses a vCPU runs per event at most, and the virtual time one event may cover. */
const BATCH = 4096;
const LOOKAHEAD_US = 1000;

/**
 * The guest runs: accesses to present pages in one event, up to BATCH of them or LOOKAHEAD_US of
 * virtual time. They need no event each: a present page stays present and the oracle's versions do
 * not depend on the order of accesses, so nothing another thread does meanwhile changes them. The
 * first access to a missing page is taken at its own time (VTouch), where it is looked at again.
 */
export function vcpuRun(sim: VirtualSim, t: Thread): void {
  runFrom(sim, t, sim.now);
}

function runFrom(sim: VirtualSim, t: Thread, startUs: number): void {
  const o = sim.opts,
    s = sim.vcpus[t.id]!,
    st = sim.state;
  const sliceEndUs = sim.coresWanted ? t.coreSinceUs + sim.sliceUs : Infinity;
  const g = s.arch.guest; // null unless the run models the guest's architecture (walks, tags, conversions)
  // A modelled guest's walks read other pages' state as they go: it looks no further than the next event.
  const endUs = Math.min(startUs + LOOKAHEAD_US, sliceEndUs, g === null ? Infinity : Math.max(startUs, sim.q.peekTimeUs()));
  const stepUs = sim.c.accessUs + o.thinkUs;
  let at = startUs;
  for (let n = 0; n < BATCH; n++) {
    if (n > 0 && at >= endUs) {
      sim.schedule(at, t, at >= sliceEndUs ? Ph.Preempt : Ph.VRun);
      return;
    }
    const stream = s.stream;
    if (s.held)
      s.held = false; // drawn last event; its gap has passed
    else {
      if (s.i >= s.limit || (s.untilMigrated && sim.migrationDoneUs >= 0 && s.tail-- <= 0)) {
        sim.schedule(at, t, Ph.VFinish);
        return;
      }
      stream.next();
      if (stream.gapUs > 0) {
        // a trace's recorded guest time before this access
        at += stream.gapUs;
        if (at >= endUs) {
          s.held = true;
          sim.schedule(at, t, at >= sliceEndUs ? Ph.Preempt : Ph.VRun);
          return;
        }
      }
    }
    let page = stream.page;
    if (page < 0) {
      page = pageOfGpa(o.memslots, o.pageSize, stream.gpa);
      if (page < 0) throw Errors.noMemslot(t.id, stream.gpa);
    }
    s.i++;
    if (g === null) {
      if (st[page] !== PAGE_PRESENT) {
        t.page = page;
        s.access = stream.access;
        if (at === sim.now) dataFault(sim, t, s, page, stream.access);
        else sim.schedule(at, t, Ph.VTouch);
        return;
      }
    } else {
      // A modelled guest: its walk, attributes and tags may stop the access first (vcpu-faults.ts).
      g.begin(page, stream.access);
      if (g.obstacle(sim) !== FK_NONE) {
        sim.now = at;
        archFault(sim, t, s);
        return;
      }
    }
    accessPage(sim, t.id, s, page, stream.write);
    at += stepUs;
  }
  sim.schedule(at, t, Ph.VRun);
}

/** The access to a page that was missing when the guest got there in the look-ahead: fault, unless it arrived since. */
export function vcpuTouch(sim: VirtualSim, t: Thread): void {
  const s = sim.vcpus[t.id]!;
  if (sim.state[t.page] !== PAGE_PRESENT) {
    dataFault(sim, t, s, t.page, s.access);
    return;
  }
  accessPage(sim, t.id, s, t.page, s.access === Access.Write);
  runFrom(sim, t, sim.now + sim.c.accessUs + sim.opts.thinkUs);
}

/**
 * uffd: the slow GUP under mmap_lock (the NOWAIT try, KVM's look at the VMA after it fails, the
 * blocking one) ends in handle_userfault: re-check, queue on the uffd and wake its readers, then
 * sleep. Each mmap_read_lock is its own use of the count's line. A use that had to wait for the line
 * or move it ends later than it began, and the next one is taken as an event at that time: cores
 * that asked in between are served first and take the line away (the second use pays again). Only
 * a use that found the line still here runs straight on, as nothing could come between.
 */
export function vcpuGup(sim: VirtualSim, t: Thread): void {
  sim.vcpus[t.id]!.gupLeft = sim.c.mmapLocksPerUffdFault - 1; // the last use is the retry after the wake
  vcpuGupNext(sim, t);
}

export function vcpuGupNext(sim: VirtualSim, t: Thread): void {
  const c = sim.c,
    s = sim.vcpus[t.id]!;
  let at = sim.now;
  while (s.gupLeft > 0) {
    at = sim.mm.line(t.id, at, c.mmapLockLines, c);
    s.gupLeft--;
    if (at > sim.now && s.gupLeft > 0) {
      sim.schedule(at, t, Ph.VGupNext);
      return;
    }
  }
  if (sim.state[t.page] === PAGE_PRESENT) {
    sim.schedule(at, t, Ph.VRetry);
    return;
  } // userfaultfd_must_wait: no
  sim.schedule(enqueueFault(sim, t.id, t.page, at), t, Ph.VSleep);
}

/** Asleep in handle_userfault until a copy's wake walk finds it (unless that already happened). */
export function vcpuSleep(sim: VirtualSim, t: Thread): void {
  if (sim.vcpus[t.id]!.entry === ENTRY_NONE) {
    sim.schedule(sim.now, t, Ph.VRetry);
    return;
  }
  sim.park(t, sim.spinUs, Ph.VRetry);
}

/**
 * uffd: handle_userfault drops its ctx reference (userfaultfd_ctx_put), then the fault is retried
 * from the top: the GUP under mmap_lock finds the page, KVM maps it.
 */
export function vcpuRetry(sim: VirtualSim, t: Thread): void {
  const c = sim.c;
  const tPut = sim.vcpus[t.id]!.queuedOnUffd ? uffdOf(sim, t.page).lines.ctxRef.line(t.id, sim.now, OPS_PER_USE, c) : sim.now;
  sim.vcpus[t.id]!.queuedOnUffd = false;
  const at = sim.mm.line(t.id, tPut, c.mmapLockLines, c);
  sim.schedule(sim.mmu.line(t.id, at, c.mmuLockLines, c), t, Ph.VResume);
}

/** exit mode: KVM_RUN returned with the exit; resolve it here, or post it to the page fetcher. */
export function vcpuFaultDone(sim: VirtualSim, t: Thread): void {
  const page = t.page;
  if (sim.exitByVcpu) {
    const d = decideFault(sim, page, null);
    if (d === FAULT_REQUEST) {
      if (!sim.outbound) {
        beginInstall(sim, t, page, PAGE_FLAG_DEMAND | zeroFlag(sim, page), Ph.VReenter);
        return;
      }
      sim.cpu(t, sim.c.postUs, Ph.VRequest); // ask the source; the page comes back to this thread
      return;
    }
    if (d === FAULT_PRESENT) {
      vcpuReenter(sim, t);
      return;
    }
    waitOnPage(sim, t, page);
    return;
  }
  // Post the memory_fault record to the fetcher, then wait for the page.
  sim.faultInbox.push(t.id);
  sim.faultPostedUs.push(sim.now);
  sim.faultPage.push(page);
  const s = sim.vcpus[t.id]!;
  if (s.arch.guest !== null) postAhead(sim, t, s);
  sim.notify(sim.threads[sim.fetcher]!);
  if (sim.state[page] === PAGE_PRESENT) {
    vcpuReenter(sim, t);
    return;
  }
  waitOnPage(sim, t, page);
}

/**
 * exit resolver 'vcpu' over a link: the request went out; sleep until the page arrives for this
 * thread, or until another thread installs it first (a push already on its way: it waits on the
 * page too).
 */
export function vcpuRequested(sim: VirtualSim, t: Thread): void {
  sendRequest(sim, t);
  waitOnPage(sim, t, t.page, Ph.VArrived);
}

/** Woken: install the page that came for it, or go on if someone else installed it. */
export function vcpuArrived(sim: VirtualSim, t: Thread): void {
  const s = sim.vcpus[t.id]!,
    page = s.entryPage;
  while (takeArrival(t)) {
    if (t.page === page && sim.state[page] !== PAGE_PRESENT) {
      beginInstall(sim, t, page, t.flags, Ph.VReenter, t.version);
      return;
    }
    s.selfEexist++; // a frame for a page another thread installed first: a duplicate transfer
  }
  t.page = page;
  if (sim.state[page] === PAGE_PRESENT) {
    vcpuReenter(sim, t);
    return;
  }
  sim.park(t, 0, Ph.VArrived);
}

export function waitOnPage(sim: VirtualSim, t: Thread, page: number, resume: number = Ph.VReenter): void {
  // Installed meanwhile (a push landed while this thread posted its request): its wake has gone by,
  // so do not sleep, as Atomics.wait returns at once on a page-state word that has already changed.
  if (sim.state[page] === PAGE_PRESENT) {
    sim.schedule(sim.now, t, resume);
    return;
  }
  let w = sim.pageWaiters.get(page);
  if (!w) {
    w = [];
    sim.pageWaiters.set(page, w);
  }
  w.push(t.id);
  sim.park(t, sim.spinUs, resume);
}

/** exit mode: KVM_RUN entered again; the fault retried maps the page under mmu_lock. */
export function vcpuReenter(sim: VirtualSim, t: Thread): void {
  const c = sim.c;
  sim.schedule(sim.mmu.line(t.id, sim.now + c.reentryUs, c.mmuLockLines, c), t, Ph.VResume);
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
  sim.marks.latencyBuckets[latencyBucket(dUs)]!++;
  s.entryPage = -1;
  blockEnd(sim.blocks, sim.now);
  t.state = BUSY;
  const g = s.arch.guest;
  if (g === null)
    accessPage(sim, t.id, s, t.page, s.access === Access.Write); // the access that faulted, now retried
  else if (retryAccess(sim, t, s))
    return; // the whole access again: the walk's next level, or the data page
  else accessPage(sim, t.id, s, g.dataPage, g.write);
  if (!t.hasCore || g !== null) {
    sim.cpu(t, sim.c.accessUs + sim.opts.thinkUs, Ph.VRun);
    return;
  }
  runFrom(sim, t, sim.now + sim.c.accessUs + sim.opts.thinkUs);
}

export function vcpuFinish(sim: VirtualSim, t: Thread): void {
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
