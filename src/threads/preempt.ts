/**
 * The preempt-channel thread (QEMU's postcopy preempt thread): installs the pages that come on the
 * urgent channel, so a demanded page never waits behind the listen thread's backlog of pushed pages.
 * It exists when the strategy has an urgent channel and demanded pages are not installed by the
 * vCPUs themselves (src/model/delivery.ts).
 */
import { Installer } from './installer.js';
import { CTL_ABORT, CTL_STOP } from './layout.js';
import { CH_URGENT, type FetcherStats, type ServiceStart } from './protocol.js';
import { FaultResolver } from './resolver.js';
import { FrameReceiver } from './receiver.js';
import { awaitStartGun, openShared } from './shared.js';
import { WireRing } from './wire.js';
import { pagesPerUffd } from '../model/memslots.js';
import { newFetcherStats } from '../model/stats.js';

export function runPreempt(start: ServiceStart): FetcherStats {
  const views = openShared(start.shared);
  const { opts, clock, mem, ctl, times, queues, preemptBell, sourceBell } = views;
  const installer = new Installer(start.shared, mem, ctl, times, clock, queues, pagesPerUffd(opts));
  installer.deferWakes = opts.wakeBatch > 1;
  const receiver = new FrameReceiver(new WireRing(start.shared.wireToDest[CH_URGENT]!), clock, ctl);
  // Only its install path is used: this thread never decides a fault or sends a request.
  const { stats, onPage } = new FaultResolver(newFetcherStats('preempt'), mem, installer, clock, null, null, sourceBell);
  awaitStartGun(ctl);
  while (Atomics.load(ctl, CTL_STOP) === 0 && Atomics.load(ctl, CTL_ABORT) === 0) {
    const seen = preemptBell.snapshot();
    const before = receiver.frames;
    const nextArriveUs = receiver.drain(onPage);
    installer.flushWakes();
    if (receiver.frames !== before) sourceBell.ring(); // ring space freed
    preemptBell.waitForFrame(seen, nextArriveUs, clock, opts.serviceSpinUs);
  }
  stats.sleeps = preemptBell.sleeps;
  stats.framesReceived = receiver.frames;
  stats.bytesReceived = receiver.bytes;
  return stats;
}
