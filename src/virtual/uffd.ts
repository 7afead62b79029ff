/**
 * One userfaultfd as fs/userfaultfd.c builds it, in the virtual engine: faulting threads queue on
 * fault_pending_wqh, read() refiles the oldest to fault_wqh, readers sleep in poll() on fd_wqh, and
 * the wake after a copy walks both queues. Three spinlocks, taken in the kernel's order (fd_wqh.lock
 * before fault_pending_wqh.lock); each critical section costs what the cost model says:
 *
 *   enqueue (vCPU)   pending: wqOpUs                                   then wake_up_poll:
 *                    fd: wqOpUs + walkPerWaiterUs x readers in poll() + try_to_wake_up each
 *   poll() (reader)  fd: wqOpUs to add itself, wqOpUs to remove itself
 *   read() (reader)  fd ⊃ pending: wqOpUs (take the oldest and refile, or find none: EAGAIN)
 *   wake (copier)    pending ⊃ fault: wqOpUs + walkPerWaiterUs x queued entries + ttwu per match
 */
import { uffdOfPage } from '../model/memslots.js';
import { Serial, SLEEP, type Thread } from './kernel.js';
import type { VirtualSim } from './sim.js';

/** A vCPU's entry: not queued, pending (not read yet), waiting (read, not resolved). */
export const ENTRY_NONE = 0, ENTRY_PENDING = 1, ENTRY_WAITING = 2;

export interface Uffd {
  /** fault_pending_wqh.lock (with fault_wqh.lock nested inside, held together) and fd_wqh.lock */
  pend: Serial;
  fd: Serial;
  /** Pending vCPUs in fault order (lazily cleaned: entries no longer pending are skipped). */
  pending: number[];
  pendingHead: number;
  pendingCount: number;
  waitingCount: number;
  /**
   * vCPUs queued per page (pending or waiting), in fault order: the first one's id per page, then
   * a chain through queueNext (a vCPU is queued on one page at a time), so a fault allocates nothing.
   */
  byPage: Map<number, number>;
  /** per vCPU: the next vCPU queued on the same page (-1: last), and at a page's first vCPU its last */
  queueNext: Int32Array;
  queueTail: Int32Array;
  /** the vCPU the latest read() took, or -1 (EAGAIN) */
  readVcpu: number;
  handlers: number[];
  /** readers asleep in poll() on fd_wqh */
  polling: Set<number>;
  reads: number;
  emptyReads: number;
  wakeWalks: number;
  wakeWalkEntries: number;
}

export function newUffd(k: number, vcpus: number): Uffd {
  return {
    pend: new Serial(`uffd ${k} fault_pending_wqh`), fd: new Serial(`uffd ${k} fd_wqh`), pending: [], pendingHead: 0, pendingCount: 0,
    waitingCount: 0, byPage: new Map(), queueNext: new Int32Array(vcpus), queueTail: new Int32Array(vcpus), readVcpu: -1, handlers: [], polling: new Set(), reads: 0, emptyReads: 0, wakeWalks: 0, wakeWalkEntries: 0,
  };
}

export function uffdOf(sim: VirtualSim, page: number): Uffd {
  return sim.uffds[uffdOfPage(page, sim.uffds.length, sim.pagesPerQueue)]!;
}

export function uffdOfHandler(sim: VirtualSim, t: Thread): Uffd {
  return sim.uffds[sim.handlerUffd[t.id]!]!;
}

/**
 * handle_userfault: vCPU `v` queues its fault on page `page` at `atUs` and wakes the readers in
 * poll(). Returns when the vCPU is done with both locks and goes to sleep.
 */
export function enqueueFault(sim: VirtualSim, v: number, page: number, atUs: number): number {
  const uq = uffdOf(sim, page), c = sim.c, s = sim.vcpus[v]!;
  const tPend = uq.pend.take(v, atUs, c.wqOpUs, c.lineUs);
  s.entry = ENTRY_PENDING;
  uq.pending.push(v);
  uq.pendingCount++;
  const first = uq.byPage.get(page);
  uq.queueNext[v] = -1;
  if (first === undefined) { uq.byPage.set(page, v); uq.queueTail[v] = v; } else { uq.queueNext[uq.queueTail[first]!] = v; uq.queueTail[first] = v; }
  // wake_up_poll(&ctx->fd_wqh, EPOLLIN): the waker walks every reader in poll() and wakes each.
  const readers = uq.polling.size;
  const tFd = uq.fd.take(v, tPend, c.wqOpUs + readers * c.walkPerWaiterUs + sim.ttwuCostUs(readers), c.lineUs);
  for (const h of uq.polling) sim.wakeAt(sim.threads[h]!, tFd);
  uq.polling.clear();
  return tFd;
}

/** poll() finds nothing to read: reader `t` stays on fd_wqh and sleeps. */
export function pollSleep(sim: VirtualSim, t: Thread): void {
  uffdOfHandler(sim, t).polling.add(t.id);
}

/**
 * read() at `atUs`: fd_wqh.lock, then fault_pending_wqh.lock inside it; takes the oldest pending
 * entry (O(1): list_last_entry) and refiles it to fault_wqh. Returns when both locks are released;
 * the vCPU whose message was read is left in uq.readVcpu, or -1 (EAGAIN: an empty read still took both locks).
 */
export function readMessage(sim: VirtualSim, t: Thread, atUs: number): number {
  const uq = uffdOfHandler(sim, t), c = sim.c;
  const fdStart = uq.fd.start(t.id, atUs, c.lineUs);
  const tPend = uq.pend.take(t.id, fdStart + c.wqOpUs, c.wqOpUs, c.lineUs);
  const tEnd = uq.fd.end(tPend);
  let got = -1;
  while (uq.pendingHead < uq.pending.length) {
    const v = uq.pending[uq.pendingHead++]!;
    const s = sim.vcpus[v]!;
    if (s.entry !== ENTRY_PENDING) continue; // woken while pending (a pushed page)
    s.entry = ENTRY_WAITING;
    uq.pendingCount--;
    uq.waitingCount++;
    got = v;
    break;
  }
  if (uq.pendingHead > 4096 && uq.pendingHead * 2 > uq.pending.length) { uq.pending.splice(0, uq.pendingHead); uq.pendingHead = 0; }
  if (got >= 0) uq.reads++; else uq.emptyReads++;
  uq.readVcpu = got;
  return tEnd;
}

/**
 * __wake_userfault after `pages` (one page, or a contiguous run: one UFFDIO_WAKE range) were
 * installed at `atUs` by thread `id`: under fault_pending_wqh.lock, walk every queued entry (pending
 * and waiting) and wake those in range. Skipped, as the kernel skips it, when no entry is queued.
 * Returns when the waker is done.
 */
export function wakeWalk(sim: VirtualSim, id: number, pages: number | number[], atUs: number): number {
  const first = typeof pages === 'number' ? pages : pages[0]!;
  const uq = uffdOf(sim, first), c = sim.c;
  const entries = uq.pendingCount + uq.waitingCount;
  if (entries === 0) return atUs;
  const n = typeof pages === 'number' ? 1 : pages.length;
  let sleepers = 0;
  for (let i = 0; i < n; i++) {
    for (let v = uq.byPage.get(typeof pages === 'number' ? pages : pages[i]!) ?? -1; v >= 0; v = uq.queueNext[v]!) if (sim.threads[v]!.state === SLEEP) sleepers++;
  }
  uq.wakeWalks++;
  uq.wakeWalkEntries += entries;
  const tEnd = uq.pend.take(id, atUs, c.wqOpUs + entries * c.walkPerWaiterUs + sim.ttwuCostUs(sleepers), c.lineUs);
  for (let i = 0; i < n; i++) {
    const page = typeof pages === 'number' ? pages : pages[i]!;
    let v = uq.byPage.get(page) ?? -1;
    if (v < 0) continue;
    uq.byPage.delete(page);
    for (; v >= 0; v = uq.queueNext[v]!) {
      const s = sim.vcpus[v]!;
      if (s.entry === ENTRY_PENDING) uq.pendingCount--; else if (s.entry === ENTRY_WAITING) uq.waitingCount--;
      s.entry = ENTRY_NONE;
      s.installedUs = atUs;
      sim.wakeAt(sim.threads[v]!, tEnd);
    }
  }
  return tEnd;
}
