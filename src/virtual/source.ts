/**
 * The source-host actor and the link: requests arrive over the inbound Link, the send policy (the
 * model's) decides what to send, frames leave on the bulk stream (bounded by the send buffer) or the
 * urgent socket, and arrive at the thread they are for. Hybrid's precopy rounds run here too (the
 * model's PrecopyRounds), ending in the switch: the destination discards what went stale, and the
 * guest starts there.
 */
import { traceOpener } from '../trace/replay.js';
import {
  DISCARD_BYTES_PER_PAGE,
  DISCARDS_PER_FRAME,
  PAGE_FLAG_DEMAND,
  PAGE_FLAG_PRECOPY,
  PAGE_FLAG_PREFETCH,
  PAGE_FLAG_RESENT,
  PAGE_FLAG_ZERO,
  PAGE_HEADER_BYTES,
  REQUEST_BYTES,
} from '../model/page-flags.js';
import { oldCopyPage, PrecopyRounds } from '../model/precopy.js';
import { isZeroAt } from '../model/image.js';
import { LOST } from '../model/link.js';
import { frameInstaller, TO_PREEMPT, TO_VCPU } from '../model/delivery.js';
import { VCPU, type Thread } from './kernel.js';
import { frameOf } from './frame.js';
import { Ph } from './phases.js';
import type { VirtualSim } from './sim.js';

/** Marker in a thread's arrivals: hybrid's discard list arrived (after every precopy frame before it). */
export const DISCARD_ARRIVAL = -1;

/** The thread that installs a frame, as the model decides who does (src/model/delivery.ts). */
function installerThread(sim: VirtualSim, who: number, vcpu: number): number {
  return who === TO_VCPU ? vcpu : who === TO_PREEMPT ? sim.preempt : sim.fetcher;
}

export function startSource(sim: VirtualSim): void {
  if (!sim.outbound) return;
  if (sim.precopy) {
    sim.source.rounds = new PrecopyRounds(sim.opts, traceOpener(sim.opts));
    sim.source.roundStartUs = sim.now;
  }
  kickSource(sim);
}

export function sendRequest(sim: VirtualSim, t: Thread): void {
  const src = sim.source;
  if (t.kind === VCPU) sim.vcpus[t.id]!.selfRequests++;
  else {
    const st = sim.statsOf(t);
    st.requestsSent++;
    st.requestBytesSent += REQUEST_BYTES;
  }
  const arrive = sim.inbound!.send(REQUEST_BYTES, sim.now);
  if (arrive === LOST) return; // the link is down: the destination asks again after recovery
  src.reqPage.push(t.page);
  src.reqVcpu.push(t.kind === VCPU ? t.id : t.flags); // who faulted (the fetcher and handlers keep it in flags)
  sim.q.push(arrive, sim.sourceId, Ph.SrcReq);
}

export function onRequest(sim: VirtualSim): void {
  const src = sim.source,
    policy = sim.policy!;
  const i = src.reqHead++;
  const page = src.reqPage[i]!,
    vcpu = src.reqVcpu[i]!;
  if (sim.recovery && sim.recovery.state !== 'active') {
    // paused: the destination asks again after recovery
    if (src.reqHead === src.reqPage.length) {
      src.reqPage.length = src.reqVcpu.length = 0;
      src.reqHead = 0;
    }
    return;
  }
  if (policy.onRequest(page, vcpu, sim.now, src.prefetch)) {
    policy.claim(page);
    const urgent = policy.isUrgent(PAGE_FLAG_DEMAND);
    const to = installerThread(sim, frameInstaller(sim.opts, PAGE_FLAG_DEMAND, urgent), vcpu);
    if (urgent) transmit(sim, page, PAGE_FLAG_DEMAND, to, true, sim.now);
    else queueBulk(sim, page, PAGE_FLAG_DEMAND, to);
  }
  for (const p of src.prefetch) if (policy.claim(p)) queueBulk(sim, p, PAGE_FLAG_PREFETCH, sim.fetcher);
  if (src.reqHead === src.reqPage.length) {
    src.reqPage.length = src.reqVcpu.length = 0;
    src.reqHead = 0;
  }
  kickSource(sim);
}

export function queueBulk(sim: VirtualSim, page: number, flags: number, to: number): void {
  const src = sim.source;
  src.bulk.push(page * 64 + flags);
  src.bulkTo.push(to);
  src.bulkQueuedUs.push(sim.now);
}

/** Fills the send buffer (precopy's round, or the strategy's push order) and puts the head frame on an idle wire. */
export function kickSource(sim: VirtualSim): void {
  const o = sim.opts,
    src = sim.source,
    policy = sim.policy!;
  if (sim.recovery && sim.recovery.state !== 'active') return; // paused: the source waits for the bitmap
  const frameBytes = o.pageSize + PAGE_HEADER_BYTES;
  const room = () => (src.bulk.length - src.bulkHead) * frameBytes < o.sendBufferBytes;
  if (sim.precopy) fillPrecopy(sim, room);
  else if (policy.pushing(sim.vcpusDone === o.vcpus)) {
    while (room()) {
      const p = policy.nextPush();
      if (p < 0) break;
      queueBulk(sim, p, 0, sim.fetcher);
    }
  }
  if (src.txScheduled || src.bulkHead >= src.bulk.length) return;
  const out = sim.outbound!;
  if (out.backlogUs(sim.now) > 0) {
    src.txScheduled = true;
    sim.q.push(sim.now + out.backlogUs(sim.now), sim.sourceId, Ph.SrcTx);
    return;
  }
  const h = src.bulkHead++;
  const a = src.bulk[h]!,
    to = src.bulkTo[h]!,
    queuedUs = src.bulkQueuedUs[h]!;
  if (src.bulkHead === src.bulk.length) {
    src.bulk.length = src.bulkTo.length = src.bulkQueuedUs.length = 0;
    src.bulkHead = 0;
  }
  transmit(sim, Math.floor(a / 64), a % 64, to, false, queuedUs);
  src.txScheduled = true;
  sim.q.push(sim.now + out.backlogUs(sim.now), sim.sourceId, Ph.SrcTx);
}

export function onTx(sim: VirtualSim): void {
  sim.source.txScheduled = false;
  kickSource(sim);
}

/** Sends one frame: the page as the source holds it now (hybrid: by its version), or an older `version`. */
function transmit(sim: VirtualSim, page: number, flags: number, to: number, urgent: boolean, queuedUs: number, version = -1): void {
  const out = sim.outbound!;
  const rounds = sim.source.rounds; // hybrid: a page the guest wrote during precopy is sent by its version
  const ver = version >= 0 ? version : rounds === null ? 0 : rounds.versions[page]!;
  const zero = isZeroAt(sim.opts.seed, page, sim.opts.zeroFraction, ver);
  if (zero) flags |= PAGE_FLAG_ZERO;
  const bytes = PAGE_HEADER_BYTES + (zero ? 0 : sim.opts.pageSize);
  const arrive = urgent ? out.sendUrgent(bytes, sim.now) : out.send(bytes, sim.now);
  if (arrive === LOST) return; // lost in flight: the page stays marked sent until the bitmap says otherwise
  sim.policy!.countSent(page, flags, urgent, queuedUs, out.lastStartUs, arrive);
  sim.q.push(arrive, to, Ph.Arrive, frameOf(page, flags, ver));
}

// ---- hybrid: precopy rounds while the guest still runs on the source

function fillPrecopy(sim: VirtualSim, room: () => boolean): void {
  const src = sim.source;
  const total = src.round === null ? sim.pages : src.round.length;
  const flags = PAGE_FLAG_PRECOPY | (src.roundNo > 0 ? PAGE_FLAG_RESENT : 0);
  while (room() && src.roundNext < total) {
    const p = src.round === null ? src.roundNext : src.round[src.roundNext]!;
    src.roundNext++;
    queueBulk(sim, p, flags, sim.fetcher);
  }
  // The round lasts until its last frame has arrived.
  if (src.roundNext >= total && src.bulkHead >= src.bulk.length && !src.txScheduled && !src.roundEndScheduled) {
    src.roundEndScheduled = true;
    sim.q.push(Math.max(sim.now, sim.sstats.lastArriveUs), sim.sourceId, Ph.SrcRoundEnd);
  }
}

/** A precopy round's last frame arrived: the guest dirtied pages meanwhile; resend them or switch. */
export function onPrecopyRoundEnd(sim: VirtualSim): void {
  const src = sim.source,
    st = sim.sstats;
  src.roundEndScheduled = false;
  const next = src.rounds!.dirtied(sim.now - src.roundStartUs);
  src.round = next;
  st.precopyRounds++;
  src.roundNo++;
  if (src.roundNo < sim.strategy.precopyRounds! && next.length > 0) {
    src.roundNext = sim.opts.injectBug === 'skip-resend' ? 1 : 0; // the injected bug: the round's first page is never resent
    src.roundStartUs = sim.now;
    kickSource(sim);
    return;
  }
  switchToPostcopy(sim, next);
}

/** The switch: stop the guest on the source, tell the destination which copies are stale. */
function switchToPostcopy(sim: VirtualSim, stale: number[]): void {
  const src = sim.source,
    out = sim.outbound!;
  sim.switchStartUs = sim.now;
  sim.sstats.pagesDiscarded = stale.length;
  src.stale = stale;
  if (sim.opts.injectBug === 'install-old-version') {
    // the injected bug: an old copy of a resent page arrives late
    const p = oldCopyPage(src.rounds!.versions, stale);
    if (p >= 0) transmit(sim, p, PAGE_FLAG_PRECOPY | PAGE_FLAG_RESENT, sim.fetcher, false, sim.now, src.rounds!.versions[p]! - 1);
  }
  let arrive = sim.now;
  for (let k = 0; k === 0 || k < stale.length; k += DISCARDS_PER_FRAME) {
    const n = Math.min(DISCARDS_PER_FRAME, stale.length - k);
    arrive = out.send(PAGE_HEADER_BYTES + n * DISCARD_BYTES_PER_PAGE, sim.now);
  }
  sim.q.push(arrive, sim.fetcher, Ph.Arrive, DISCARD_ARRIVAL);
}
