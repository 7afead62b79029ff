/**
 * The install actor, run by whichever thread installs a page (the listen thread, the preempt
 * thread, a uffd handler with a local image, a vCPU resolving its own exit, or with no userfault the
 * vCPU's own GUP, src/virtual/first-touch.ts): the mmap_lock line,
 * the ioctl (UFFDIO_COPY, _ZEROPAGE for a zero page, or _CONTINUE with --uffd-mode minor; its cost
 * grows with the threads copying at once), publish, then the wake: in uffd mode the wake walk
 * (src/virtual/uffd.ts), or with --wake-batch N one UFFDIO_WAKE per run of contiguous pages after N
 * DONTWAKE copies; exit mode's waiters sleep on the page and are woken one by one. A copy that finds
 * the page present is EEXIST, counted.
 */
import { ARRIVED_DEMAND, ARRIVED_PUSHED, ARRIVED_ZERO } from '../model/page-map.js';
import { PAGE_FLAG_DEMAND, PAGE_FLAG_PRECOPY, PAGE_FLAG_ZERO } from '../model/page-flags.js';
import { PAGE_PRESENT } from '../model/page-state.js';
import { isZeroPage } from '../model/rng.js';
import { countInstalled } from '../model/stats.js';
import { perPage } from './costs.js';
import { SLEEP, VCPU, type Thread } from './kernel.js';
import { GARBAGE } from './oracle.js';
import { Ph } from './phases.js';
import type { VirtualSim } from './sim.js';
import { fileRef, mfillLines } from './shared-lines.js';
import { uffdOf, wakeWalk } from './uffd.js';

/** Thread-local flag: this install published its page before the copy (the broken variant). */
const EARLY = 64;

export function zeroFlag(sim: VirtualSim, page: number): number {
  return isZeroPage(sim.opts.seed, page, sim.opts.zeroFraction) ? PAGE_FLAG_ZERO : 0;
}

/** An install of `page`; `version` is the source's version the copy holds (0: a local copy, no precopy). */
export function beginInstall(sim: VirtualSim, t: Thread, page: number, flags: number, after: number, version = 0): void {
  t.page = page;
  t.flags = flags;
  t.version = version;
  t.afterInstall = after;
  t.arrivedAtUs = -1;
  installCopy(sim, t);
}

/** What one install's ioctl costs now, with `others` threads copying at the same time. */
function ioctlUs(sim: VirtualSim, flags: number, others: number): number {
  const c = sim.c,
    o = sim.opts;
  if (flags & PAGE_FLAG_PRECOPY && sim.precopy) return perPage(c.memcpyUs, o.pageSize); // straight into RAM, before userfaultfd
  if (sim.noUserfault) return perPage(c.copyUs + others * c.copyPerCopierUs, o.pageSize); // do_anonymous_page: allocate, zero, map
  if (o.uffdMode === 'minor') return perPage(c.continueUs + others * c.continuePerCopierUs, o.pageSize);
  if (flags & PAGE_FLAG_ZERO) return perPage(c.zeropageUs, o.pageSize);
  return perPage(c.copyUs + others * c.copyPerCopierUs, o.pageSize);
}

/**
 * The ioctl's shared lines (the uffd file's f_count, mm_users, the VMA's lock, map_changing_lock:
 * src/virtual/shared-lines.ts), then the fill itself. Exit mode fills through the one uffd of the
 * guest's memory (demand_paging_test -a: UFFDIO_CONTINUE from the vCPU's own thread).
 */
export function installCopy(sim: VirtualSim, t: Thread): void {
  const c = sim.c;
  const precopy = (t.flags & PAGE_FLAG_PRECOPY) !== 0 && sim.precopy;
  let at = sim.now;
  if (sim.noUserfault)
    at = sim.mm.line(t.id, at, c.mmapLockLines, c); // the kernel's own fill, inside the GUP under mmap_read_lock (src/virtual/first-touch.ts)
  else if (!precopy) {
    const u = sim.uffds.length ? uffdOf(sim, t.page).lines : sim.lines.exitUffd;
    at = mfillLines(sim, u, t.id, fileRef(u, t.id, sim.now + c.syscallUs, c), c);
  }
  const gapUs = sim.state[t.page] === PAGE_PRESENT ? 0 : sim.opts.unsafePublishBeforeCopyUs;
  if (gapUs > 0) {
    t.flags |= EARLY;
    publish(sim, t, true);
  } // the deliberate bug: visible before its bytes
  const cost = ioctlUs(sim, t.flags, sim.copiers);
  sim.copiers++;
  sim.schedule(at + cost + gapUs, t, Ph.InstPublish);
}

export function installPublish(sim: VirtualSim, t: Thread): void {
  const page = t.page;
  sim.copiers--;
  if (t.flags & EARLY) {
    t.flags &= ~EARLY;
    sim.memVer[page] = t.version; // the bytes land now: the frame's version (guest writes in the gap are lost)
    sim.schedule(wake(sim, t), t, t.afterInstall);
    return;
  }
  if (sim.state[page] === PAGE_PRESENT && t.flags & PAGE_FLAG_PRECOPY) {
    // a precopy round resends a dirtied page
    sim.statsOf(t).overwritten++;
    sim.memVer[page] = t.version; // the resent copy replaces the old one
    sim.schedule(sim.now, t, t.afterInstall);
    return;
  }
  if (sim.state[page] === PAGE_PRESENT) {
    // EEXIST: someone installed it first
    if (t.kind !== VCPU) sim.statsOf(t).eexist++;
    else sim.vcpus[t.id]!.selfEexist++;
    sim.schedule(sim.now, t, t.afterInstall);
    return;
  }
  publish(sim, t, false);
  sim.continueAt(wake(sim, t), t, t.afterInstall);
}

/** The page becomes present (with `garbage`: before its bytes, the broken variant). */
function publish(sim: VirtualSim, t: Thread, garbage: boolean): void {
  const page = t.page;
  sim.state[page] = PAGE_PRESENT;
  sim.memVer[page] = garbage ? GARBAGE : t.version;
  sim.presentPages++;
  const how = (t.flags & PAGE_FLAG_DEMAND ? ARRIVED_DEMAND : ARRIVED_PUSHED) | (t.flags & PAGE_FLAG_ZERO ? ARRIVED_ZERO : 0);
  const ms = Math.max(0.001, sim.now / 1000);
  sim.marks.markCell(sim.map.record(page, ms, how));
  if (sim.arrivalMs) {
    sim.arrivalMs[page] = ms;
    sim.arrivalHow![page] = how;
  }
  if (t.kind !== VCPU) {
    const st = sim.statsOf(t);
    countInstalled(st, t.flags);
    if (t.flags & PAGE_FLAG_DEMAND && t.arrivedAtUs >= 0) st.installLagUsTotal += sim.now - t.arrivedAtUs;
  } else sim.vcpus[t.id]!.selfInstalled++;
  if (sim.presentPages === sim.pages && sim.migrationDoneUs < 0 && !sim.precopy) sim.migrationDoneUs = sim.now;
}

/** Wakes whoever waits on the page; returns when the installing thread is done with it. */
function wake(sim: VirtualSim, t: Thread): number {
  const page = t.page;
  let at = sim.now;
  const w = sim.pageWaiters.get(page);
  if (w) {
    // exit mode: vCPUs asleep on the page (a futex each), woken one by one
    sim.pageWaiters.delete(page);
    let sleepers = 0;
    for (const v of w) if (sim.threads[v]!.state === SLEEP) sleepers++;
    at += sim.ttwuCostUs(sleepers);
    for (const v of w) {
      sim.vcpus[v]!.installedUs = sim.now;
      sim.wakeAt(sim.threads[v]!, at);
    }
  }
  if (!sim.uffds.length || sim.precopy) return at;
  if (sim.opts.wakeBatch <= 1 || t.kind === VCPU) return wakeWalk(sim, t.id, page, at);
  // DONTWAKE: the page joins this thread's batch; one UFFDIO_WAKE per contiguous run when it is full.
  t.batch.push(page);
  if (t.batch.length < sim.opts.wakeBatch && t.arrivalHead < t.arrivals.length) return at;
  return flushWakes(sim, t, at);
}

/** UFFDIO_WAKE for the batched pages: one ioctl and one walk per run of contiguous pages. */
export function flushWakes(sim: VirtualSim, t: Thread, atUs: number): number {
  const b = t.batch,
    c = sim.c;
  let at = atUs;
  for (let i = 0; i < b.length; ) {
    let j = i + 1;
    while (j < b.length && b[j] === b[j - 1]! + 1) j++;
    at = wakeWalk(sim, t.id, b.slice(i, j), at + c.syscallUs + c.uffdWakeUs);
    i = j;
  }
  b.length = 0;
  return at;
}
