/**
 * Injections and postcopy recovery in the virtual engine, on the plan's times: the pause (the
 * source stops; what sat in its socket is gone), the reconnect (the destination sends its
 * received-page bitmap over the link), the bitmap's arrival (the source resends what was lost and
 * the destination's outstanding requests are queued again), and the thread crashes.
 */
import { SimError } from '../errors.js';
import { frameInstaller, TO_PREEMPT } from '../model/delivery.js';
import { LOST } from '../model/link.js';
import { PAGE_FLAG_DEMAND } from '../model/page-flags.js';
import { PAGE_PRESENT, PAGE_REQUESTED } from '../model/page-state.js';
import { bitmapBytes, pagesToResend } from '../model/recovery.js';
import { HANDLER } from './kernel.js';
import { Ph } from './phases.js';
import type { VirtualSim } from './sim.js';
import { kickSource, queueBulk } from './source.js';
import { uffdOfHandler } from './uffd.js';

/** Puts every injection of the plan on the event queue. */
export function scheduleInjections(sim: VirtualSim): void {
  const imp = sim.imp;
  if (!imp) return;
  for (const p of sim.recovery ? imp.pauses() : []) {
    sim.q.push(p.pausedUs, sim.sourceId, Ph.SrcPause, sim.pauses.length);
    sim.q.push(p.recoverUs, sim.sourceId, Ph.SrcRecover, sim.pauses.length);
    sim.pauses.push(p);
  }
  const h = imp.crash('handler-crash');
  if (h && sim.uffds.length) {
    sim.q.push(h.atUs, sim.sourceId, Ph.InjHandlerCrash);
    if (h.restart) sim.q.push(h.atUs + h.durationUs, sim.sourceId, Ph.InjHandlerRestart);
  }
  const f = imp.crash('fetcher-crash');
  if (f) sim.q.push(f.atUs, sim.sourceId, Ph.InjFetcherCrash);
}

/**
 * Cuts the link now for `durationUs` (the demo's "cut the link", asked while the run plays): the
 * same outage, pause and recovery as a planned link-down at this instant. False when the run has no
 * link to cut (no migration over a link, or it is already over).
 */
export function cutLinkNow(sim: VirtualSim, durationUs: number): boolean {
  const imp = sim.imp;
  if (!imp || !sim.recovery || sim.presentPages === sim.pages) return false;
  imp.addLinkDown(sim.now, durationUs);
  const i = sim.pauses.length;
  const p = { pausedUs: sim.now, recoverUs: sim.now + durationUs + imp.reconnectUs, cause: 'link-down (cut live)' };
  sim.pauses.push(p);
  sim.q.push(p.pausedUs, sim.sourceId, Ph.SrcPause, i);
  sim.q.push(p.recoverUs, sim.sourceId, Ph.SrcRecover, i);
  return true;
}

export function onPause(sim: VirtualSim, i: number): void {
  sim.recovery!.paused(sim.now, sim.pauses[i]!.cause);
  // The socket's send buffer goes with the connection: those pages never left (the bitmap says so).
  const s = sim.source;
  s.bulk.length = s.bulkTo.length = s.bulkQueuedUs.length = 0;
  s.bulkHead = 0;
}

export function onRecover(sim: VirtualSim, i: number): void {
  const p = sim.pauses[i]!;
  if (sim.imp!.isDown('inbound', sim.now)) return; // a later outage covers this one: its own recover event comes
  sim.outbound!.reset(sim.now);
  sim.inbound!.reset(sim.now);
  sim.recovery!.recovering(sim.now, p.recoverUs - sim.imp!.reconnectUs);
  const at = sim.inbound!.send(bitmapBytes(sim.pages), sim.now);
  if (at !== LOST) sim.q.push(at, sim.sourceId, Ph.SrcBitmap);
}

/** The bitmap reached the source: resend what the destination lacks, and its outstanding requests. */
export function onBitmap(sim: VirtualSim): void {
  const policy = sim.policy!,
    received = (p: number) => sim.state[p] === PAGE_PRESENT || sim.received![p] === 1;
  const resend = pagesToResend(policy.sent, received, sim.opts.unsafeForgetResend);
  for (const p of resend) policy.unclaim(p);
  let requests = 0;
  for (let p = 0; p < sim.pages; p++) {
    if (sim.state[p] !== PAGE_REQUESTED || received(p) || !policy.claim(p)) continue;
    requests++;
    const urgent = policy.isUrgent(PAGE_FLAG_DEMAND);
    const to = frameInstaller(sim.opts, PAGE_FLAG_DEMAND, urgent) === TO_PREEMPT ? sim.preempt : sim.fetcher;
    queueBulk(sim, p, PAGE_FLAG_DEMAND, to);
  }
  sim.recovery!.active(sim.now, resend.length, requests);
  kickSource(sim);
}

/** Every uffd handler dies; with :restart new ones start after the duration. */
export function onHandlerCrash(sim: VirtualSim): void {
  for (const t of sim.threads) {
    if (t.kind !== HANDLER) continue;
    uffdOfHandler(sim, t).polling.delete(t.id);
    sim.kill(t);
  }
  sim.handlersDead = true;
}

export function onHandlerRestart(sim: VirtualSim): void {
  sim.handlersDead = false;
  for (const t of sim.threads) if (t.kind === HANDLER) sim.revive(t, Ph.HPoll);
}

export function onFetcherCrash(sim: VirtualSim): never {
  throw new SimError(
    'GUEST_LOST',
    `the destination's page fetcher died at ${(sim.now / 1000).toFixed(1)} ms with ` +
      `${sim.pages - sim.presentPages} pages only on the source: the guest is lost (postcopy depends on both hosts)`,
  );
}
