/**
 * Postcopy recovery on the threaded engine's source thread: the plan's pauses on the thread's clock,
 * the reconnect, the destination's received-page bitmap (what is present in guest memory, and what
 * was delivered into the destination's rings) crossing the link, and then the resends and re-sent
 * requests, all decided by the model (src/model/recovery.ts) as in the virtual engine. A link cut
 * asked for while the run plays (the demo's button) becomes one more pause, from the instant this
 * thread takes it.
 */
import type { BlockLedger } from '../model/blocktime.js';
import type { Impairments, RunState } from '../model/impairments.js';
import { LOST, type Link } from '../model/link.js';
import { PAGE_PRESENT, PAGE_REQUESTED, PAGE_STATE_MASK } from '../model/page-state.js';
import { bitmapBytes, pagesToResend, RecoveryLedger } from '../model/recovery.js';
import type { SendPolicy } from '../model/send-policy.js';

export class SourceRecovery {
  readonly ledger: RecoveryLedger;
  /** pages written into a destination ring: the destination has them, installed or not */
  readonly delivered: Uint8Array;
  private readonly pauses: Array<{ pausedUs: number; recoverUs: number; cause: string }>;
  private next = 0;
  private bitmapAtUs = Infinity;
  private outageEndUs = 0;

  /**
   * `publish` hears each change of the migration's state (the main thread's event stream shows it).
   */
  constructor(
    private readonly imp: Impairments,
    originUs: number,
    pages: number,
    private readonly forgetOne: boolean,
    blocks: BlockLedger,
    private readonly publish: (state: RunState) => void = () => {},
  ) {
    imp.originUs = originUs;
    this.ledger = new RecoveryLedger(blocks, originUs);
    this.pauses = imp.pauses().map((p) => ({ ...p, pausedUs: p.pausedUs + originUs, recoverUs: p.recoverUs + originUs }));
    this.delivered = new Uint8Array(pages);
  }

  get active(): boolean {
    return this.ledger.state === 'active';
  }

  /**
   * The link goes down now for `durationUs` (a live cut): the same outage as a planned link-down
   * from `nowUs`. While paused it lengthens the pause; otherwise it is the next pause (merged with
   * a planned one it overlaps), so a cut during the recovery pauses again once it is done.
   */
  cutNow(nowUs: number, durationUs: number): void {
    this.imp.addLinkDown(nowUs, durationUs);
    const recoverUs = nowUs + durationUs + this.imp.reconnectUs;
    const cause = 'link-down (cut live)';
    const p = this.pauses[this.next];
    if (p && this.ledger.state === 'paused') p.recoverUs = Math.max(p.recoverUs, recoverUs);
    else if (p && p.pausedUs <= recoverUs) {
      if (nowUs < p.pausedUs) {
        p.pausedUs = nowUs;
        p.cause = cause;
      }
      p.recoverUs = Math.max(p.recoverUs, recoverUs);
    } else this.pauses.splice(this.next, 0, { pausedUs: nowUs, recoverUs, cause });
  }

  /** When the thread must look again (the next pause, reconnect or bitmap arrival). */
  nextUs(): number {
    const p = this.pauses[this.next];
    if (this.ledger.state === 'recover') return this.bitmapAtUs;
    if (!p) return Infinity;
    return this.ledger.state === 'active' ? p.pausedUs : p.recoverUs;
  }

  /**
   * Moves through the states due by `nowUs`. `onPause` drops what sat in the sockets; `requeue`
   * queues a page to send again as demanded. Returns true when the source may send.
   */
  step(nowUs: number, links: Link[], policy: SendPolicy, pageState: Int32Array, onPause: () => void, requeue: (page: number) => void): boolean {
    const was = this.ledger.state;
    const p = this.pauses[this.next];
    if (p && this.ledger.state === 'active' && nowUs >= p.pausedUs) {
      this.ledger.paused(p.pausedUs, p.cause);
      onPause();
    } // the plan's time: this thread may notice late
    if (p && this.ledger.state === 'paused' && nowUs >= p.recoverUs && !this.imp.isDown('inbound', nowUs)) {
      for (const l of links) l.reset(nowUs);
      this.outageEndUs = p.recoverUs - this.imp.reconnectUs;
      this.ledger.recovering(p.recoverUs, this.outageEndUs);
      const at = links[1]!.send(bitmapBytes(pageState.length), nowUs); // the return path
      this.bitmapAtUs = at === LOST ? Infinity : at;
      this.next++;
    }
    if (this.ledger.state === 'recover' && nowUs >= this.bitmapAtUs) this.bitmapArrived(nowUs, policy, pageState, requeue);
    if (this.ledger.state !== was) this.publish(this.ledger.state);
    return this.ledger.state === 'active';
  }

  private bitmapArrived(nowUs: number, policy: SendPolicy, pageState: Int32Array, requeue: (page: number) => void): void {
    const received = (p: number) => (Atomics.load(pageState, p) & PAGE_STATE_MASK) === PAGE_PRESENT || this.delivered[p] === 1;
    const resend = pagesToResend(policy.sent, received, this.forgetOne);
    for (const p of resend) policy.unclaim(p);
    let requests = 0;
    for (let p = 0; p < pageState.length; p++) {
      if ((Atomics.load(pageState, p) & PAGE_STATE_MASK) !== PAGE_REQUESTED || received(p) || !policy.claim(p)) continue;
      requests++;
      requeue(p);
    }
    this.bitmapAtUs = Infinity;
    this.ledger.active(nowUs, resend.length, requests);
  }
}
