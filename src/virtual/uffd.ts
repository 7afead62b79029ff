/**
 * One userfaultfd as fs/userfaultfd.c builds it, in the virtual engine: faulting threads queue on
 * fault_pending_wqh, read() refiles the oldest to fault_wqh, readers sleep in poll() on fd_wqh, and
 * the wake after a copy walks both queues. Three spinlocks, taken in the kernel's order (fd_wqh.lock
 * before fault_pending_wqh.lock); each critical section costs what the cost model says:
 *
 *   enqueue (vCPU)   ctx->refcount, pending: wqOpUs                    then wake_up_poll:
 *                    fd: wqOpUs + walkPerWaiterUs x readers registered on fd_wqh + try_to_wake_up
 *                    for each of them still asleep
 *   poll() (reader)  f_count, fd: wqOpUs to add itself, wqOpUs to remove itself
 *   read() (reader)  f_count, fd ⊃ pending: wqOpUs (take the oldest and refile, or find none: EAGAIN)
 *   wake (copier)    pending ⊃ fault: wqOpUs + per queued entry walkPerWaiterUs (cold) or
 *                    walkWarmUs (warm) + ttwu per match
 *
 * Poll as fs/select.c does it: a reader woken in poll() stays on fd_wqh (its entry is marked
 * triggered) until it runs again and poll_freewait takes it off, so a wake_up_poll in between walks
 * it again. A wait entry is warm for the walker that read it last when nobody wrote it since
 * (list add and delete write the entry and its neighbours): the uffd keeps, for its last walker,
 * how many queued entries others wrote since that walk (docs/kernel-model.md).
 */
import { uffdOfPage } from '../model/memslots.js';
import { SLEEP, type Thread } from './kernel.js';
import { OPS_PER_USE } from './shared-lines.js';
import type { VirtualSim } from './sim.js';
import { ENTRY_NONE, ENTRY_PENDING, ENTRY_WAITING, type Uffd } from './uffd-state.js';

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
  const uq = uffdOf(sim, page),
    c = sim.c,
    s = sim.vcpus[v]!;
  const tRef = uq.lines.ctxRef.line(v, atUs, OPS_PER_USE, c); // userfaultfd_ctx_get (the put after the wake)
  const tPend = uq.pend.take(v, tRef, c.wqOpUs, c);
  // __add_wait_queue writes the new entry and the old first entry (its prev): both cold for a walker
  touchEntries(uq, v, uq.pendingCount + uq.waitingCount > 0 ? 2 : 1);
  s.entry = ENTRY_PENDING;
  s.queuedOnUffd = true;
  uq.pending.push(v);
  uq.pendingCount++;
  const first = uq.byPage.get(page);
  uq.queueNext[v] = -1;
  if (first === undefined) {
    uq.byPage.set(page, v);
    uq.queueTail[v] = v;
  } else {
    uq.queueNext[uq.queueTail[first]!] = v;
    uq.queueTail[first] = v;
  }
  // wake_up_poll(&ctx->fd_wqh, EPOLLIN): the waker walks every reader registered there (pollwake
  // writes each entry's `triggered`: a remote line) and try_to_wake_up wakes those still asleep.
  // (index loops over the uffd's readers: no iterator per fault)
  const readers = uq.polling.size,
    hs = uq.handlers;
  let sleepers = 0;
  if (readers > 0) for (let i = 0; i < hs.length; i++) if (uq.polling.has(hs[i]!) && sim.threads[hs[i]!]!.state === SLEEP) sleepers++;
  const tFd = uq.fd.take(v, tPend, c.wqOpUs + readers * c.walkPerWaiterUs + sim.ttwuCostUs(sleepers), c);
  if (readers > 0) {
    for (let i = 0; i < hs.length; i++) {
      const h = hs[i]!;
      if (!uq.polling.has(h)) continue;
      uq.pollWoken.add(h);
      sim.wakeAt(sim.threads[h]!, tFd);
    }
  }
  return tFd;
}

/** Thread `id` wrote `n` queued entries (list add / delete / refile): cold for the last walker unless it is `id`. */
function touchEntries(uq: Uffd, id: number, n: number): void {
  if (id === uq.lastWalker) return;
  uq.coldEntries += n;
}

/** poll() finds nothing to read: reader `t` stays on fd_wqh and sleeps. */
export function pollSleep(sim: VirtualSim, t: Thread): void {
  uffdOfHandler(sim, t).polling.add(t.id);
}

/**
 * read() at `atUs`: fd_wqh.lock, then fault_pending_wqh.lock inside it; takes the oldest pending
 * entry (O(1): list_last_entry) and refiles it to fault_wqh. Returns when both locks are released;
 * the vCPU whose message was read, or -1 (EAGAIN: an empty read still took both locks), is left in
 * the uffd's readVcpu (no array per read).
 */
export function readMessage(sim: VirtualSim, t: Thread, atUs: number): number {
  const uq = uffdOfHandler(sim, t),
    c = sim.c;
  const fdStart = uq.fd.start(t.id, atUs, c);
  const queuedBefore = uq.pendingCount + uq.waitingCount;
  const tPend = uq.pend.take(t.id, fdStart + c.wqOpUs, c.wqOpUs, c);
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
  if (uq.pendingHead > 4096 && uq.pendingHead * 2 > uq.pending.length) {
    uq.pending.splice(0, uq.pendingHead);
    uq.pendingHead = 0;
  }
  // the refile: list_del from fault_pending_wqh (the entry, both neighbours), list_add on fault_wqh (its first entry)
  if (got >= 0) touchEntries(uq, t.id, Math.min(queuedBefore, 4));
  if (got >= 0) uq.reads++;
  else uq.emptyReads++;
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
  const uq = uffdOf(sim, first),
    c = sim.c;
  const entries = uq.pendingCount + uq.waitingCount;
  if (entries === 0) return atUs;
  const n = typeof pages === 'number' ? 1 : pages.length;
  let sleepers = 0;
  for (let i = 0; i < n; i++) {
    for (let v = uq.byPage.get(typeof pages === 'number' ? pages : pages[i]!) ?? -1; v >= 0; v = uq.queueNext[v]!)
      if (sim.threads[v]!.state === SLEEP) sleepers++;
  }
  uq.wakeWalks++;
  uq.wakeWalkEntries += entries;
  // Entries this walker read on its last walk and nobody wrote since are still in its cache.
  const cold = id === uq.lastWalker ? Math.min(uq.coldEntries, entries) : entries;
  uq.walkColdEntries += cold;
  uq.lastWalker = id;
  uq.coldEntries = 0;
  const walkUs = cold * c.walkPerWaiterUs + (entries - cold) * c.walkWarmUs;
  const tEnd = uq.pend.take(id, atUs, c.wqOpUs + walkUs + sim.ttwuCostUs(sleepers), c);
  for (let i = 0; i < n; i++) {
    const page = typeof pages === 'number' ? pages : pages[i]!;
    let v = uq.byPage.get(page) ?? -1;
    if (v < 0) continue;
    uq.byPage.delete(page);
    for (; v >= 0; v = uq.queueNext[v]!) {
      const s = sim.vcpus[v]!;
      if (s.entry === ENTRY_PENDING) uq.pendingCount--;
      else if (s.entry === ENTRY_WAITING) uq.waitingCount--;
      s.entry = ENTRY_NONE;
      s.installedUs = atUs;
      sim.wakeAt(sim.threads[v]!, tEnd);
    }
  }
  return tEnd;
}
