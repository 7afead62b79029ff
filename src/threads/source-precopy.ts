/**
 * Hybrid's precopy on the source host (the rounds themselves are the model's, src/model/precopy.ts):
 * round 0 sends every page while the guest still runs on the source, each later round resends what
 * the guest wrote during the one before, and the switch stops the guest, tells the destination
 * which copies went stale (discards) and lets the guest start there.
 *
 * Fault injection for the proof's tests (`injectBug`), each a bug a real source could have:
 *   skip-resend          the first page of every resend round is never resent (its copy stays old)
 *   install-old-version  at the switch an old copy of a resent page arrives late and overwrites it
 * (lose-discard is the destination's, src/threads/fetcher.ts; the virtual engine injects the same three,
 * src/virtual/source.ts and fetcher.ts.)
 */
import { traceOpener } from '../trace/replay.js';
import { IDLE_WALL_US } from './doorbell.js';
import { CTL_GO, TIME_SWITCH_START_US } from './layout.js';
import { DISCARD_BYTES_PER_PAGE, DISCARDS_PER_FRAME, PAGE_FLAG_PRECOPY, PAGE_FLAG_RESENT, PAGE_HEADER_BYTES } from '../model/page-flags.js';
import { oldCopyPage, PrecopyRounds } from '../model/precopy.js';
import { CH_BULK, FRAME_DISCARD } from './protocol.js';
import type { Clock } from './clock.js';
import type { FrameQueue } from './frame-queue.js';
import type { Views } from './shared.js';
import type { WireRing } from './wire.js';
import type { Link } from '../model/link.js';
import type { SendPolicy } from '../model/send-policy.js';
import type { SourceStats } from '../model/stats.js';
import type { Strategy } from '../model/strategies/index.js';
import type { ResolvedOptions } from '../options.js';

/**
 * What the precopy rounds need of the source host (SourceHost implements it): declared here so that
 * this file does not import source.ts, which imports it.
 */
export interface PrecopyHost {
  readonly opts: ResolvedOptions;
  readonly clock: Clock;
  readonly views: Views;
  readonly toDest: WireRing[];
  readonly outbound: Link;
  readonly strategy: Strategy;
  readonly stats: SourceStats;
  readonly policy: SendPolicy;
  readonly bulk: FrameQueue;
  readonly lookaheadUs: number;
  readonly pageFrameBytes: number;
  stallCountedToUs: number;
  running(): boolean;
  emit(page: number, flags: number, channel: number, version: number, isUrgent: boolean, queuedUs: number, nowUs: number): boolean;
  flush(): void;
  transmitDue(nowUs: number): boolean;
  sleepUntil(seen: number, wakeUs: number): void;
}

export function runPrecopyRounds(host: PrecopyHost): void {
  const { views, clock, stats } = host;
  if (Atomics.load(views.ctl, CTL_GO) !== 0) return;
  const rounds = new PrecopyRounds(host.opts, traceOpener(host.opts), views.versions); // the guest's writes change the source's pages
  let round: number[] | null = null; // null: every page
  for (let r = 0; r < host.strategy.precopyRounds! && host.running(); r++) {
    const roundStartUs = clock.nowUs();
    sendRound(host, round, r);
    // The round lasts until its last frame has arrived; meanwhile the guest writes pages (the model's).
    while (host.running() && clock.nowUs() < stats.lastArriveUs) host.sleepUntil(views.sourceBell.snapshot(), stats.lastArriveUs);
    round = rounds.dirtied(clock.nowUs() - roundStartUs);
    stats.precopyRounds++;
    if (round.length === 0) break;
  }
  // The switch: stop the guest here, tell the destination which copies are stale, resume there.
  views.times[TIME_SWITCH_START_US] = clock.nowUs();
  const stale = round ?? [];
  stats.pagesDiscarded = stale.length;
  if (host.opts.injectBug === 'install-old-version') sendOldCopy(host, stale);
  sendDiscards(host, stale);
  // Everything else was sent; the stale pages become unsent again for the postcopy phase.
  host.policy.resetTo(stale);
  while (host.running() && Atomics.load(views.ctl, CTL_GO) === 0) Atomics.wait(views.ctl, CTL_GO, 0, 20);
  host.stallCountedToUs = clock.nowUs(); // the switch left the wire idle by design
}

/** One round: every page (round 0) or the pages written during the last round, through the bulk socket. */
function sendRound(host: PrecopyHost, round: number[] | null, r: number): void {
  const { clock, bulk, opts, views } = host;
  const total = round === null ? opts.pages : round.length;
  const flags = PAGE_FLAG_PRECOPY | (r > 0 ? PAGE_FLAG_RESENT : 0);
  let i = r > 0 && opts.injectBug === 'skip-resend' ? 1 : 0;
  while (host.running() && (i < total || bulk.length > 0)) {
    const seen = views.sourceBell.snapshot();
    const now = clock.nowUs();
    while (i < total && bulk.bytes < opts.sendBufferBytes) {
      bulk.push(round === null ? i : round[i]!, flags, CH_BULK, now, host.pageFrameBytes);
      i++;
    }
    const blocked = host.transmitDue(now);
    host.sleepUntil(seen, blocked ? now + IDLE_WALL_US / clock.dilation : now + host.outbound.backlogUs(now) - host.lookaheadUs / 2);
  }
}

/** The switch's discard frames on the bulk stream (at least one: its `final` lets the guest go). */
function sendDiscards(host: PrecopyHost, stale: number[]): void {
  const { clock, outbound, views } = host;
  const ring = host.toDest[CH_BULK]!;
  for (let k = 0; k === 0 || k < stale.length; k += DISCARDS_PER_FRAME) {
    const chunk = stale.slice(k, k + DISCARDS_PER_FRAME);
    const final = k + DISCARDS_PER_FRAME >= stale.length ? 1 : 0;
    const bytes = PAGE_HEADER_BYTES + chunk.length * DISCARD_BYTES_PER_PAGE;
    const now = clock.nowUs();
    while (host.running() && !ring.write(FRAME_DISCARD, final, 0, 0, outbound.arrivalIfSent(bytes, now), chunk, chunk.length)) {
      host.sleepUntil(views.sourceBell.snapshot(), now + IDLE_WALL_US / clock.dilation);
    }
    outbound.send(bytes, now);
    views.fetcherBell.ring();
  }
}

/**
 * The injected bug install-old-version: a copy of a resent page, one version old, arrives after the
 * resend (as a frame delayed on a second path would). The page must not be stale, or the discard
 * would hide the bug.
 */
function sendOldCopy(host: PrecopyHost, stale: number[]): void {
  const versions = host.views.versions;
  if (versions === null) return;
  const p = oldCopyPage(versions, stale); // which page: the model's, as the virtual engine picks it
  if (p < 0) return;
  const now = host.clock.nowUs();
  while (host.running() && !host.emit(p, PAGE_FLAG_PRECOPY | PAGE_FLAG_RESENT, CH_BULK, versions[p]! - 1, false, now, now)) {
    host.sleepUntil(host.views.sourceBell.snapshot(), now + IDLE_WALL_US / host.clock.dilation);
  }
  host.flush();
}
