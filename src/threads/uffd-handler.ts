/**
 * A userfaultfd handler thread (demand_paging_test's uffd_handler_thread_fn): it reads uffd_msg
 * records from its uffd's shared queue, asks the source for each faulted page on its own channel,
 * and resolves the fault with UFFDIO_COPY when the page arrives (copy, publish, wake every thread
 * queued on it). A page already requested by another handler or already pushed is not asked for
 * again; a copy that finds the page present is EEXIST, harmless and counted.
 */
import { WireRing } from './wire.js';
import { HOLD_SPIN_US, IDLE_WALL_US } from './doorbell.js';
import { Installer } from './installer.js';
import { CTL_ABORT, CTL_STOP } from './layout.js';
import { CH_HANDLER0, type FetcherStats, type ServiceStart } from './protocol.js';
import { FaultResolver } from './resolver.js';
import { newFetcherStats } from '../model/stats.js';
import { pagesPerUffd } from '../model/memslots.js';
import { FrameReceiver } from './receiver.js';
import { LocalImage } from '../model/image.js';
import { awaitStartGun, handlerBell, openShared } from './shared.js';
import { readUffdAddress, UFFD_MSG_BYTES, UFFD_MSG_PF_FLAGS, UFFD_MSG_PF_PTID } from '../model/uapi.js';

export function runUffdHandler(start: ServiceStart): FetcherStats {
  const views = openShared(start.shared);
  const { opts, clock, mem, ctl, times, queues, sourceBell } = views;
  const q = queues[start.uffd]!;
  const bell = handlerBell(q);
  const installer = new Installer(start.shared, mem, ctl, times, clock, queues, pagesPerUffd(opts));
  const channel = CH_HANDLER0 + start.handler;
  const local = opts.network === 'none' ? new LocalImage(views.image, opts.pageSize) : null;
  const toSource = local ? null : new WireRing(start.shared.wireToSource[channel]!);
  const receiver = local ? null : new FrameReceiver(new WireRing(start.shared.wireToDest[channel]!), clock, ctl);
  const msgWords = new Int32Array(UFFD_MSG_BYTES >> 2);
  const msg = new DataView(msgWords.buffer);
  const resolver = new FaultResolver(newFetcherStats('handler'), mem, installer, clock, local, toSource, sourceBell);
  const { stats, onPage } = resolver;

  awaitStartGun(ctl);
  while (Atomics.load(ctl, CTL_STOP) === 0 && Atomics.load(ctl, CTL_ABORT) === 0) {
    const seen = bell.snapshot();
    if (opts.injectFault === 'handler-dies' && stats.uffdReads >= 1) throw new Error('injected fault: uffd handler crashed');
    let nextArriveUs = Infinity;
    if (receiver) {
      const framesBefore = receiver.frames;
      nextArriveUs = receiver.drain(onPage);
      if (receiver.frames !== framesBefore) sourceBell.ring(); // ring space freed
    }
    // read(): one uffd_msg per call, as demand_paging_test's handler reads; then look at arrivals again.
    if (q.read(msgWords, 0) >= 0) {
      stats.uffdReads++;
      resolver.resolve(mem.pageOfGpa(readUffdAddress(msg, 0)), msg.getUint32(UFFD_MSG_PF_PTID, true), msg.getUint32(UFFD_MSG_PF_FLAGS, true));
      continue;
    }
    const now = clock.nowUs();
    // The next frame is due in modelled time; the wait is wall time, D times longer.
    const timeoutUs = nextArriveUs === Infinity ? IDLE_WALL_US : Math.min(IDLE_WALL_US, Math.max(0, nextArriveUs - now) * clock.dilation);
    bell.wait(seen, timeoutUs <= HOLD_SPIN_US / clock.dilation ? timeoutUs : opts.serviceSpinUs, timeoutUs, clock.wallUs); // see fetcher.ts
  }
  stats.sleeps = bell.sleeps;
  stats.framesReceived = receiver?.frames ?? 0;
  stats.bytesReceived = receiver?.bytes ?? 0;
  return stats;
}
