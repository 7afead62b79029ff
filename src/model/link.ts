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
 */
import type { Channel, Impairments } from './impairments.js';
import { TCP_RTO_MIN_US } from './injections.js';

export interface LinkConfig { bandwidthBps: number; latencyUs: number; overheadBytes: number }

/** send() of a frame that never arrives. */
export const LOST = -1;

export class Link {
  /** When the last queued bit leaves the sender (us). */
  private txFreeUs = 0;
  /** In-order delivery per socket: no frame arrives before the one queued ahead of it. */
  private lastArriveUs = 0;
  private lastUrgentArriveUs = 0;
  bytes = 0;
  frames = 0;
  busyUs = 0;
  framesLost = 0;
  constructor(readonly cfg: LinkConfig, private readonly imp: Impairments | null = null, private readonly channel: Channel = 'bulk') {}

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
    if (imp && imp.isDown(ch, nowUs)) { this.framesLost++; return LOST; } // the socket is gone: nothing goes out
    const wire = payloadBytes + this.cfg.overheadBytes;
    const start = urgent ? this.urgentStart(nowUs) : Math.max(this.txFreeUs, nowUs);
    const ser = this.serialiseUs(wire, imp ? start : -1);
    this.txFreeUs = Math.max(this.txFreeUs, nowUs) + ser;
    this.bytes += wire;
    this.busyUs += ser;
    let arrive = start + ser + this.latencyAt(start);
    if (imp && imp.lossAt(start, this.frames)) arrive += TCP_RTO_MIN_US;
    this.frames++;
    if (urgent) { arrive = Math.max(arrive, this.lastUrgentArriveUs); this.lastUrgentArriveUs = arrive; } else { arrive = Math.max(arrive, this.lastArriveUs); this.lastArriveUs = arrive; }
    if (imp && imp.lostInFlight(ch, start, arrive)) { this.framesLost++; return LOST; }
    return arrive;
  }

  /** An urgent frame starts once the frame on the wire now has left (at most one bulk frame ahead). */
  private urgentStart(nowUs: number): number {
    return nowUs;
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
    if (imp && imp.isDown(ch, nowUs)) return LOST;
    let arrive = start + this.serialiseUs(payloadBytes + this.cfg.overheadBytes, imp ? start : -1) + this.latencyAt(start);
    if (imp && imp.lossAt(start, this.frames)) arrive += TCP_RTO_MIN_US;
    arrive = Math.max(arrive, last);
    return imp && imp.lostInFlight(ch, start, arrive) ? LOST : arrive;
  }

  /** How long a frame queued now would wait behind bytes already queued (us). */
  backlogUs(nowUs: number): number {
    return this.txFreeUs > nowUs ? this.txFreeUs - nowUs : 0;
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

  /** After an outage the connection is new: nothing queued on it, nothing held back. */
  reset(nowUs: number): void {
    this.txFreeUs = Math.min(this.txFreeUs, nowUs);
    this.lastArriveUs = Math.min(this.lastArriveUs, nowUs);
    this.lastUrgentArriveUs = Math.min(this.lastUrgentArriveUs, nowUs);
  }
}
