/**
 * The destination end of one channel from the source: it holds the oldest frame on the wire ring
 * until the link model says it has arrived, then hands it to `onPage`. A link is FIFO, so holding
 * the head is enough.
 */
import type { Clock } from './clock.js';
import { packr, PF_FLAGS, PF_PAGE, type PageFrame } from './protocol.js';
import type { WireRing } from './wire.js';

export class FrameReceiver {
  frames = 0;
  bytes = 0;
  constructor(private readonly ring: WireRing, private readonly clock: Clock) {}

  /**
   * Delivers every frame that has arrived by now. Returns the arrival time of a frame still in
   * flight, or Infinity when the channel is empty. Consumed space goes back to the sender on return.
   */
  drain(onPage: (page: number, flags: number, words: Int32Array, wordAt: number) => void): number {
    const ring = this.ring;
    let now = this.clock.nowUs();
    for (;;) {
      const arriveUs = ring.peek();
      if (arriveUs < 0) return Infinity;
      if (arriveUs > now) {
        now = this.clock.nowUs();
        if (arriveUs > now) { ring.release(); return arriveUs; }
      }
      const f = packr.unpack(ring.header()) as PageFrame;
      this.frames++;
      this.bytes += ring.headerLength + ring.payloadBytes;
      onPage(f[PF_PAGE], f[PF_FLAGS], ring.words, ring.payloadWordAt); // the page is still in the ring: install before consume
      ring.consume();
    }
  }
}
