/**
 * The uffd actors: one userfaultfd's wait queue (pending and waiting entries, its lock, the readers
 * polling it) and the handler threads that read() it, decide (the model's decision) and ask for the
 * page or copy it locally. A read takes the queue lock and scans the slots, as the threaded engine's
 * queue (src/threads/uffd-queue.ts) does.
 */
import { decideFault, FAULT_REQUEST } from '../model/fault-decision.js';
import { uffdOfPage } from '../model/memslots.js';
import { PAGE_FLAG_DEMAND } from '../model/page-flags.js';
import { beginInstall, installCopy, zeroFlag } from './installer.js';
import { newLock, type Lock, type Thread } from './kernel.js';
import { Ph } from './phases.js';
import { takeArrival } from './service.js';
import type { VirtualSim } from './sim.js';

export interface Uffd {
  lock: Lock;
  /** Pending vCPUs in fault order (lazily cleaned: entries no longer pending are skipped). */
  pending: number[];
  pendingHead: number;
  pendingCount: number;
  waitingCount: number;
  /** vCPUs queued per page (pending or waiting). */
  byPage: Map<number, number[]>;
  handlers: number[];
  slots: number;
  reads: number;
  wakeWalks: number;
  wakeWalkEntries: number;
}

export function newUffd(k: number, slots: number): Uffd {
  return {
    lock: newLock(`uffd ${k}`), pending: [], pendingHead: 0, pendingCount: 0, waitingCount: 0, byPage: new Map(), handlers: [],
    slots, reads: 0, wakeWalks: 0, wakeWalkEntries: 0,
  };
}

export function uffdOf(sim: VirtualSim, page: number): Uffd {
  return sim.uffds[uffdOfPage(page, sim.uffds.length, sim.pagesPerQueue)]!;
}

export function uffdOfHandler(sim: VirtualSim, t: Thread): Uffd {
  return sim.uffds[sim.opts.uffdPerVcpu ? t.id - sim.opts.vcpus - 1 : 0]!;
}

export function handlerLoop(sim: VirtualSim, t: Thread): void {
  if (takeArrival(t)) { installCopy(sim, t, false); return; }
  sim.lock(t, uffdOfHandler(sim, t).lock, Ph.HReadHeld); // read(): every call takes the queue lock
}

/** read() under the queue lock: take the oldest pending entry, if any. */
export function handlerReadHeld(sim: VirtualSim, t: Thread): void {
  const uq = uffdOfHandler(sim, t), c = sim.c;
  t.page = -1;
  while (uq.pendingHead < uq.pending.length) {
    const v = uq.pending[uq.pendingHead++]!;
    const s = sim.vcpus[v]!;
    if (s.entry !== 1) continue; // woken while pending (a pushed page)
    s.entry = 2;
    uq.pendingCount--;
    uq.waitingCount++;
    uq.reads++;
    t.page = sim.threads[v]!.page;
    t.flags = v;
    break;
  }
  if (uq.pendingHead > 4096 && uq.pendingHead * 2 > uq.pending.length) { uq.pending.splice(0, uq.pendingHead); uq.pendingHead = 0; }
  sim.schedule(sim.now + c.lockHoldUs + uq.slots * c.scanPerEntryUs, t, Ph.HReadRel);
}

export function handlerReadRel(sim: VirtualSim, t: Thread): void {
  sim.unlock(uffdOfHandler(sim, t).lock);
  sim.cpu(t, sim.c.readUs, t.page >= 0 ? Ph.HGot : Ph.HEmpty);
}

export function handlerGot(sim: VirtualSim, t: Thread): void {
  const st = sim.statsOf(t), page = t.page;
  st.uffdReads++;
  if (decideFault(sim, page, st) === FAULT_REQUEST) {
    if (!sim.outbound) { beginInstall(sim, t, page, PAGE_FLAG_DEMAND | zeroFlag(sim, page), Ph.HLoop); return; }
    sim.cpu(t, sim.c.postUs, Ph.HSent);
    return;
  }
  sim.cpu(t, 0, Ph.HLoop);
}
