/**
 * The source host and the network between it and the destination. It owns the source image (derived
 * from the seed, each page at its version), runs the scenario's strategy (src/model/strategies/),
 * answers page requests, and pushes every page not yet sent so that migration ends even for pages
 * no vCPU touches. Hybrid's precopy rounds are in source-precopy.ts.
 *
 * The link (src/model/link.ts) is modelled here, both directions. Outbound there are two sockets:
 *
 *   bulk socket    the migration stream: its send buffer holds up to --send-buffer bytes of frames
 *                  waiting for the wire, in order. Pushed pages go here, and so do demanded pages
 *                  unless the strategy has an urgent channel: a demanded page then waits behind
 *                  everything already in the buffer (QEMU's vanilla postcopy, ~10 ms at 10 Gbit/s).
 *   urgent socket  postcopy-preempt's channel for demanded pages: it shares the wire but not the
 *                  bulk buffer, so a demanded page waits only for the frame being serialised.
 *
 * Frames are stamped (transmission start, arrival = end of serialisation + latency) when they go on
 * the wire, at most a lookahead ahead of now, and written to the receiving thread's wire ring,
 * which holds them until their arrival time. A request is acted on when it would have arrived
 * (inbound link). All times are modelled time (wall time / the run's dilation).
 *
 * Each frame goes to the thread that installs it (src/model/delivery.ts): the listen thread (bulk
 * ring), the preempt thread (urgent ring), or the vCPU that asked, on its own ring. With injections
 * the link loses frames and the connection pauses; source-recovery.ts runs the recovery.
 */
import { wallUsUntil, type Clock } from './clock.js';
import { IDLE_WALL_US, type Doorbell } from './doorbell.js';
import { FrameQueue, RequestQueue } from './frame-queue.js';
import { CTL_ABORT, CTL_LINK_CUT_US, CTL_MIGRATION_DONE, CTL_RUN_STATE, CTL_STOP, CTL_VCPUS_DONE, RUN_STATES, TIME_MIGRATION_START_US } from './layout.js';
import { Link, LOST } from '../model/link.js';
import { Impairments } from '../model/impairments.js';
import { frameInstaller, TO_PREEMPT, TO_VCPU } from '../model/delivery.js';
import { SourceRecovery } from './source-recovery.js';
import { sharedBlockLedger } from './blocktime.js';
import { PAGE_HEADER_BYTES, REQUEST_BYTES } from '../model/page-flags.js';
import { CH_BULK, CH_URGENT, FRAME_PAGE, PAGE_FLAG_DEMAND, PAGE_FLAG_PREFETCH, PAGE_FLAG_ZERO, type ServiceStart, type SourceStats } from './protocol.js';
import { SendPolicy } from '../model/send-policy.js';
import { newSourceStats } from '../model/stats.js';
import { awaitStartGun, openShared, type Views } from './shared.js';
import { createStrategy, type Strategy } from '../model/strategies/index.js';
import { WireRing } from './wire.js';
import { PageDeriver } from './page-deriver.js';
import { pageKey } from '../model/rng.js';
import type { ResolvedOptions } from '../options.js';
import { runPrecopyRounds, type PrecopyHost } from './source-precopy.js';

/**
 * How far ahead of now bulk frames are committed to the wire, in wall time. It must cover the source
 * thread's own wake-up latency, or the simulated link idles while the thread sleeps: 50 us measured
 * 10% link utilisation at 10 Gbit/s on this VM, 1 ms about 90% on a quiet machine; with other
 * processes on the two cores a woken thread can wait several ms for one, so 4 ms. Committed frames
 * count against the send buffer (fillBulk), so this never lengthens a demanded page's queue; what it
 * costs is urgent frames' stamping (at most one frame time per urgent frame, src/model/link.ts). In
 * modelled time it is this divided by the dilation.
 */
export const LOOKAHEAD_WALL_US = 4000;

/**
 * The share of what can be committed to the wire that drains before the source tops it up. It was a
 * half; a quarter leaves three quarters of the send buffer's wire time (1 ms at 25 Gbit/s) for the
 * thread's wake-up and its time off a shared core, for twice the wake-ups. Measured undilated, 512
 * MiB, paired on this machine under other sessions' load (5-6 on 2 cores): at 25 Gbit/s link
 * utilisation median 0.61 against 0.56 over 9 pairs (6 better), at 10 Gbit/s 0.87 against 0.79 over 3.
 */
const TOP_UP_AFTER = 0.25;

export function runSource(start: ServiceStart): SourceStats {
  const host = new SourceHost(start);
  host.run();
  return host.finish();
}

export class SourceHost implements PrecopyHost {
  readonly opts: ResolvedOptions;
  readonly clock: Clock;
  readonly views: Views;
  readonly toDest: WireRing[];
  /** Per channel, SIMD derivation into its ring (null where WebAssembly SIMD is missing: JavaScript derives). */
  private readonly derivers: Array<PageDeriver | null>;
  readonly toSource: WireRing[];
  readonly outbound: Link;
  readonly inbound: Link;
  readonly strategy: Strategy;
  readonly stats: SourceStats = newSourceStats();
  /** What to send, on which socket, and how it is counted: the model's, as in the virtual engine. */
  readonly policy: SendPolicy;
  readonly bulk = new FrameQueue(1024);
  readonly urgent = new FrameQueue(64);
  readonly lookaheadUs: number;
  /** The send buffer's wire time (modelled us): more than this can never be committed. */
  private readonly sendBufferUs: number;
  /** Who is told a frame arrived: the listen and preempt threads' bells; null: a vCPU's ring (its page's state word is notified). */
  private readonly bells: Array<Doorbell | null>;
  private readonly rung: Uint8Array;
  private readonly rungPage: Int32Array;
  private readonly imp: Impairments | null;
  /** Injections planned: the recovery, made when the migration's start time is known. */
  recovery: SourceRecovery | null = null;
  /** Send-buffer bytes of one queued page frame. */
  readonly pageFrameBytes: number;
  private readonly prefetch: number[] = [];
  private readonly requests = new RequestQueue();
  /** The link stall is counted up to here (moved past the start and hybrid's switch, which are no stalls). */
  stallCountedToUs = 0;

  constructor(start: ServiceStart) {
    const views = openShared(start.shared);
    const opts = views.opts;
    this.views = views;
    this.opts = opts;
    this.clock = views.clock;
    this.toDest = start.shared.wireToDest.map((s) => new WireRing(s));
    this.derivers = start.shared.wireToDest.map((m, ch) => (m instanceof SharedArrayBuffer ? null : PageDeriver.create(m, this.toDest[ch]!)));
    this.toSource = start.shared.wireToSource.map((s) => new WireRing(s));
    const linkCfg = { bandwidthBps: opts.bandwidthBps, latencyUs: opts.latencyUs, overheadBytes: opts.msgOverheadBytes };
    // Injections: the plan's times count from the migration's start, known once the start gun fired.
    // A run whose link may be cut live keeps the same machinery ready, with nothing planned.
    this.imp = opts.inject.length || start.shared.liveLinkCuts ? new Impairments(opts.inject, opts.seed, opts.reconnectUs) : null;
    this.outbound = new Link(linkCfg, this.imp, 'bulk');
    this.inbound = new Link(linkCfg, this.imp, 'inbound');
    this.strategy = createStrategy(opts.strategy, { pages: opts.pages, vcpus: opts.vcpus, precopyRounds: opts.precopyRounds });
    this.policy = new SendPolicy(opts.pages, this.strategy, this.stats, opts.recordSendOrder);
    this.bells = this.toDest.map((_, ch) => (ch === CH_BULK ? views.fetcherBell : ch === CH_URGENT ? views.preemptBell : null));
    this.rung = new Uint8Array(this.toDest.length);
    this.rungPage = new Int32Array(this.toDest.length);
    this.pageFrameBytes = opts.pageSize + PAGE_HEADER_BYTES;
    this.lookaheadUs = LOOKAHEAD_WALL_US / this.clock.dilation;
    this.sendBufferUs = this.outbound.serialiseUs(opts.sendBufferBytes);
  }

  running(): boolean {
    return Atomics.load(this.views.ctl, CTL_STOP) === 0 && Atomics.load(this.views.ctl, CTL_ABORT) === 0;
  }

  run(): void {
    const { ctl } = this.views;
    if (!awaitStartGun(ctl)) return;
    // From the migration's start: this thread's own start-up lag is a stall too.
    this.stallCountedToUs = this.views.times[TIME_MIGRATION_START_US]!;
    if (this.imp) {
      this.recovery = new SourceRecovery(
        this.imp,
        this.views.times[TIME_MIGRATION_START_US]!,
        this.opts.pages,
        this.opts.unsafeForgetResend,
        sharedBlockLedger(ctl, this.views.times),
        (state) => Atomics.store(ctl, CTL_RUN_STATE, RUN_STATES.indexOf(state)),
      );
    }
    if (this.strategy.precopyRounds && this.running()) runPrecopyRounds(this);
    this.postcopy();
  }

  /**
   * Queues a page the policy has claimed on its socket (urgent for a demanded page under preempt,
   * else bulk), for the thread that installs it (src/model/delivery.ts).
   */
  private queueClaimed(page: number, flags: number, requestChannel: number, nowUs: number): void {
    const isUrgent = this.policy.isUrgent(flags);
    const who = frameInstaller(this.opts, flags, isUrgent);
    const channel = who === TO_VCPU ? requestChannel : who === TO_PREEMPT ? CH_URGENT : CH_BULK;
    (isUrgent ? this.urgent : this.bulk).push(page, flags, channel, nowUs, this.pageFrameBytes);
  }

  private queuePage(page: number, flags: number, channel: number, nowUs: number): void {
    if (this.policy.claim(page)) this.queueClaimed(page, flags, channel, nowUs);
  }

  /** Puts the head frame of `q` on the wire; false when its ring is full (the receiver lags). */
  private transmit(q: FrameQueue, nowUs: number): boolean {
    const page = q.headPage();
    const version = this.views.versions === null ? 0 : this.views.versions[page]!;
    const sent = this.emit(page, q.headFlags(), q.headChannel(), version, q === this.urgent, q.headQueuedUs(), nowUs);
    // counted on every frame: a branch the JIT warm-up never took would deoptimise this in a run
    this.stats.ringFullStalls += sent ? 0 : 1;
    if (!sent) return false;
    q.shift(this.pageFrameBytes);
    return true;
  }

  /**
   * Derives page `page` at `version` straight onto channel `channel`'s ring, stamped with its
   * arrival under the link model, and counts it; false (nothing sent) when the ring is full. A frame
   * the link loses takes its wire time and never reaches a ring (the recovery's bitmap will say so).
   * The hot path of every page: allocates nothing.
   */
  emit(page: number, flags: number, channel: number, version: number, isUrgent: boolean, queuedUs: number, nowUs: number): boolean {
    const { image } = this.views;
    const zero = image.isZero(page, version);
    if (zero) flags |= PAGE_FLAG_ZERO;
    const frameBytes = PAGE_HEADER_BYTES + (zero ? 0 : this.opts.pageSize);
    const out = this.outbound;
    const arriveUs = isUrgent ? out.urgentArrivalIfSent(frameBytes, nowUs) : out.arrivalIfSent(frameBytes, nowUs);
    if (arriveUs === LOST) {
      if (isUrgent) out.sendUrgent(frameBytes, nowUs);
      else out.send(frameBytes, nowUs);
      return true;
    }
    const ring = this.toDest[channel]!;
    const payloadAt = ring.reserve(FRAME_PAGE, page, flags, version, !zero, arriveUs);
    if (payloadAt < 0) return false;
    if (!zero) {
      const deriver = this.derivers[channel]!;
      if (deriver !== null) deriver.fill(pageKey(this.opts.seed, page, version), payloadAt);
      else image.fillPage(page, ring.payload, payloadAt, version);
    }
    if (isUrgent) out.sendUrgent(frameBytes, nowUs);
    else out.send(frameBytes, nowUs);
    this.policy.countSent(page, flags, isUrgent, queuedUs, out.lastStartUs, arriveUs);
    if (this.recovery !== null) this.recovery.delivered[page] = 1;
    this.rung[channel] = 1;
    this.rungPage[channel] = page;
    return true;
  }

  /** Publishes written frames and rings each receiver that got some. */
  flush(): void {
    for (let ch = 0; ch < this.toDest.length; ch++) {
      if (!this.rung[ch]) continue;
      this.rung[ch] = 0;
      this.toDest[ch]!.publish();
      const bell = this.bells[ch];
      if (bell) bell.ring();
      else Atomics.notify(this.views.mem.pageState, this.rungPage[ch]!); // a vCPU sleeps on its page
    }
  }

  /**
   * Puts every urgent frame on the wire now, then bulk frames up to the lookahead ahead. Deriving a
   * lookahead's worth of bulk pages takes the thread a while, so it looks at requests every few
   * frames: an urgent request must not wait for this thread's batch either.
   */
  transmitDue(nowUs: number): boolean {
    const { bulk, urgent } = this;
    // The wire stood idle while there were pages to push: this thread came late (the virtual engine
    // sends at the instant the wire frees, so it never does). Counted once per idle stretch.
    if (bulk.length > 0) {
      const idleFromUs = Math.max(nowUs - this.outbound.idleUs(nowUs), this.stallCountedToUs);
      if (idleFromUs < nowUs) this.stats.linkStallUsTotal += nowUs - idleFromUs;
      this.stallCountedToUs = nowUs;
    }
    let blocked = false;
    let n = 0;
    for (;;) {
      while (urgent.length && !blocked) blocked = !this.transmit(urgent, nowUs);
      if (blocked || !bulk.length || this.outbound.backlogUs(nowUs) > this.lookaheadUs) break;
      blocked = !this.transmit(bulk, nowUs);
      if ((++n & 15) === 0) {
        nowUs = this.clock.nowUs();
        if (this.strategy.urgentChannel) {
          this.readRequests();
          this.serveRequests(nowUs);
        }
      }
    }
    this.flush();
    return blocked;
  }

  private readRequests(): void {
    for (let ch = 0; ch < this.toSource.length; ch++) {
      const ring = this.toSource[ch]!;
      for (let sentUs = ring.peek(); sentUs >= 0; sentUs = ring.peek()) {
        const arriveUs = this.inbound.send(REQUEST_BYTES, sentUs);
        const page = ring.a,
          vcpu = ring.b;
        ring.consume();
        // Lost on the way, or sent while the connection is down: asked again after the recovery.
        if (arriveUs === LOST || (this.recovery !== null && !this.recovery.active)) continue;
        this.requests.push(page, vcpu, ch, arriveUs);
      }
      ring.release();
    }
  }

  private serveRequests(nowUs: number): void {
    const { stats, policy, prefetch } = this;
    const q = this.requests;
    for (let arrivedUs = q.nextArrivalUs(); arrivedUs <= nowUs; arrivedUs = q.nextArrivalUs()) {
      const page = q.headPage();
      stats.requestLagUsTotal += Math.max(0, nowUs - arrivedUs);
      // Queued now: the wait behind the link counts from here (the thread's own lateness in getting
      // here is requestLagUsTotal, a simulator cost, not a modelled one).
      if (policy.onRequest(page, q.headVcpu(), arrivedUs, prefetch)) this.queuePage(page, PAGE_FLAG_DEMAND, q.headChannel(), nowUs);
      for (const p of prefetch) this.queuePage(p, PAGE_FLAG_PREFETCH, CH_BULK, nowUs);
      q.shift();
    }
  }

  private fillBulk(nowUs: number): void {
    const committed = this.outbound.backlogBytes(nowUs);
    while (this.bulk.bytes + committed < this.opts.sendBufferBytes) {
      const p = this.policy.nextPush();
      if (p < 0) break;
      this.queueClaimed(p, 0, CH_BULK, nowUs);
    }
  }

  /**
   * One round of the postcopy loop without its sleep: the requests that arrived by `nowUs` served,
   * the send buffer topped up with pushed pages when `pushing`, the frames due put on the wire.
   * Returns whether a ring was full (the receiver lags). The pipeline rig runs it too (pipeline-rig.ts).
   */
  serve(nowUs: number, pushing: boolean): boolean {
    this.readRequests();
    this.serveRequests(nowUs);
    if (pushing) this.fillBulk(nowUs);
    return this.transmitDue(nowUs);
  }

  /** Sleeps until modelled time `wakeUs`, a request, or ring space (every receiver rings the source's bell). */
  sleepUntil(seen: number, wakeUs: number): void {
    const now = this.clock.nowUs();
    if (wakeUs <= now) return;
    this.views.sourceBell.wait(seen, this.opts.serviceSpinUs, wallUsUntil(this.clock, wakeUs, IDLE_WALL_US), this.clock.wallUs);
  }

  private postcopy(): void {
    const { opts, stats, views, outbound } = this;
    while (this.running()) {
      const seen = views.sourceBell.snapshot();
      stats.loops++;
      if (opts.injectFault === 'source-dies' && stats.pagesSent >= 256) throw new Error('injected fault: source host crashed');
      const now = this.clock.nowUs();
      const recovery = this.recovery;
      // A live cut (the demo's button, src/threads/monitor.ts): read first, so the shared line is
      // written only when there is one to take. Once every page is there, there is no migration to
      // cut (as in the virtual engine): it is dropped.
      if (recovery !== null && Atomics.load(views.ctl, CTL_LINK_CUT_US) !== 0) {
        const cutUs = Atomics.exchange(views.ctl, CTL_LINK_CUT_US, 0);
        if (Atomics.load(views.ctl, CTL_MIGRATION_DONE) === 0) recovery.cutNow(now, cutUs);
      }
      if (recovery !== null && !recovery.step(now, [outbound, this.inbound], this.policy, views.mem.pageState, this.dropSockets, this.requeue)) {
        this.readRequests(); // while paused they are lost
        this.stallCountedToUs = now; // a paused link idles by design
        this.sleepUntil(seen, Math.min(now + IDLE_WALL_US / this.clock.dilation, recovery.nextUs()));
        continue;
      }
      const pushing = this.policy.pushing(Atomics.load(views.ctl, CTL_VCPUS_DONE) === opts.vcpus);
      const blocked = this.serve(now, pushing);
      // Wake when the next request is due or when the wire has room for more within the lookahead.
      let wakeUs = now + IDLE_WALL_US / this.clock.dilation;
      wakeUs = Math.min(wakeUs, this.requests.nextArrivalUs());
      if (recovery !== null) wakeUs = Math.min(wakeUs, recovery.nextUs());
      // Top the wire up when TOP_UP_AFTER of what can be committed has drained: the rest is the slack
      // for this thread's own wake-up and its time off the core (a sleep that overshoots by less never
      // idles the link). What can be committed is the lookahead, or less when the send buffer holds
      // less wire time (4 MiB is 1.3 ms at 25 Gbit/s): waking at a part of the lookahead there would
      // never sleep at all.
      if (!blocked && (this.urgent.length || this.bulk.length || (pushing && this.policy.unsent > 0))) {
        wakeUs = Math.min(wakeUs, now + outbound.backlogUs(now) - Math.min(this.lookaheadUs, this.sendBufferUs) * (1 - TOP_UP_AFTER));
      }
      this.sleepUntil(seen, wakeUs);
    }
  }

  /** A pause: what sat in the sockets' buffers is gone with the connection (the bitmap will say so). */
  private readonly dropSockets = (): void => {
    this.bulk.clear();
    this.urgent.clear();
  };
  /** After the bitmap: a page a vCPU still waits for is queued again as demanded. */
  private readonly requeue = (page: number): void => this.queueClaimed(page, PAGE_FLAG_DEMAND, CH_BULK, this.clock.nowUs());

  finish(): SourceStats {
    const { stats } = this;
    // A run that could have been cut but was not reports no recovery, as one without injections.
    if (this.recovery !== null && this.imp!.injected) stats.recovery = this.recovery.ledger.result(this.outbound.framesLost + this.inbound.framesLost);
    if (this.imp?.live.length) stats.liveInjections = this.imp.live;
    stats.bytesToDest = this.outbound.bytes;
    stats.bytesToSource = this.inbound.bytes;
    stats.framesSent = this.outbound.frames;
    stats.sleeps = this.views.sourceBell.sleeps;
    return stats;
  }
}
