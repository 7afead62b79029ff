/**
 * The destination end of one channel from the source: it holds the oldest frame on the wire ring
 * until the link model says it has arrived, then hands it to `onPage`. A link is FIFO, so holding
 * the head is enough.
 */
import type { Clock } from './clock.js';
import { CTL_RX_KIB } from './layout.js';
import { FRAME_DISCARD } from './protocol.js';
import type { WireRing } from './wire.js';

export class FrameReceiver {
  frames = 0;
  bytes = 0;
  private unreportedBytes = 0;
  constructor(
    private readonly ring: WireRing,
    private readonly clock: Clock,
    private readonly ctl: Int32Array,
  ) {}

  /**
   * Delivers the frames that have arrived by now, at most `maxFrames`. Returns the arrival time of
   * the next frame (now, if the batch limit stopped it), or Infinity when the channel is empty.
   * Consumed space goes back to the sender on return.
   */
  drain(
    onPage: (page: number, flags: number, words: Int32Array | null, arriveUs: number, nowUs: number) => void,
    onDiscard?: (pages: Int32Array, final: boolean) => void,
    maxFrames = Infinity,
  ): number {
    const ring = this.ring;
    let now = this.clock.nowUs();
    for (let n = 0; ; n++) {
      if (n === maxFrames) {
        ring.release();
        this.report();
        return now;
      } // more are due: come back soon
      const arriveUs = ring.peek();
      if (arriveUs < 0) {
        this.report();
        return Infinity;
      }
      if (arriveUs > now) {
        now = this.clock.nowUs();
        if (arriveUs > now) {
          ring.release();
          this.report();
          return arriveUs;
        }
      }
      this.frames++;
      this.bytes += ring.frameBytes;
      this.unreportedBytes += ring.frameBytes;
      // A discard list is copied out (rare: once per switch); a page is installed straight from its
      // slot, still in the ring, before consume().
      if (ring.kind === FRAME_DISCARD) onDiscard?.(ring.rec.slice(ring.extraAt, ring.extraAt + ring.extraWords), ring.a === 1);
      else onPage(ring.a, ring.b, ring.payloadView(), arriveUs, now);
      ring.consume();
    }
  }

  /** Publishes bytes received, in KiB, for the live view (once per drain, not per frame). */
  private report(): void {
    if (this.unreportedBytes < 1024) return;
    const kib = Math.floor(this.unreportedBytes / 1024);
    this.unreportedBytes -= kib * 1024;
    Atomics.add(this.ctl, CTL_RX_KIB, kib);
  }
}
