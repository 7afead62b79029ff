/**
 * A userfaultfd handler thread (demand_paging_test's uffd_handler_thread_fn, QEMU's fault thread):
 * it reads uffd_msg records from its uffd's shared queue and decides (the model's decision). With a
 * local image (network 'none') it resolves the fault itself with UFFDIO_COPY; over a link it asks
 * the source on its own channel, and the page comes back to the listen or preempt thread, which
 * installs it and wakes the queue (src/model/delivery.ts). A page already requested or pushed is not
 * asked for again.
 */
import { WireRing } from './wire.js';
import { IDLE_WALL_US } from './doorbell.js';
import { Installer } from './installer.js';
import { CTL_ABORT, CTL_HANDLERS_CRASHED, CTL_STOP, TIME_MIGRATION_START_US } from './layout.js';
import { CH_HANDLER0, type FetcherStats, type ServiceStart } from './protocol.js';
import { FaultResolver } from './resolver.js';
import { newFetcherStats } from '../model/stats.js';
import { pagesPerUffd } from '../model/memslots.js';
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
  const msgWords = new Int32Array(UFFD_MSG_BYTES >> 2);
  const msg = new DataView(msgWords.buffer);
  const resolver = new FaultResolver(newFetcherStats('handler'), mem, installer, clock, local, toSource, sourceBell);
  const { stats } = resolver;

  awaitStartGun(ctl);
  // An injected crash (src/model/injections.ts): at its time this handler stops reading; with
  // :restart a new one takes over the same uffd after the duration (modelled in this thread).
  const crash = opts.inject.find((i) => i.kind === 'handler-crash');
  const crashAtUs = crash ? times[TIME_MIGRATION_START_US]! + crash.atUs : Infinity;
  while (Atomics.load(ctl, CTL_STOP) === 0 && Atomics.load(ctl, CTL_ABORT) === 0) {
    const seen = bell.snapshot();
    if (opts.injectFault === 'handler-dies' && stats.uffdReads >= 1) throw new Error('injected fault: uffd handler crashed');
    if (clock.nowUs() >= crashAtUs) {
      if (!crash!.restart) {
        Atomics.store(ctl, CTL_HANDLERS_CRASHED, 1);
        break;
      }
      const backUs = crashAtUs + crash!.durationUs;
      while (clock.nowUs() < backUs && Atomics.load(ctl, CTL_ABORT) === 0)
        Atomics.wait(ctl, CTL_STOP, 0, Math.max(1, ((backUs - clock.nowUs()) * clock.dilation) / 1000)); // modelled us -> wall ms
      stats.restarts = (stats.restarts ?? 0) + 1;
    }
    // read(): one uffd_msg per call, as demand_paging_test's handler reads; then look at arrivals again.
    if (q.read(msgWords, 0) >= 0) {
      stats.uffdReads++;
      resolver.resolve(mem.pageOfGpa(readUffdAddress(msg, 0)), msg.getUint32(UFFD_MSG_PF_PTID, true), msg.getUint32(UFFD_MSG_PF_FLAGS, true));
      continue;
    }
    bell.wait(seen, opts.serviceSpinUs, IDLE_WALL_US, clock.wallUs);
  }
  stats.sleeps = bell.sleeps;
  return stats;
}
