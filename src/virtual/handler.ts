/**
 * The uffd handler actor, demand_paging_test's reader loop: poll() on the uffd, read() one
 * uffd_msg, decide (the model's decision), and either resolve the fault with UFFDIO_COPY /
 * CONTINUE from a local image (network 'none') or ask the source for the page (QEMU's fault thread:
 * the page then arrives for the listen or preempt thread, which installs it). Then poll again.
 */
import { decideFault, FAULT_REQUEST } from '../model/fault-decision.js';
import { PAGE_FLAG_DEMAND } from '../model/page-flags.js';
import { beginInstall, zeroFlag } from './installer.js';
import type { Thread } from './kernel.js';
import { Ph } from './phases.js';
import type { VirtualSim } from './sim.js';
import { fileRef } from './shared-lines.js';
import { pollSleep, readMessage, uffdOfHandler } from './uffd.js';

/** poll(): fdget, add itself to fd_wqh; with a message pending, remove itself and read; else sleep there. */
export function handlerPoll(sim: VirtualSim, t: Thread): void {
  const uq = uffdOfHandler(sim, t),
    c = sim.c;
  const tAdd = uq.fd.take(t.id, fileRef(uq.lines, t.id, sim.now + c.syscallUs, c), c.wqOpUs, c);
  if (uq.pendingCount > 0) {
    pollReturn(sim, t, tAdd);
    return;
  }
  pollSleep(sim, t);
  sim.schedule(tAdd, t, Ph.HPollSleep);
}

/** Asleep in poll() (the kernel: at once; the threaded engine's handlers spin first). */
export function handlerPollSleep(sim: VirtualSim, t: Thread): void {
  const uq = uffdOfHandler(sim, t);
  if (uq.pollWoken.has(t.id)) {
    pollReturn(sim, t, sim.now);
    return;
  } // triggered before it slept
  sim.park(t, sim.serviceSpinUs, Ph.HPollWoken);
}

/** Woken in poll(): take itself off fd_wqh (poll_freewait; until now a wake_up_poll still walked it), then read. */
export function handlerPollWoken(sim: VirtualSim, t: Thread): void {
  pollReturn(sim, t, sim.now);
}

function pollReturn(sim: VirtualSim, t: Thread, atUs: number): void {
  const uq = uffdOfHandler(sim, t),
    c = sim.c;
  uq.polling.delete(t.id);
  uq.pollWoken.delete(t.id);
  const tRemove = uq.fd.take(t.id, atUs, c.wqOpUs, c);
  sim.schedule(tRemove + c.pollUs, t, Ph.HRead);
}

/** read(): fdget, then one message or EAGAIN (an empty read: back to poll). */
export function handlerRead(sim: VirtualSim, t: Thread): void {
  const c = sim.c;
  const tEnd = readMessage(sim, t, fileRef(uffdOfHandler(sim, t).lines, t.id, sim.now + c.syscallUs, c)),
    v = uffdOfHandler(sim, t).readVcpu;
  if (v < 0) {
    sim.schedule(tEnd + c.readUs, t, Ph.HPoll);
    return;
  }
  t.page = sim.threads[v]!.page;
  t.flags = v; // the faulting vCPU, for the request
  sim.schedule(tEnd + c.readUs, t, Ph.HGot);
}

export function handlerGot(sim: VirtualSim, t: Thread): void {
  const st = sim.statsOf(t),
    page = t.page;
  st.uffdReads++;
  if (decideFault(sim, page, st) !== FAULT_REQUEST) {
    sim.schedule(sim.now, t, Ph.HPoll);
    return;
  }
  if (!sim.outbound) {
    beginInstall(sim, t, page, PAGE_FLAG_DEMAND | zeroFlag(sim, page), Ph.HPoll);
    return;
  }
  sim.schedule(sim.now + sim.c.postUs, t, Ph.HSent);
}
