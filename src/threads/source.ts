/**
 * The source host and the network between it and the destination. It owns the source image (derived
 * from the seed), runs the scenario's strategy (src/strategies/), answers page requests, and pushes
 * every page not yet sent so that migration ends even for pages no vCPU touches.
 *
 * The link (src/network.ts) is modelled here, both directions. Outbound there are two sockets:
 *
 *   bulk socket    the migration stream: its send buffer holds up to --send-buffer bytes of frames
 *                  waiting for the wire, in order. Pushed pages go here, and so do demanded pages
 *                  unless the strategy has an urgent channel: a demanded page then waits behind
 *                  everything already in the buffer (QEMU's vanilla postcopy, ~10 ms at 10 Gbit/s).
 *   urgent socket  postcopy-preempt's channel for demanded pages: it shares the wire but not the
 *                  bulk buffer, so a demanded page waits at most for frames already on the wire.
 *
 * Frames are stamped (transmission start, arrival = end of serialisation + latency) when they go on
 * the wire, at most LOOKAHEAD_US ahead of now, and written to the receiving thread's wire ring,
 * which holds them until their arrival time. A request is acted on when it would have arrived
 * (inbound link).
 */
import type { Doorbell } from './doorbell.js';
import {
  CTL_ABORT, CTL_GO, CTL_STOP, CTL_VCPUS_DONE, TIME_MIGRATION_START_US, TIME_SWITCH_START_US,
} from './layout.js';
import { Link } from '../model/link.js';
import {
  CH_BULK, CH_URGENT, FRAME_DISCARD, FRAME_PAGE, PAGE_FLAG_DEMAND, PAGE_FLAG_PRECOPY, PAGE_FLAG_PREFETCH, PAGE_FLAG_RESENT, PAGE_FLAG_ZERO,
  packr, type DiscardFrame, type PageFrame, type PageRequestFrame, type ServiceStart, type SourceStats,
} from './protocol.js';
import { frameInstaller, TO_PREEMPT, TO_VCPU } from '../model/delivery.js';
import { PrecopyRounds } from '../model/precopy.js';
import { Impairments } from '../model/impairments.js';
import { LOST } from '../model/link.js';
import { SourceRecovery } from './source-recovery.js';
import { sharedBlockLedger } from './blocktime.js';
import { SendPolicy } from '../model/send-policy.js';
import { newSourceStats } from '../model/stats.js';
import { awaitStartGun, openShared } from './shared.js';
import { createStrategy } from '../model/strategies/index.js';
import { WireRing } from './wire.js';

/**
 * How far ahead of now bulk frames are committed to the wire (stamped and written to the receiver's
 * ring). It must cover the source thread's own wake-up latency, or the simulated link idles while the
 * thread sleeps: 50 us measured 10% link utilisation at 10 Gbit/s on this VM, 1 ms keeps it busy.
 * Urgent frames are not held behind it (Link.sendUrgent).
 */
export const LOOKAHEAD_US = 1000;
const DISCARDS_PER_FRAME = 8192;

/** A FIFO of frames waiting for the wire: page, flags, destination channel, enqueue time. */
class FrameQueue {
  private page: Int32Array;
  private flags: Int32Array;
  private channel: Int32Array;
  private queuedUs: Float64Array;
  private head = 0;
  private tail = 0;
  bytes = 0;
  constructor(capacity: number) {
    this.page = new Int32Array(capacity);
    this.flags = new Int32Array(capacity);
    this.channel = new Int32Array(capacity);
    this.queuedUs = new Float64Array(capacity);
  }
  get length(): number { return this.tail - this.head; }
  push(page: number, flags: number, channel: number, nowUs: number, bytes: number): void {
    if (this.tail === this.page.length) this.compact();
    const i = this.tail++;
    this.page[i] = page; this.flags[i] = flags; this.channel[i] = channel; this.queuedUs[i] = nowUs;
    this.bytes += bytes;
  }
  headPage(): number { return this.page[this.head]!; }
  headFlags(): number { return this.flags[this.head]!; }
  headChannel(): number { return this.channel[this.head]!; }
  headQueuedUs(): number { return this.queuedUs[this.head]!; }
  clear(): void { this.head = this.tail = 0; this.bytes = 0; }
  shift(bytes: number): void { this.head++; this.bytes -= bytes; if (this.head === this.tail) this.head = this.tail = 0; }
  private compact(): void {
    const n = this.tail - this.head;
    if (this.head === 0) { // grow
      const grow = <T extends Int32Array | Float64Array>(a: T): T => { const b = new (a.constructor as new (n: number) => T)(a.length * 2); b.set(a); return b; };
      this.page = grow(this.page); this.flags = grow(this.flags); this.channel = grow(this.channel); this.queuedUs = grow(this.queuedUs);
      return;
    }
    this.page.copyWithin(0, this.head, this.tail); this.flags.copyWithin(0, this.head, this.tail);
    this.channel.copyWithin(0, this.head, this.tail); this.queuedUs.copyWithin(0, this.head, this.tail);
    this.head = 0; this.tail = n;
  }
}

export function runSource(start: ServiceStart): SourceStats {
  const views = openShared(start.shared);
  const { opts, clock, ctl, times, image, fetcherBell, sourceBell } = views;
  const toDest = start.shared.wireToDestSabs.map((s) => new WireRing(s));
  const toSource = start.shared.wireToSourceSabs.map((s) => new WireRing(s));
  const linkCfg = { bandwidthBps: opts.bandwidthBps, latencyUs: opts.latencyUs, overheadBytes: opts.msgOverheadBytes };
  // Injections: the plan's times count from the migration's start, known once the start gun fired.
  const imp = opts.inject.length ? new Impairments(opts.inject, opts.seed, opts.reconnectUs) : null;
  const outbound = new Link(linkCfg, imp, 'bulk');
  const inbound = new Link(linkCfg, imp, 'inbound');
  const strategy = createStrategy(opts.strategy, { pages: opts.pages, vcpus: opts.vcpus, precopyRounds: opts.precopyRounds });
  // Who is told a frame arrived: the listen thread (bulk), the preempt thread (urgent); a vCPU that
  // resolves its own exit sleeps on its page's state word, so that word is notified (flush()).
  const bells: Array<Doorbell | null> = toDest.map((_, ch) => (ch === CH_BULK ? fetcherBell : ch === CH_URGENT ? views.preemptBell : null));
  const rungPage = new Int32Array(toDest.length);
  const pageState = views.mem.pageState;
  const rung = new Uint8Array(toDest.length);
  const pageFrameBytes = opts.pageSize + 16;
  const bulk = new FrameQueue(1024);
  const urgent = new FrameQueue(64);
  const frame: PageFrame = [FRAME_PAGE, 0, 0, 0];
  const prefetch: number[] = [];
  // Requests in arrival order: the inbound link is FIFO, so arrival times only grow.
  const reqPage: number[] = [];
  const reqVcpu: number[] = [];
  const reqChannel: number[] = [];
  const reqArriveUs: number[] = [];
  let reqHead = 0;
  const stats: SourceStats = newSourceStats();
  // What to send, on which socket, and how it is counted: the model's, as in the virtual engine.
  const policy = new SendPolicy(opts.pages, strategy, stats, opts.recordSendOrder);

  /** Queues a page the policy has claimed. */
  /** Queues a claimed page on its socket, for the thread that installs it (src/model/delivery.ts). */
  const queueClaimed = (page: number, flags: number, requestChannel: number, nowUs: number): void => {
    const isUrgent = policy.isUrgent(flags);
    const who = frameInstaller(opts, flags, isUrgent);
    const channel = who === TO_VCPU ? requestChannel : who === TO_PREEMPT ? CH_URGENT : CH_BULK;
    (isUrgent ? urgent : bulk).push(page, flags, channel, nowUs, pageFrameBytes);
  };
  const queuePage = (page: number, flags: number, channel: number, nowUs: number): void => {
    if (policy.claim(page)) queueClaimed(page, flags, channel, nowUs);
  };

  /** Puts the head frame of `q` on the wire; false when its ring is full (the receiver lags). */
  const transmit = (q: FrameQueue, nowUs: number): boolean => {
    const page = q.headPage();
    let flags = q.headFlags();
    const channel = q.headChannel();
    const zero = image.isZero(page);
    if (zero) flags |= PAGE_FLAG_ZERO;
    frame[1] = page;
    frame[2] = flags;
    frame[3] = zero ? 0 : opts.pageSize;
    const header = packr.pack(frame);
    const frameBytes = header.byteLength + frame[3];
    const isUrgent = q === urgent;
    const arriveUs = isUrgent ? outbound.urgentArrivalIfSent(frameBytes, nowUs) : outbound.arrivalIfSent(frameBytes, nowUs);
    if (arriveUs === LOST) { // the link is down or goes down before it arrives: it never does
      if (isUrgent) outbound.sendUrgent(frameBytes, nowUs); else outbound.send(frameBytes, nowUs);
      q.shift(pageFrameBytes);
      return true;
    }
    const ring = toDest[channel]!;
    const payloadAt = ring.reserve(header, frame[3], arriveUs);
    if (payloadAt < 0) { stats.ringFullStalls++; return false; }
    if (!zero) image.fillPage(page, ring.words, payloadAt);
    const startUs = arriveUs - outbound.serialiseUs(frameBytes + opts.msgOverheadBytes) - opts.latencyUs;
    policy.countSent(page, flags, isUrgent, q.headQueuedUs(), startUs, arriveUs);
    if (isUrgent) outbound.sendUrgent(frameBytes, nowUs); else outbound.send(frameBytes, nowUs);
    q.shift(pageFrameBytes);
    if (recovery) recovery.delivered[page] = 1;
    rung[channel] = 1;
    rungPage[channel] = page;
    return true;
  };

  /** Publishes written frames and rings each receiver that got some. */
  const flush = (): void => {
    for (let ch = 0; ch < toDest.length; ch++) {
      if (!rung[ch]) continue;
      rung[ch] = 0;
      toDest[ch]!.publish();
      const bell = bells[ch];
      if (bell) bell.ring(); else Atomics.notify(pageState, rungPage[ch]!);
    }
  };

  /**
   * Puts every urgent frame on the wire now, then bulk frames up to LOOKAHEAD_US ahead. Deriving a
   * lookahead's worth of bulk pages takes the thread about as long (~1 ms at 10 Gbit/s), so it looks
   * at requests every few frames: an urgent request must not wait for this thread's batch either.
   */
  const transmitDue = (nowUs: number): boolean => {
    let blocked = false;
    let n = 0;
    for (;;) {
      while (urgent.length && !blocked) blocked = !transmit(urgent, nowUs);
      if (blocked || !bulk.length || outbound.backlogUs(nowUs) > LOOKAHEAD_US) break;
      blocked = !transmit(bulk, nowUs);
      if ((++n & 15) === 0) {
        nowUs = clock.nowUs();
        if (strategy.urgentChannel) { readRequests(); serveRequests(nowUs); }
      }
    }
    flush();
    return blocked;
  };

  const readRequests = (): void => {
    for (let ch = 0; ch < toSource.length; ch++) {
      const ring = toSource[ch]!;
      for (let sentUs = ring.peek(); sentUs >= 0; sentUs = ring.peek()) {
        const req = packr.unpack(ring.header()) as PageRequestFrame;
        reqPage.push(req[1]);
        reqVcpu.push(req[2]);
        reqChannel.push(ch);
        const arriveUs = inbound.send(ring.headerLength, sentUs);
        ring.consume();
        if (arriveUs === LOST || (recovery && !recovery.active)) { reqPage.pop(); reqVcpu.pop(); reqChannel.pop(); continue; } // lost: asked again after recovery
        reqArriveUs.push(arriveUs);
      }
      ring.release();
    }
  };

  const serveRequests = (nowUs: number): void => {
    while (reqHead < reqPage.length && reqArriveUs[reqHead]! <= nowUs) {
      const page = reqPage[reqHead]!;
      const arrivedUs = reqArriveUs[reqHead]!;
      stats.requestLagUsTotal += Math.max(0, nowUs - arrivedUs);
      // Queued now: the wait behind the link counts from here (the thread's own lateness in getting
      // here is requestLagUsTotal, a simulator cost, not a modelled one).
      if (policy.onRequest(page, reqVcpu[reqHead]!, arrivedUs, prefetch)) queuePage(page, PAGE_FLAG_DEMAND, reqChannel[reqHead]!, nowUs);
      for (const p of prefetch) queuePage(p, PAGE_FLAG_PREFETCH, CH_BULK, nowUs);
      reqHead++;
    }
    if (reqHead === reqPage.length && reqHead > 1024) { reqPage.length = reqVcpu.length = reqChannel.length = reqArriveUs.length = 0; reqHead = 0; }
  };

  const fillBulk = (nowUs: number, flags: number): void => {
    while (bulk.bytes < opts.sendBufferBytes) {
      const p = policy.nextPush();
      if (p < 0) break;
      queueClaimed(p, flags, CH_BULK, nowUs);
    }
  };

  /** Sleeps until `wakeUs`, a request, or ring space (every receiver rings the source's bell). */
  const sleepUntil = (seen: number, wakeUs: number): void => {
    const now = clock.nowUs();
    if (wakeUs > now) sourceBell.wait(seen, opts.serviceSpinUs, Math.min(wakeUs - now, 20_000), clock.nowUs);
  };

  const running = () => Atomics.load(ctl, CTL_STOP) === 0 && Atomics.load(ctl, CTL_ABORT) === 0;

  awaitStartGun(ctl);
  const recovery = imp ? new SourceRecovery(imp, times[TIME_MIGRATION_START_US]!, opts.pages, opts.unsafeForgetResend, sharedBlockLedger(ctl, times)) : null;
  /** A pause: what sat in the sockets' buffers is gone with the connection (the bitmap will say so). */
  const dropSockets = (): void => { bulk.clear(); urgent.clear(); };
  const requeue = (page: number): void => queueClaimed(page, PAGE_FLAG_DEMAND, CH_BULK, clock.nowUs());

  // ---- hybrid: precopy rounds while the guest still runs on the source ----
  if (strategy.precopyRounds && running() && Atomics.load(ctl, CTL_GO) === 0) {
    const rounds = new PrecopyRounds(opts);
    let round: number[] | null = null; // null: every page
    for (let r = 0; r < strategy.precopyRounds && running(); r++) {
      const roundStartUs = clock.nowUs();
      let i = 0;
      const total = round === null ? opts.pages : round.length;
      while (running() && (i < total || bulk.length > 0)) {
        const seen = sourceBell.snapshot();
        const now = clock.nowUs();
        while (i < total && bulk.bytes < opts.sendBufferBytes) {
          const p = round === null ? i : round[i]!;
          bulk.push(p, PAGE_FLAG_PRECOPY | (r > 0 ? PAGE_FLAG_RESENT : 0), CH_BULK, now, pageFrameBytes);
          i++;
        }
        const blocked = transmitDue(now);
        sleepUntil(seen, blocked ? now + 20_000 : now + outbound.backlogUs(now) - LOOKAHEAD_US / 2);
      }
      // The round lasts until its last frame has arrived; meanwhile the guest dirties pages (the model's).
      while (running() && clock.nowUs() < stats.lastArriveUs) sleepUntil(sourceBell.snapshot(), stats.lastArriveUs);
      const next = rounds.dirtied(clock.nowUs() - roundStartUs);
      round = next;
      stats.precopyRounds++;
      if (next.length === 0) break;
    }
    // The switch: stop the guest here, tell the destination which copies are stale, resume there.
    times[TIME_SWITCH_START_US] = clock.nowUs();
    const stale = round ?? [];
    stats.pagesDiscarded = stale.length;
    for (let k = 0; k === 0 || k < stale.length; k += DISCARDS_PER_FRAME) {
      const chunk = stale.slice(k, k + DISCARDS_PER_FRAME);
      const d: DiscardFrame = [FRAME_DISCARD, k + DISCARDS_PER_FRAME >= stale.length ? 1 : 0, chunk];
      const header = packr.pack(d);
      const now = clock.nowUs();
      while (running() && !toDest[CH_BULK]!.write(header, null, outbound.arrivalIfSent(header.byteLength, now))) {
        sleepUntil(sourceBell.snapshot(), now + 1000);
      }
      outbound.send(header.byteLength, now);
      fetcherBell.ring();
    }
    // Everything else was sent; the stale pages become unsent again for the postcopy phase.
    policy.resetTo(stale);
    awaitGo();
  }

  function awaitGo(): void {
    while (running() && Atomics.load(ctl, CTL_GO) === 0) Atomics.wait(ctl, CTL_GO, 0, 20);
  }

  // ---- postcopy ----
  while (running()) {
    const seen = sourceBell.snapshot();
    stats.loops++;
    if (opts.injectFault === 'source-dies' && stats.pagesSent >= 256) throw new Error('injected fault: source host crashed');
    const now = clock.nowUs();
    if (recovery && !recovery.step(now, [outbound, inbound], policy, views.mem.pageState, dropSockets, requeue)) {
      readRequests(); // while paused they are lost
      sleepUntil(seen, Math.min(now + 20_000, recovery.nextUs()));
      continue;
    }
    readRequests();
    serveRequests(now);
    if (policy.pushing(Atomics.load(ctl, CTL_VCPUS_DONE) === opts.vcpus)) fillBulk(now, 0);
    const blocked = transmitDue(now);
    // Wake when the next request is due or when the wire has room for more within the lookahead.
    let wakeUs = now + 20_000;
    if (reqHead < reqPage.length) wakeUs = Math.min(wakeUs, reqArriveUs[reqHead]!);
    if (recovery) wakeUs = Math.min(wakeUs, recovery.nextUs());
    // Top the wire up when a quarter of the lookahead has drained: at 10 Gbit/s deriving a page costs
    // this thread about as long as the page takes on the wire, so it must not sleep long.
    if (!blocked && (urgent.length || bulk.length)) wakeUs = Math.min(wakeUs, now + outbound.backlogUs(now) - (LOOKAHEAD_US * 3) / 4);
    sleepUntil(seen, wakeUs);
  }
  if (recovery) stats.recovery = recovery.ledger.result(outbound.framesLost + inbound.framesLost);
  stats.bytesToDest = outbound.bytes;
  stats.bytesToSource = inbound.bytes;
  stats.framesSent = outbound.frames;
  stats.sleeps = sourceBell.sleeps;
  return stats;
}
