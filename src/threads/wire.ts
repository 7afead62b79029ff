/**
 * One direction of one channel of the simulated network: a single-producer, single-consumer ring in
 * a SharedArrayBuffer. It is the socket: its capacity is the send buffer, a full ring stops the
 * sender, and the bytes in it are the bytes on the wire. A frame is a msgpackr-encoded header
 * followed by its raw payload (a page), the way QEMU's migration stream puts a page header before
 * the page bytes.
 *
 *   record: [u32 headerBytes][u32 payloadBytes][f64 arriveUs][header][pad to 8][payload]
 *
 * The payload starts 8-byte aligned so it moves with word copies: copying a page between
 * SharedArrayBuffers at a misaligned offset measured up to 12.7 us on this VM (V8 copies shared
 * memory with relaxed per-element stores), aligned words 0.3-0.6 us. The arrival time is simulation
 * metadata (when the frame's last bit reaches the receiver under the link model), not part of the
 * frame: the receiver leaves a record in the ring until then. A record that would not fit before
 * the end of the ring is preceded by a wrap marker.
 *
 * Head and tail are byte counters that only grow (mod 2^32), published with Atomics so bytes
 * written before a head store are visible to a reader that loads the head.
 */

const W_HEAD = 0;
const W_TAIL = 1;
const CONTROL_BYTES = 16;
const REC_HEADER = 16;
const WRAP = 0xffffffff;

export function wireBytes(capacity: number): number {
  return CONTROL_BYTES + Math.ceil(capacity / 8) * 8;
}

export class WireRing {
  private readonly ctl: Int32Array;
  readonly bytes: Uint8Array;
  readonly words: Int32Array;
  private readonly view: DataView;
  readonly capacity: number;
  /** Set by peek(): where the oldest frame's header and payload are. */
  headerAt = 0;
  headerLength = 0;
  payloadWordAt = 0;
  payloadBytes = 0;
  private pendingTail = 0;

  constructor(readonly sab: SharedArrayBuffer) {
    this.ctl = new Int32Array(sab, 0, 4);
    this.capacity = sab.byteLength - CONTROL_BYTES;
    this.bytes = new Uint8Array(sab, CONTROL_BYTES, this.capacity);
    this.words = new Int32Array(sab, CONTROL_BYTES, this.capacity >> 2);
    this.view = new DataView(sab, CONTROL_BYTES, this.capacity);
  }

  /** Bytes written but not yet consumed. */
  used(): number {
    return (Atomics.load(this.ctl, W_HEAD) - Atomics.load(this.ctl, W_TAIL)) >>> 0;
  }

  /**
   * Appends one frame: `header` then `payload` (or none). Returns false, writing nothing, when the
   * ring has no room for it now.
   */
  write(header: Uint8Array, payload: Int32Array | null, arriveUs: number): boolean {
    const at = this.reserve(header, payload === null ? 0 : payload.byteLength, arriveUs);
    if (at < 0) return false;
    if (payload !== null) this.words.set(payload, at);
    this.publish();
    return true;
  }

  private pendingHead = 0;
  private unpublished = false;

  /**
   * Writes a frame's record and header and returns the word index where its `payloadBytes` of
   * payload go, without publishing it: the sender fills the payload in place (the source derives a
   * page straight onto the wire, saving a 4 KiB copy: 2.4 us per page measured), then publish().
   * Returns -1, writing nothing, when the ring has no room now.
   */
  reserve(header: Uint8Array, payloadBytes: number, arriveUs: number): number {
    const headerSpace = (header.byteLength + 7) & ~7;
    const need = REC_HEADER + headerSpace + payloadBytes;
    if (need > this.capacity / 2) throw new Error(`a frame of ${need} bytes does not fit the wire ring`);
    // Frames reserved since the last publish() continue from the private head.
    const head = (this.unpublished ? this.pendingHead : Atomics.load(this.ctl, W_HEAD)) >>> 0;
    const tail = Atomics.load(this.ctl, W_TAIL) >>> 0;
    let at = head % this.capacity;
    let skip = 0;
    if (at + need > this.capacity) { skip = this.capacity - at; at = 0; }
    if (((head - tail) >>> 0) + skip + need > this.capacity) return -1;
    if (skip) this.view.setUint32(head % this.capacity, WRAP, true);
    this.view.setUint32(at, header.byteLength, true);
    this.view.setUint32(at + 4, payloadBytes, true);
    this.view.setFloat64(at + 8, arriveUs, true);
    const bytes = this.bytes;
    const h = at + REC_HEADER;
    for (let i = 0; i < header.byteLength; i++) bytes[h + i] = header[i]!;
    this.pendingHead = (head + skip + need) | 0;
    this.unpublished = true;
    return (h + headerSpace) >> 2;
  }

  /**
   * Makes every frame reserved so far visible to the reader. Publishing a batch at once moves the
   * head's cache line between cores once per batch instead of once per frame (a cross-core line
   * transfer measured ~0.5 us on this VM).
   */
  publish(): void {
    if (!this.unpublished) return;
    this.unpublished = false;
    Atomics.store(this.ctl, W_HEAD, this.pendingHead);
  }

  /** Reader side: the tail as far as this reader consumed, and the last head it saw. */
  private readTail = -1;
  private seenHead = 0;
  private tailDirty = false;

  /**
   * Looks at the oldest frame: returns its arrival time and sets headerAt/headerLength/
   * payloadWordAt/payloadBytes, or returns -1 when the ring is empty. The frame stays in the ring
   * until consume(); consumed space returns to the sender at release().
   */
  peek(): number {
    if (this.readTail < 0) this.readTail = Atomics.load(this.ctl, W_TAIL) >>> 0;
    let tail = this.readTail;
    if (tail === this.seenHead) {
      this.seenHead = Atomics.load(this.ctl, W_HEAD) >>> 0;
      if (tail === this.seenHead) { this.release(); return -1; }
    }
    let at = tail % this.capacity;
    if (this.view.getUint32(at, true) === WRAP) {
      tail = this.readTail = (tail + (this.capacity - at)) >>> 0;
      this.tailDirty = true;
      if (tail === this.seenHead) { this.release(); return -1; }
      at = 0;
    }
    const headerLength = this.view.getUint32(at, true);
    const headerSpace = (headerLength + 7) & ~7;
    this.headerLength = headerLength;
    this.headerAt = at + REC_HEADER;
    this.payloadBytes = this.view.getUint32(at + 4, true);
    this.payloadWordAt = (at + REC_HEADER + headerSpace) >> 2;
    this.pendingTail = (tail + REC_HEADER + headerSpace + this.payloadBytes) >>> 0;
    return this.view.getFloat64(at + 8, true);
  }

  /** The bytes of the frame's header found by the last peek(). */
  header(): Uint8Array {
    return this.bytes.subarray(this.headerAt, this.headerAt + this.headerLength);
  }

  /** Done with the frame returned by the last peek(). */
  consume(): void {
    this.readTail = this.pendingTail;
    this.tailDirty = true;
  }

  /** Gives consumed space back to the sender (once per batch: see publish()). */
  release(): void {
    if (!this.tailDirty) return;
    this.tailDirty = false;
    Atomics.store(this.ctl, W_TAIL, this.readTail | 0);
  }
}
