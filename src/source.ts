/**
 * The source host and the network between it and the destination. It owns the source image (derived
 * from the seed), answers page requests, and pushes every page not yet sent in the background so that
 * migration ends even for pages no vCPU touches. Both directions of the link are modelled here:
 * a request is acted on when it would have arrived (inbound link), and every page frame is stamped
 * with the time it would arrive at the destination (outbound link, shared by all channels, so pushed
 * and demanded pages really queue behind each other).
 *
 * Flow control: the push pauses while the outbound backlog exceeds the send buffer, and any frame
 * waits while its wire ring is full (the receiver has not consumed enough), so the simulated stream
 * never runs ahead of what the destination absorbs.
 */
import type { Doorbell } from './doorbell.js';
import { CTL_ABORT, CTL_STOP, CTL_VCPUS_DONE } from './layout.js';
import { Link } from './network.js';
import {
  FRAME_PAGE, PAGE_FLAG_DEMAND, PAGE_FLAG_ZERO, packr, type PageFrame, type PageRequestFrame, type ServiceStart,
  type SourceStats,
} from './protocol.js';
import { awaitStartGun, handlerBell, openShared } from './shared.js';
import { WireRing } from './wire.js';

export function runSource(start: ServiceStart): SourceStats {
  const views = openShared(start.shared);
  const { opts, clock, ctl, image, queues, fetcherBell, sourceBell } = views;
  const toDest = start.shared.wireToDestSabs.map((s) => new WireRing(s));
  const toSource = start.shared.wireToSourceSabs.map((s) => new WireRing(s));
  const linkCfg = { bandwidthBps: opts.bandwidthBps, latencyUs: opts.latencyUs, overheadBytes: opts.msgOverheadBytes };
  const outbound = new Link(linkCfg);
  const inbound = new Link(linkCfg);
  // Channel 0 goes to the fetcher; channel 1 + h to uffd handler h (whose uffd is h, or 0 when shared).
  const bells: Doorbell[] = toDest.map((_, ch) => (ch === 0 ? fetcherBell : handlerBell(queues[queues.length === 1 ? 0 : ch - 1]!)));
  const sent = new Uint8Array(opts.pages);
  const frame: PageFrame = [FRAME_PAGE, 0, 0, 0];
  // Requests in arrival order: the inbound link is FIFO, so arrival times only grow.
  const reqPage: number[] = [];
  const reqChannel: number[] = [];
  const reqArriveUs: number[] = [];
  let reqHead = 0;
  let pushCursor = 0;
  const pushEnabled = opts.push !== 'demand';
  const stats: SourceStats = {
    role: 'source', pagesSent: 0, pagesDemand: 0, pagesPushed: 0, zeroPages: 0, requestsReceived: 0,
    requestsForSentPages: 0, bytesToDest: 0, bytesToSource: 0, framesSent: 0, demandQueueUsTotal: 0, demandQueueUsMax: 0,
    lastArriveUs: 0, sleeps: 0, ringFullStalls: 0, loops: 0,
  };

  /** Encodes and queues one page on `channel`; false when that channel's ring is full right now. */
  const sendPage = (page: number, channel: number, flags: number, nowUs: number): boolean => {
    const zero = image.isZero(page);
    if (zero) flags |= PAGE_FLAG_ZERO;
    frame[1] = page;
    frame[2] = flags;
    frame[3] = zero ? 0 : opts.pageSize;
    const header = packr.pack(frame);
    const frameBytes = header.byteLength + frame[3];
    const ring = toDest[channel]!;
    const queuedUs = outbound.backlogUs(nowUs);
    const arriveUs = outbound.arrivalIfSent(frameBytes, nowUs);
    const payloadAt = ring.reserve(header, frame[3], arriveUs);
    if (payloadAt < 0) { stats.ringFullStalls++; return false; }
    if (!zero) image.fillPage(page, ring.words, payloadAt);
    if (flags & PAGE_FLAG_DEMAND) ring.publish(); // a demanded page goes now; pushed ones per batch
    outbound.send(frameBytes, nowUs);
    sent[page] = 1;
    if (zero) stats.zeroPages++;
    if (flags & PAGE_FLAG_DEMAND) {
      stats.demandQueueUsTotal += queuedUs;
      if (queuedUs > stats.demandQueueUsMax) stats.demandQueueUsMax = queuedUs;
      stats.pagesDemand++;
    } else stats.pagesPushed++;
    stats.lastArriveUs = arriveUs;
    stats.pagesSent++;
    if (flags & PAGE_FLAG_DEMAND) bells[channel]!.ring();
    return true;
  };

  awaitStartGun(ctl);
  while (Atomics.load(ctl, CTL_STOP) === 0 && Atomics.load(ctl, CTL_ABORT) === 0) {
    const seen = sourceBell.snapshot();
    stats.loops++;
    if (opts.injectFault === 'source-dies' && stats.pagesSent >= 256) throw new Error('injected fault: source host crashed');
    let now = clock.nowUs();
    for (let ch = 0; ch < toSource.length; ch++) {
      const ring = toSource[ch]!;
      for (let sentUs = ring.peek(); sentUs >= 0; sentUs = ring.peek()) {
        const req = packr.unpack(ring.header()) as PageRequestFrame;
        stats.requestsReceived++;
        reqPage.push(req[1]);
        reqChannel.push(ch);
        reqArriveUs.push(inbound.send(ring.headerLength, sentUs));
        ring.consume();
      }
      ring.release();
    }
    // Demand first: every request that has arrived is served before the next push.
    let demandBlocked = false;
    while (reqHead < reqPage.length && reqArriveUs[reqHead]! <= now) {
      const page = reqPage[reqHead]!;
      if (sent[page]) stats.requestsForSentPages++; // already on its way (QEMU skips pages no longer dirty)
      else if (!sendPage(page, reqChannel[reqHead]!, PAGE_FLAG_DEMAND, now)) { demandBlocked = true; break; }
      reqHead++;
    }
    if (reqHead === reqPage.length && reqHead > 1024) { reqPage.length = reqChannel.length = reqArriveUs.length = 0; reqHead = 0; }

    const pushing = (pushEnabled || Atomics.load(ctl, CTL_VCPUS_DONE) === opts.vcpus) && pushCursor < opts.pages;
    let pushBlocked = false;
    if (pushing && !demandBlocked) {
      // A bounded batch, then look at requests again, so a request never waits here behind a buffer's worth of work.
      for (let n = 0; n < 32; n++) {
        while (pushCursor < opts.pages && sent[pushCursor]) pushCursor++;
        if (pushCursor >= opts.pages) break;
        if (outbound.backlogBytes(now) >= opts.sendBufferBytes) break;
        if (!sendPage(pushCursor, 0, 0, now)) { pushBlocked = true; break; }
        pushCursor++;
        if ((n & 7) === 7) now = clock.nowUs(); // a clock read costs ~1 us here; pages are ~3 us apart
      }
      toDest[0]!.publish();
      fetcherBell.ring();
    }
    // Sleep until a request is due, the send buffer drains, or a bell rings (frames consumed, requests).
    now = clock.nowUs();
    let wakeUs = now + 20_000;
    if (reqHead < reqPage.length && !demandBlocked) wakeUs = Math.min(wakeUs, reqArriveUs[reqHead]!);
    if (pushing && pushCursor < opts.pages && !pushBlocked) {
      const backlog = outbound.backlogBytes(now);
      wakeUs = backlog >= opts.sendBufferBytes ? Math.min(wakeUs, outbound.timeBacklogFallsTo(opts.sendBufferBytes * 0.75)) : now;
    }
    if (wakeUs > now) sourceBell.wait(seen, opts.serviceSpinUs, wakeUs - now, clock.nowUs);
  }
  stats.bytesToDest = outbound.bytes;
  stats.bytesToSource = inbound.bytes;
  stats.framesSent = outbound.frames;
  stats.sleeps = sourceBell.sleeps;
  return stats;
}
