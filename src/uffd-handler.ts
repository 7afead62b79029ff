/**
 * A userfaultfd handler thread (demand_paging_test's uffd_handler_thread_fn): it reads uffd_msg
 * records from its uffd's shared queue, asks the source for each faulted page on its own channel,
 * and resolves the fault with UFFDIO_COPY when the page arrives (copy, publish, wake every thread
 * queued on it). A page already requested by another handler or already pushed is not asked for
 * again; a copy that finds the page present is EEXIST, harmless and counted.
 */
import { assert } from './errors.js';
import { WireRing } from './wire.js';
import { HOLD_SPIN_US } from './doorbell.js';
import { EEXIST } from './guest-memory.js';
import { Installer } from './installer.js';
import { CTL_ABORT, CTL_STOP } from './layout.js';
import { packr, FRAME_REQUEST, PAGE_FLAG_DEMAND, PAGE_FLAG_ZERO, type FetcherStats, type PageRequestFrame, type ServiceStart } from './protocol.js';
import { FrameReceiver } from './receiver.js';
import { LocalImage } from './source-image.js';
import { awaitStartGun, handlerBell, openShared, pagesPerUffd } from './shared.js';
import { readUffdAddress, UFFD_MSG_BYTES, UFFD_MSG_PF_FLAGS, UFFD_MSG_PF_PTID } from './uapi.js';
import { CH_HANDLER0 } from './source.js';

export function runUffdHandler(start: ServiceStart): FetcherStats {
  const views = openShared(start.shared);
  const { opts, clock, mem, ctl, times, queues, sourceBell } = views;
  const q = queues[start.uffd]!;
  const bell = handlerBell(q);
  const installer = new Installer(start.shared, mem, ctl, times, clock, queues, pagesPerUffd(opts));
  const channel = CH_HANDLER0 + start.handler;
  const local = opts.network === 'none' ? new LocalImage(views.image, opts.pageSize) : null;
  const toSource = local ? null : new WireRing(start.shared.wireToSourceSabs[channel]!);
  const receiver = local ? null : new FrameReceiver(new WireRing(start.shared.wireToDestSabs[channel]!), clock, ctl);
  const msgWords = new Int32Array(UFFD_MSG_BYTES >> 2);
  const msg = new DataView(msgWords.buffer);
  const request: PageRequestFrame = [FRAME_REQUEST, 0, 0, 0];
  const stats: FetcherStats = {
    role: 'handler', faultRecords: 0, requestsSent: 0, mergedFaults: 0, alreadyPresent: 0, installedDemand: 0,
    installedPushed: 0, installedZero: 0, eexist: 0, framesReceived: 0, bytesReceived: 0, requestBytesSent: 0, uffdReads: 0, sleeps: 0,
    discarded: 0, overwritten: 0, recordLagUsTotal: 0, installLagUsTotal: 0,
  };
  const onPage = (page: number, flags: number, words: Int32Array, wordAt: number, arriveUs = -1): void => {
    if (installer.install(page, words, wordAt, flags) === EEXIST) { stats.eexist++; return; }
    if (flags & PAGE_FLAG_ZERO) stats.installedZero++;
    if (flags & PAGE_FLAG_DEMAND) {
      stats.installedDemand++;
      // How long a demanded page that had arrived (per the link model) waited for this thread.
      if (arriveUs >= 0) stats.installLagUsTotal += Math.max(0, clock.nowUs() - arriveUs);
    } else stats.installedPushed++;
  };

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
      stats.faultRecords++;
      const page = mem.pageOfGpa(readUffdAddress(msg, 0));
      request[2] = msg.getUint32(UFFD_MSG_PF_PTID, true);
      request[3] = msg.getUint32(UFFD_MSG_PF_FLAGS, true);
      if (mem.markRequested(page)) {
        if (local) { onPage(page, local.fill(page), local.words, 0); continue; }
        request[1] = page;
        const bytes = packr.pack(request);
        assert(toSource!.write(bytes, null, clock.nowUs()), 'request ring full');
        stats.requestsSent++;
        stats.requestBytesSent += bytes.byteLength;
        sourceBell.ring();
      } else if (mem.isPresent(page)) stats.alreadyPresent++;
      else stats.mergedFaults++;
      continue;
    }
    const now = clock.nowUs();
    const timeoutUs = nextArriveUs === Infinity ? 20_000 : Math.max(0, nextArriveUs - now);
    bell.wait(seen, timeoutUs <= HOLD_SPIN_US ? timeoutUs : opts.serviceSpinUs, timeoutUs, clock.nowUs); // see fetcher.ts
  }
  stats.sleeps = bell.sleeps;
  stats.framesReceived = receiver?.frames ?? 0;
  stats.bytesReceived = receiver?.bytes ?? 0;
  return stats;
}
