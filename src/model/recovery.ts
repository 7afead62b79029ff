/**
 * Postcopy recovery, as QEMU does it, in both engines: when the link (or the source) goes, both sides
 * pause; pages in flight are lost and faulting vCPUs stay blocked. After the outage and a reconnect,
 * the destination sends its received-page bitmap; the source resends every page it had sent that the
 * destination does not have, the destination re-sends its outstanding requests, and the run goes on.
 * The ledger records every state change and what recovery cost.
 */
import { blocktimeUs, type BlockLedger } from './blocktime.js';
import type { RecoveryStats, RunState } from './impairments.js';

/** Bytes of the received-page bitmap for `pages` pages (one bit each, plus a frame header). */
export function bitmapBytes(pages: number): number {
  return Math.ceil(pages / 8) + 16;
}

/**
 * The pages the source must send again: marked sent, not received at the destination. With
 * `forgetOne` (a deliberate bug, for the test that must catch it) the first such page is left out.
 */
export function pagesToResend(sent: Uint8Array, received: (page: number) => boolean, forgetOne: boolean): number[] {
  const out: number[] = [];
  let forgot = !forgetOne;
  for (let p = 0; p < sent.length; p++) {
    if (!sent[p] || received(p)) continue;
    if (!forgot) {
      forgot = true;
      continue;
    }
    out.push(p);
  }
  return out;
}

export class RecoveryLedger {
  readonly stats: RecoveryStats = { timeline: [], pausedMs: 0, framesLost: 0, pagesResent: 0, requestsResent: 0, blocktimePausedMs: 0, recoverMs: 0 };
  state: RunState = 'active';
  private pausedSinceUs = 0;
  private blocktimeAtPauseUs = 0;
  private outageEndUs = 0;

  /** `originUs`: the engine's clock when the migration started (timeline times count from it). */
  constructor(
    private readonly blocks: BlockLedger | null,
    private readonly originUs = 0,
  ) {}

  private mark(tUs: number, state: RunState, cause: string): void {
    this.state = state;
    this.stats.timeline.push({ tMs: Math.round(tUs - this.originUs) / 1000, state, cause });
  }

  paused(tUs: number, cause: string): void {
    if (this.state !== 'active') return;
    this.pausedSinceUs = tUs;
    this.blocktimeAtPauseUs = this.blocks ? blocktimeUs(this.blocks, tUs) : 0;
    this.mark(tUs, 'paused', cause);
  }

  /** The outage ended at `outageEndUs`; the two sides reconnected at `tUs`. */
  recovering(tUs: number, outageEndUs: number): void {
    if (this.state !== 'paused') return;
    this.outageEndUs = outageEndUs;
    this.stats.pausedMs += (tUs - this.pausedSinceUs) / 1000;
    if (this.blocks) this.stats.blocktimePausedMs += (blocktimeUs(this.blocks, tUs) - this.blocktimeAtPauseUs) / 1000;
    this.mark(tUs, 'recover', 'reconnected: the destination sends its received-page bitmap');
  }

  /** The bitmap arrived; `resent` pages go again, `requests` outstanding requests are re-sent. */
  active(tUs: number, resent: number, requests: number): void {
    if (this.state !== 'recover') return;
    this.stats.pagesResent += resent;
    this.stats.requestsResent += requests;
    this.stats.recoverMs = Math.round((tUs - this.outageEndUs) * 10) / 10000;
    this.mark(tUs, 'active', `${resent} pages to resend, ${requests} requests re-sent`);
  }

  result(framesLost: number): RecoveryStats {
    const s = this.stats;
    return { ...s, framesLost, pausedMs: Math.round(s.pausedMs * 100) / 100, blocktimePausedMs: Math.round(s.blocktimePausedMs * 100) / 100 };
  }
}
