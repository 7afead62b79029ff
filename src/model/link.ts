/**
 * The link between source and destination: a pure model, driven by whatever clock the engine uses.
 *
 * One direction of a link serialises frames at `bandwidthBps` and delivers each `latencyUs` after
 * its last bit leaves; every frame costs `overheadBytes` on top of its payload (headers). Frames
 * leave in the order they were queued, so a page queued behind others waits for them: the queueing
 * delay that made vanilla postcopy slow.
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

export interface LinkConfig { bandwidthBps: number; latencyUs: number; overheadBytes: number }

export class Link {
  /** When the last queued bit leaves the sender (us). */
  private txFreeUs = 0;
  /** When the last urgent frame's last bit leaves (urgent frames are FIFO among themselves). */
  private urgentFreeUs = 0;
  /** Bulk frames on the wire or committed to it, oldest first: a ring of (start, end) pairs. */
  private spans = new Float64Array(2 * 256);
  private spanHead = 0;
  private spanCount = 0;
  /** Transmission start of the frame sent last (send or sendUrgent). */
  lastStartUs = 0;
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
    this.lastStartUs = start;
    this.forgetSpansBefore(nowUs);
    if (ser > 0) this.pushSpan(start, this.txFreeUs);
    this.count(wire, ser);
    return this.txFreeUs + this.cfg.latencyUs;
  }

  /**
   * Sends a frame on the urgent socket: it waits for the frame being serialised at `nowUs` (and for
   * earlier urgent frames), not for the bulk frames queued behind that one. The wire time it takes
   * is added to the bulk stream's, so the bandwidth stays shared.
   */
  sendUrgent(payloadBytes: number, nowUs: number): number {
    const wire = payloadBytes + this.cfg.overheadBytes;
    const ser = this.serialiseUs(wire);
    const start = this.urgentStartUs(nowUs);
    this.lastStartUs = start;
    this.urgentFreeUs = start + ser;
    this.txFreeUs = (this.txFreeUs > nowUs ? this.txFreeUs : nowUs) + ser;
    this.count(wire, ser);
    return start + ser + this.cfg.latencyUs;
  }

  /** The arrival time sendUrgent() would return. */
  urgentArrivalIfSent(payloadBytes: number, nowUs: number): number {
    return this.urgentStartUs(nowUs) + this.serialiseUs(payloadBytes + this.cfg.overheadBytes) + this.cfg.latencyUs;
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
  private urgentStartUs(nowUs: number): number {
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
    if (this.spanCount === cap) { // grows only while an engine commits frames far ahead; never in steady state
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

  private count(wire: number, ser: number): void {
    this.bytes += wire;
    this.frames++;
    this.busyUs += ser;
  }
}
