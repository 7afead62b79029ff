/**
 * The link between source and destination: a pure model, driven by whatever clock the engine uses.
 *
 * One direction of a link serialises frames at `bandwidthBps` and delivers each `latencyUs` after
 * its last bit leaves; every frame costs `overheadBytes` on top of its payload (headers). Frames
 * leave in the order they were queued, so a page queued behind others waits for them: the queueing
 * delay that made vanilla postcopy slow. With injections (src/model/impairments.ts) the rate and
 * latency change over time, frames sent while the channel is down, or in flight when it goes down,
 * are lost (send returns LOST), and a frame lost to packet loss arrives one retransmission timeout
 * late, holding back the frames behind it on its socket, as TCP's in-order delivery does.
 *
 * A second socket can share the wire (postcopy-preempt's urgent channel): its frame does not wait
 * behind the bulk frames queued, but it does wait for the frame being serialised when it arrives,
 * as two sockets on one NIC do (a frame on the wire is never cut). The link keeps the bulk frames
 * committed to the wire (start, end) to know which one that is:
 *
 *   bulk   |--A--|--B--|--C--|           urgent U queued while A is on the wire:
 *   wire   |--A--|-U-|--B--|--C--|       U starts when A ends; B and C leave U's time later
 *
 * (An engine that stamped B and C before U arrived keeps their stamps: the error is at most one
 * frame time per urgent frame inside that engine's lookahead; the wire's total time stays exact.)
 */
import type { Channel, Impairments } from './impairments.js';
import { TCP_RTO_MIN_US } from './injections.js';

export interface LinkConfig {
  bandwidthBps: number;
  latencyUs: number;
  overheadBytes: number;
}

/** send() of a frame that never arrives. */
export const LOST = -1;

export class Link {
  /** When the last queued bit leaves the sender (us). */
  private txFreeUs = 0;
  /** In-order delivery per socket: no frame arrives before the one queued ahead of it. */
  private lastArriveUs = 0;
  private lastUrgentArriveUs = 0;
  /** When the last urgent frame's last bit leaves (urgent frames are FIFO among themselves). */
  private urgentFreeUs = 0;
  /**
   * Bulk frames on the wire or committed to it, oldest first: a ring of (start, end) pairs. Room for
   * what the threaded source commits ahead on its default send buffer (4 MiB: about 1,000 frames), so
   * that it does not grow inside a run: growing there first (a branch the JIT warm-up never took)
   * threw the source's compiled code away at the start of a migration (V8 --trace-deopt).
   */
  private spans = new Float64Array(2 * 2048);
  private spanHead = 0;
  private spanCount = 0;
  /** Transmission start of the frame sent last (send or sendUrgent). */
  lastStartUs = 0;
  bytes = 0;
  frames = 0;
  busyUs = 0;
  framesLost = 0;
  constructor(
    readonly cfg: LinkConfig,
    private readonly imp: Impairments | null = null,
    private readonly channel: Channel = 'bulk',
  ) {}

  private rateAt(tUs: number): number {
    return this.imp ? this.imp.bandwidthAt(tUs, this.cfg.bandwidthBps) : this.cfg.bandwidthBps;
  }

  /** Microseconds to put `wireBytes` on the wire (at the base rate, or the rate in force at `atUs`). */
  serialiseUs(wireBytes: number, atUs = -1): number {
    const bps = atUs >= 0 ? this.rateAt(atUs) : this.cfg.bandwidthBps;
    return Number.isFinite(bps) ? (wireBytes * 8 * 1e6) / bps : 0;
  }

  private latencyAt(tUs: number): number {
    return this.cfg.latencyUs + (this.imp ? this.imp.extraLatencyAt(tUs) : 0);
  }

  /** Queue a frame of `payloadBytes` at `nowUs`; returns its arrival time at the other end, or LOST. */
  send(payloadBytes: number, nowUs: number): number {
    return this.put(payloadBytes, nowUs, false, this.channel);
  }

  /**
   * Sends a frame on a second socket that shares the wire (postcopy-preempt's urgent channel): it
   * does not wait behind the bulk frames queued, only behind the frame being serialised right now,
   * and the wire time it takes is added to the bulk stream's, so the bandwidth is still shared.
   */
  sendUrgent(payloadBytes: number, nowUs: number): number {
    return this.put(payloadBytes, nowUs, true, 'urgent');
  }

  private put(payloadBytes: number, nowUs: number, urgent: boolean, ch: Channel): number {
    const imp = this.imp;
    if (imp?.isDown(ch, nowUs)) {
      this.framesLost++;
      return LOST;
    } // the socket is gone: nothing goes out
    const wire = payloadBytes + this.cfg.overheadBytes;
    const start = urgent ? this.urgentStart(nowUs) : Math.max(this.txFreeUs, nowUs);
    const ser = this.serialiseUs(wire, imp ? start : -1);
    this.lastStartUs = start;
    if (urgent) {
      this.urgentFreeUs = start + ser;
      this.txFreeUs = Math.max(this.txFreeUs, nowUs) + ser;
    } else {
      this.txFreeUs = start + ser;
      this.forgetSpansBefore(nowUs);
      if (ser > 0) this.pushSpan(start, this.txFreeUs);
    }
    this.bytes += wire;
    this.busyUs += ser;
    let arrive = start + ser + this.latencyAt(start);
    if (imp?.lossAt(start, this.frames)) arrive += TCP_RTO_MIN_US;
    this.frames++;
    if (urgent) {
      arrive = Math.max(arrive, this.lastUrgentArriveUs);
      this.lastUrgentArriveUs = arrive;
    } else {
      arrive = Math.max(arrive, this.lastArriveUs);
      this.lastArriveUs = arrive;
    }
    if (imp?.lostInFlight(ch, start, arrive)) {
      this.framesLost++;
      return LOST;
    }
    return arrive;
  }

  /** The arrival time sendUrgent() would return, or LOST, without sending. */
  urgentArrivalIfSent(payloadBytes: number, nowUs: number): number {
    return this.predict(payloadBytes, nowUs, this.urgentStart(nowUs), this.lastUrgentArriveUs, 'urgent');
  }

  /** The arrival time send() would return, or LOST, without queueing anything. */
  arrivalIfSent(payloadBytes: number, nowUs: number): number {
    return this.predict(payloadBytes, nowUs, this.txFreeUs > nowUs ? this.txFreeUs : nowUs, this.lastArriveUs, this.channel);
  }

  private predict(payloadBytes: number, nowUs: number, start: number, last: number, ch: Channel): number {
    const imp = this.imp;
    if (imp?.isDown(ch, nowUs)) return LOST;
    let arrive = start + this.serialiseUs(payloadBytes + this.cfg.overheadBytes, imp ? start : -1) + this.latencyAt(start);
    if (imp?.lossAt(start, this.frames)) arrive += TCP_RTO_MIN_US;
    arrive = Math.max(arrive, last);
    return imp?.lostInFlight(ch, start, arrive) ? LOST : arrive;
  }

  /** How long a frame queued now would wait behind bytes already queued (us). */
  backlogUs(nowUs: number): number {
    return this.txFreeUs > nowUs ? this.txFreeUs - nowUs : 0;
  }

  /** How long the wire has been idle at `nowUs` (0 while a frame is on it or queued). */
  idleUs(nowUs: number): number {
    return this.txFreeUs < nowUs ? nowUs - this.txFreeUs : 0;
  }

  /** Bytes queued but not yet on the wire at `nowUs` (what sits in the socket send buffer). */
  backlogBytes(nowUs: number): number {
    if (!Number.isFinite(this.cfg.bandwidthBps)) return 0;
    return (this.backlogUs(nowUs) * this.cfg.bandwidthBps) / 8e6;
  }

  /** Earliest time at which the backlog drops to `bytes` (for a sender waiting for buffer room). */
  timeBacklogFallsTo(bytes: number): number {
    if (!Number.isFinite(this.cfg.bandwidthBps)) return 0;
    return this.txFreeUs - (bytes * 8e6) / this.cfg.bandwidthBps;
  }

  /** When an urgent frame queued at `nowUs` starts: after the bulk frame on the wire and earlier urgent ones. */
  private urgentStart(nowUs: number): number {
    this.forgetSpansBefore(nowUs);
    let start = nowUs;
    if (this.spanCount > 0) {
      const s = this.spanHead * 2;
      if (this.spans[s]! <= nowUs) start = this.spans[s + 1]!; // its end: a frame on the wire is not cut
    }
    return this.urgentFreeUs > start ? this.urgentFreeUs : start;
  }

  /** Drops the bulk spans that ended by `nowUs`: they can delay nothing any more. */
  private forgetSpansBefore(nowUs: number): void {
    const cap = this.spans.length >> 1;
    while (this.spanCount > 0 && this.spans[this.spanHead * 2 + 1]! <= nowUs) {
      this.spanHead = this.spanHead + 1 === cap ? 0 : this.spanHead + 1;
      this.spanCount--;
    }
  }

  private pushSpan(start: number, end: number): void {
    let cap = this.spans.length >> 1;
    if (this.spanCount === cap) {
      // grows only while an engine commits frames far ahead; never in steady state
      const grown = new Float64Array(this.spans.length * 2);
      for (let i = 0; i < this.spanCount; i++) {
        const s = ((this.spanHead + i) % cap) * 2;
        grown[i * 2] = this.spans[s]!;
        grown[i * 2 + 1] = this.spans[s + 1]!;
      }
      this.spans = grown;
      this.spanHead = 0;
      cap *= 2;
    }
    const at = ((this.spanHead + this.spanCount) % cap) * 2;
    this.spans[at] = start;
    this.spans[at + 1] = end;
    this.spanCount++;
  }

  /** After an outage the connection is new: nothing queued on it, nothing held back. */
  reset(nowUs: number): void {
    this.txFreeUs = Math.min(this.txFreeUs, nowUs);
    this.lastArriveUs = Math.min(this.lastArriveUs, nowUs);
    this.lastUrgentArriveUs = Math.min(this.lastUrgentArriveUs, nowUs);
    this.urgentFreeUs = Math.min(this.urgentFreeUs, nowUs);
    this.spanCount = 0; // the frames that were on the old connection's wire are gone with it
  }
}
