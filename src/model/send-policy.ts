/**
 * The source host's send policy, shared by both engines' source actors: which pages still need
 * sending (QEMU's dirty bitmap, cleared when a page is queued), what a request triggers (the
 * demanded page, unless already sent, plus the strategy's prefetch), which socket a frame takes
 * (postcopy-preempt's urgent channel or the bulk stream), and the send statistics.
 */
import { PAGE_FLAG_DEMAND, PAGE_FLAG_PRECOPY, PAGE_FLAG_PREFETCH, PAGE_FLAG_RESENT, PAGE_FLAG_ZERO } from './page-flags.js';
import type { SourceStats } from './stats.js';
import type { Strategy } from './strategies/strategy.js';

export class SendPolicy {
  /** 1 once a page is queued for the wire: never queued twice. */
  readonly sent: Uint8Array;
  unsent: number;
  constructor(
    readonly pages: number,
    readonly strategy: Strategy,
    readonly stats: SourceStats,
    recordOrder = false,
  ) {
    this.sent = new Uint8Array(pages);
    this.unsent = pages;
    if (recordOrder) stats.sendOrder = [];
  }

  /** Marks `page` queued; false when it already was (nothing to send). */
  claim(page: number): boolean {
    if (this.sent[page]) return false;
    this.sent[page] = 1;
    this.unsent--;
    return true;
  }

  /**
   * A request for `page` from `vcpu` reached the source at `arrivedUs`. Fills `prefetch` with the
   * strategy's extra pages (in range, maybe already sent) and returns whether the demanded page must
   * be sent (false: it is already on its way, as QEMU skips pages no longer dirty).
   */
  onRequest(page: number, vcpu: number, arrivedUs: number, prefetch: number[]): boolean {
    this.stats.requestsReceived++;
    prefetch.length = 0;
    this.strategy.onRequest(page, vcpu, arrivedUs, prefetch);
    let n = 0;
    for (const p of prefetch) if (p >= 0 && p < this.pages) prefetch[n++] = p;
    prefetch.length = n;
    if (this.sent[page]) {
      this.stats.requestsForSentPages++;
      return false;
    }
    return true;
  }

  /** Recovery: `page` was lost on the way (or never left the socket): it is to be sent again. */
  unclaim(page: number): void {
    if (!this.sent[page]) return;
    this.sent[page] = 0;
    this.unsent++;
    if (page < this.resendCursor) this.resendCursor = page;
  }
  private resendCursor = 0;

  /** Frames with these flags go on the urgent socket (demanded pages, when the strategy has one). */
  isUrgent(flags: number): boolean {
    return (flags & PAGE_FLAG_DEMAND) !== 0 && this.strategy.urgentChannel;
  }

  /** The source pushes in the background while the guest runs, or once every vCPU is done. */
  pushing(vcpusDone: boolean): boolean {
    return this.strategy.pushWhileGuestRuns || vcpusDone;
  }

  /** The next page to push and claims it, or -1 when none is left. */
  nextPush(): number {
    if (this.unsent <= 0) return -1;
    let p = this.strategy.nextPush(this.sent);
    // A strategy's scan finishes its lap once; pages that recovery marked unsent again are swept here.
    if (p < 0) {
      while (this.resendCursor < this.pages && this.sent[this.resendCursor]) this.resendCursor++;
      p = this.resendCursor < this.pages ? this.resendCursor : -1;
    }
    if (p >= 0) this.claim(p);
    return p;
  }

  /**
   * Hybrid's switch: every page was sent in precopy; the stale ones become unsent again for the
   * postcopy phase.
   */
  resetTo(stale: readonly number[]): void {
    this.sent.fill(1);
    this.unsent = 0;
    for (const p of stale) {
      this.sent[p] = 0;
      this.unsent++;
    }
  }

  /**
   * Page `page`'s frame went on the wire at `startUs` (queued at `queuedUs`), arriving at `arriveUs`:
   * count it. A demanded page's queueing delay is the time from being queued to its first bit.
   */
  countSent(page: number, flags: number, urgent: boolean, queuedUs: number, startUs: number, arriveUs: number): void {
    const st = this.stats;
    if (st.sendOrder) st.sendOrder.push(page, flags);
    if (flags & PAGE_FLAG_DEMAND) {
      const waitedUs = startUs - queuedUs;
      st.demandQueueUsTotal += waitedUs;
      st.demandQueueUsMax = Math.max(st.demandQueueUsMax, waitedUs); // no branch: one a warm-up rarely takes deoptimises a run
      st.pagesDemand++;
      if (urgent) st.pagesUrgent++;
    } else st.pagesPushed++;
    if (flags & PAGE_FLAG_PREFETCH) st.pagesPrefetched++;
    if (flags & PAGE_FLAG_PRECOPY) st.precopyPagesSent++;
    if (flags & PAGE_FLAG_RESENT) st.pagesResent++;
    if (flags & PAGE_FLAG_ZERO) st.zeroPages++;
    if (arriveUs > st.lastArriveUs) st.lastArriveUs = arriveUs;
    st.pagesSent++;
  }
}
