/**
 * The link between source and destination: a pure model, driven by whatever clock the engine uses.
 *
 * One direction of a link serialises frames at `bandwidthBps` and delivers each `latencyUs` after
 * its last bit leaves; every frame costs `overheadBytes` on top of its payload (headers). Frames
 * leave in the order they were queued, so a page queued behind others waits for them: the queueing
 * delay that made vanilla postcopy slow.
 */

export interface LinkConfig { bandwidthBps: number; latencyUs: number; overheadBytes: number }

export class Link {
  /** When the last queued bit leaves the sender (us). */
  private txFreeUs = 0;
  bytes = 0;
  frames = 0;
  busyUs = 0;
  constructor(readonly cfg: LinkConfig) {}

  /** Microseconds to put `wireBytes` on the wire. */
  serialiseUs(wireBytes: number): number {
    return Number.isFinite(this.cfg.bandwidthBps) ? (wireBytes * 8 * 1e6) / this.cfg.bandwidthBps : 0;
  }

  /** Queue a frame of `payloadBytes` at `nowUs`; returns its arrival time at the other end. */
  send(payloadBytes: number, nowUs: number): number {
    const wire = payloadBytes + this.cfg.overheadBytes;
    const start = this.txFreeUs > nowUs ? this.txFreeUs : nowUs;
    const ser = this.serialiseUs(wire);
    this.txFreeUs = start + ser;
    this.bytes += wire;
    this.frames++;
    this.busyUs += ser;
    return this.txFreeUs + this.cfg.latencyUs;
  }

  /**
   * Sends a frame on a second socket that shares the wire (postcopy-preempt's urgent channel): it
   * does not wait behind the bulk frames already committed, and the wire time it takes is added
   * to the bulk stream's, so the bandwidth is still shared. (Bulk frames already stamped keep their
   * times: the error is at most one frame time per urgent frame inside the sender's lookahead.)
   */
  sendUrgent(payloadBytes: number, nowUs: number): number {
    const wire = payloadBytes + this.cfg.overheadBytes;
    const ser = this.serialiseUs(wire);
    this.txFreeUs = (this.txFreeUs > nowUs ? this.txFreeUs : nowUs) + ser;
    this.bytes += wire;
    this.frames++;
    this.busyUs += ser;
    return nowUs + ser + this.cfg.latencyUs;
  }

  /** The arrival time sendUrgent() would return. */
  urgentArrivalIfSent(payloadBytes: number, nowUs: number): number {
    return nowUs + this.serialiseUs(payloadBytes + this.cfg.overheadBytes) + this.cfg.latencyUs;
  }

  /** The arrival time send() would return, without queueing anything. */
  arrivalIfSent(payloadBytes: number, nowUs: number): number {
    const start = this.txFreeUs > nowUs ? this.txFreeUs : nowUs;
    return start + this.serialiseUs(payloadBytes + this.cfg.overheadBytes) + this.cfg.latencyUs;
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
}
