/**
 * One direction of one channel of the simulated network: a single-producer, single-consumer ring in
 * a SharedArrayBuffer. It is the socket: a full ring stops the sender, and the bytes in it are the
 * frames on the wire. A frame is a fixed binary record (what QEMU's migration stream puts before a
 * page) plus, for a page, the page's bytes in a slot of their own:
 *
 *   control    writer line: head, slotHead | reader line: tail, slotTail | layout (set once)
 *   records    [i32 kind][i32 a][i32 b][i32 c][i32 extraWords][i32 slot][f64 arriveUs][extra words, pad to 8]
 *   slots      `slots` page-sized payload slots, used in frame order (a page frame takes the next one)
 *   table      one page of the image's per-word mix, for the source's SIMD derivation (page-deriver.ts)
 *
 * A ring that carries pages lives in a shared WebAssembly.Memory (its buffer is a SharedArrayBuffer
 * like any other), so the source can derive pages into its slots with WebAssembly SIMD.
 *
 * Why binary records and page slots: a msgpackr header per page cost ~1.5 us of the ~3.5 us the
 * pipeline spent per page (pack on the source, unpack on the receiver, a view allocated for each),
 * and a payload at a fixed slot has a view made once, so the install is one TypedArray.set: 0.35 us
 * per 4 KiB against 0.93 us for the word loop it replaces (measured on this VM, bench `pipeline`).
 *
 * Byte positions (head, tail) are counters that only grow, mod 2^32, and the record area is a power
 * of two, so `position & (capacity - 1)` stays right across the 2^32 wrap; a capacity that did not
 * divide 2^32 put frames at the wrong offset after 4 GiB had passed (the WORKER_DIED "Unknown
 * extension type" of guests over 4 GiB). Slot positions (slotHead, slotTail) count modulo
 * slotWrap(slots), a multiple of the slot count, so the slot area can be exactly as large as it
 * must be (a power of two would have doubled a 4 MiB send buffer's ring). A record that would not fit
 * before the end of the record area is preceded by a wrap marker. Heads and tails are published with
 * Atomics, so bytes written before a head store are visible to a reader that loads the head, and the
 * writer's and the reader's words sit on cache lines of their own.
 *
 * The arrival time is simulation metadata (when the frame's last bit reaches the receiver under the
 * link model), not part of the frame: the receiver leaves a record in the ring until then.
 */

const C_HEAD = 0;
const C_SLOT_HEAD = 1;
const C_TAIL = 16; // 64 bytes after the writer's words
const C_SLOT_TAIL = 17;
const C_RECORD_BYTES = 32;
const C_SLOTS = 33;
const C_SLOT_BYTES = 34;
const C_TABLE_BYTES = 35;
const CONTROL_BYTES = 192;
const REC_BYTES = 32;
const R_KIND = 0,
  R_A = 1,
  R_B = 2,
  R_C = 3,
  R_EXTRA = 4,
  R_SLOT = 5,
  R_ARRIVE_F64 = 3;
/** WebAssembly memories grow in pages of 64 KiB. */
const WASM_PAGE = 65536;
/** Record kind of the filler before a record that did not fit at the end of the record area. */
const WRAP = -1;

/** A wire ring's sizes: record bytes (a power of two), payload slots (a power of two, may be 0) of slotBytes each. */
export interface WireLayout {
  recordBytes: number;
  slots: number;
  slotBytes: number;
}

export function pow2AtLeast(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** Slot positions count modulo this: the largest multiple of `slots` under 2^30 (so they stay positive int32s). */
export function slotWrap(slots: number): number {
  return slots > 0 ? slots * Math.floor(2 ** 30 / slots) : 1;
}

/** A layout holding at least `payloadBytes` of pages of `slotBytes` (0: records only) and `records` page records. */
export function wireLayout(payloadBytes: number, slotBytes: number, records = 64): WireLayout {
  const slots = slotBytes > 0 ? Math.ceil(payloadBytes / slotBytes) : 0;
  // Zero pages take a record and no slot: room for four records per slot, and never under 128 KiB
  // (a discard frame of 8192 pages is 32 KiB, and a record may take at most half the area).
  return { recordBytes: pow2AtLeast(Math.max(128 * 1024, (slots * 4 + records) * REC_BYTES)), slots, slotBytes };
}

/**
 * The largest ring that carries pages: 2 GiB. A shared WebAssembly.Memory may have up to 4 GiB
 * (65536 pages of 64 KiB), but the ring's views and offsets are int32 (a 3.6 GiB ring died with
 * "Invalid typed array length" in the source host).
 */
export const MAX_PAGE_WIRE_BYTES = 2 ** 31;

/** The bytes a ring of `layout` takes: control words, records, slots, and the derivation table when it carries pages. */
export function wireBytes(layout: WireLayout): number {
  return CONTROL_BYTES + layout.recordBytes + layout.slots * layout.slotBytes + (layout.slots > 0 ? layout.slotBytes : 0);
}

/**
 * Allocates a ring and writes its layout: a shared WebAssembly.Memory when it carries pages (room for
 * the derivation table after the slots), a plain SharedArrayBuffer otherwise (requests).
 * `startPosition` (tests) starts every counter there.
 */
export function allocateWire(layout: WireLayout, startPosition = 0, startSlot = 0): WebAssembly.Memory | SharedArrayBuffer {
  if (layout.recordBytes !== pow2AtLeast(layout.recordBytes)) throw new Error('assertion failed: the record area must be a power of two');
  if (startSlot < 0 || startSlot >= slotWrap(layout.slots)) throw new Error('assertion failed: a slot position is below slotWrap(slots)');
  if (startPosition % 8 !== 0) throw new Error('assertion failed: records are 8-byte aligned, so positions are multiples of 8');
  const tableBytes = layout.slots > 0 ? layout.slotBytes : 0;
  const bytes = wireBytes(layout);
  let memory: WebAssembly.Memory | null = null;
  if (layout.slots > 0) {
    const pages = Math.ceil(bytes / WASM_PAGE);
    memory = new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
  }
  const sab = memory ? (memory.buffer as SharedArrayBuffer) : new SharedArrayBuffer(bytes);
  const ctl = new Int32Array(sab, 0, CONTROL_BYTES >> 2);
  ctl[C_HEAD] = ctl[C_TAIL] = startPosition | 0;
  ctl[C_SLOT_HEAD] = ctl[C_SLOT_TAIL] = startSlot;
  ctl[C_RECORD_BYTES] = layout.recordBytes;
  ctl[C_SLOTS] = layout.slots;
  ctl[C_SLOT_BYTES] = layout.slotBytes;
  ctl[C_TABLE_BYTES] = tableBytes;
  return memory ?? sab;
}

export class WireRing {
  private readonly ctl: Int32Array;
  /** The record area as words (records are 8-byte aligned). */
  readonly rec: Int32Array;
  private readonly recF64: Float64Array;
  private readonly recMask: number;
  /** The payload slots as words: a page frame's bytes start at `payloadWordAt`. */
  readonly payload: Int32Array;
  /** One view per slot, made once, so installing a page allocates nothing. */
  private readonly slotViews: Int32Array[];
  /** The derivation table's words (one page; empty for a ring without slots). */
  readonly table: Int32Array;
  readonly sab: SharedArrayBuffer;
  readonly slots: number;
  readonly slotBytes: number;
  private readonly slotWrap: number;
  // Set by peek(): the oldest frame.
  kind = 0;
  a = 0;
  b = 0;
  c = 0;
  extraWords = 0;
  /** Word index in `rec` of the frame's extra words (a discard list). */
  extraAt = 0;
  /** Word index in `payload` of the frame's page bytes, -1 when it has none. */
  payloadWordAt = -1;
  /** Bytes of the frame's record and payload. */
  frameBytes = 0;
  private peekSlot = -1;
  private pendingTail = 0;

  constructor(wire: WebAssembly.Memory | SharedArrayBuffer) {
    const sab = wire instanceof SharedArrayBuffer ? wire : (wire.buffer as SharedArrayBuffer);
    this.sab = sab;
    this.ctl = new Int32Array(sab, 0, CONTROL_BYTES >> 2);
    const recordBytes = this.ctl[C_RECORD_BYTES]!;
    this.slots = this.ctl[C_SLOTS]!;
    this.slotWrap = slotWrap(this.slots);
    this.slotBytes = this.ctl[C_SLOT_BYTES]!;
    this.recMask = recordBytes - 1;
    this.rec = new Int32Array(sab, CONTROL_BYTES, recordBytes >> 2);
    this.recF64 = new Float64Array(sab, CONTROL_BYTES, recordBytes >> 3);
    this.payload = new Int32Array(sab, CONTROL_BYTES + recordBytes, (this.slots * this.slotBytes) >> 2);
    this.table = new Int32Array(sab, CONTROL_BYTES + recordBytes + this.slots * this.slotBytes, this.ctl[C_TABLE_BYTES]! >> 2);
    const slotWords = this.slotBytes >> 2;
    this.slotViews = Array.from({ length: this.slots }, (_, s) => this.payload.subarray(s * slotWords, (s + 1) * slotWords));
  }

  /**
   * Maps the ring's memory now, a write to every 4 KiB of its records and slots, so the first lap of
   * frames takes no host page faults: a first touch measured 11.6 us on this VM (guest-memory.ts),
   * and the first lap of an 8 MiB bulk ring (25 Gbit/s) is 2 k of them, ~25 ms of the source's time
   * at the start of the migration. An atomic OR of 0 changes no value, so it is right at any time;
   * the source does it before it reports ready.
   */
  prefault(): void {
    for (const words of [this.rec, this.payload]) {
      if (words.length === 0) continue;
      for (let w = 0; w < words.length; w += 1024) Atomics.or(words, w, 0);
      Atomics.or(words, words.length - 1, 0); // the last page, when the area does not start on a page boundary
    }
  }

  /** Record bytes written but not yet consumed. */
  used(): number {
    return (Atomics.load(this.ctl, C_HEAD) - Atomics.load(this.ctl, C_TAIL)) >>> 0;
  }

  // ---- writer ----
  private pendingHead = 0;
  private pendingSlotHead = 0;
  private unpublished = false;
  /**
   * The reader's positions as the writer last loaded them: space only grows as the reader consumes,
   * so the writer reloads them (a load of the reader's cache line, which moves between cores) only
   * when the cached ones say the ring is full.
   */
  private knownTail = -1;
  private knownSlotTail = 0;

  /**
   * Writes a frame's record (and `extraCount` words of `extra`) and, when `withPayload`, takes the
   * next payload slot; returns the word index in `payload` where the page's bytes go (0 without a
   * payload), or -1, writing nothing, when the ring has no room now. The sender fills the payload
   * in place (the source derives a page straight onto the wire), then publish().
   */
  reserve(
    kind: number,
    a: number,
    b: number,
    c: number,
    withPayload: boolean,
    arriveUs: number,
    extra: ArrayLike<number> | null = null,
    extraCount = 0,
  ): number {
    const ctl = this.ctl;
    const capacity = this.recMask + 1;
    const need = REC_BYTES + ((extraCount * 4 + 7) & ~7);
    if (need > capacity / 2) throw new Error(`a frame of ${need} bytes does not fit the wire ring`);
    // Frames reserved since the last publish() continue from the private heads.
    const head = (this.unpublished ? this.pendingHead : Atomics.load(ctl, C_HEAD)) >>> 0;
    const slotHead = this.unpublished ? this.pendingSlotHead : Atomics.load(ctl, C_SLOT_HEAD);
    if (this.knownTail < 0) {
      this.knownTail = Atomics.load(ctl, C_TAIL) >>> 0;
      this.knownSlotTail = Atomics.load(ctl, C_SLOT_TAIL);
    }
    if (withPayload && this.slotsUsed(slotHead) >= this.slots) {
      this.knownSlotTail = Atomics.load(ctl, C_SLOT_TAIL);
      if (this.slotsUsed(slotHead) >= this.slots) return -1;
    }
    let at = head & this.recMask;
    let skip = 0;
    if (at + need > capacity) {
      skip = capacity - at;
      at = 0;
    }
    if (((head - this.knownTail) >>> 0) + skip + need > capacity) {
      this.knownTail = Atomics.load(ctl, C_TAIL) >>> 0;
      if (((head - this.knownTail) >>> 0) + skip + need > capacity) return -1;
    }
    if (skip) this.rec[(head & this.recMask) >> 2] = WRAP;
    const w = at >> 2;
    const rec = this.rec;
    const slot = withPayload ? slotHead % this.slots : -1;
    rec[w + R_KIND] = kind;
    rec[w + R_A] = a;
    rec[w + R_B] = b;
    rec[w + R_C] = c;
    rec[w + R_EXTRA] = extraCount;
    rec[w + R_SLOT] = slot;
    this.recF64[(at >> 3) + R_ARRIVE_F64] = arriveUs;
    for (let i = 0; i < extraCount; i++) rec[w + 8 + i] = extra![i]!;
    this.pendingHead = (head + skip + need) | 0;
    this.pendingSlotHead = withPayload ? this.nextSlot(slotHead) : slotHead;
    this.unpublished = true;
    return withPayload ? slot * (this.slotBytes >> 2) : 0;
  }

  private slotsUsed(slotHead: number): number {
    const d = slotHead - this.knownSlotTail;
    return d < 0 ? d + this.slotWrap : d;
  }

  private nextSlot(pos: number): number {
    return pos + 1 === this.slotWrap ? 0 : pos + 1;
  }

  /** reserve() and publish() in one, for a frame without payload; false when there is no room. */
  write(kind: number, a: number, b: number, c: number, arriveUs: number, extra: ArrayLike<number> | null = null, extraCount = 0): boolean {
    if (this.reserve(kind, a, b, c, false, arriveUs, extra, extraCount) < 0) return false;
    this.publish();
    return true;
  }

  /**
   * Makes every frame reserved so far visible to the reader. Publishing a batch at once moves the
   * head's cache line between cores once per batch instead of once per frame (a cross-core line
   * transfer measured ~0.5 us on this VM). The slot head goes first: a reader that sees a record
   * also sees its slot taken.
   */
  publish(): void {
    if (!this.unpublished) return;
    this.unpublished = false;
    Atomics.store(this.ctl, C_SLOT_HEAD, this.pendingSlotHead);
    Atomics.store(this.ctl, C_HEAD, this.pendingHead);
  }

  // ---- reader: the tail as far as this reader consumed, and the last head it saw ----
  private readTail = -1;
  private readSlotTail = 0;
  private seenHead = 0;
  private tailDirty = false;

  /**
   * Looks at the oldest frame: returns its arrival time and sets kind, a, b, c, extraWords/extraAt,
   * payloadWordAt and frameBytes, or returns -1 when the ring is empty. The frame stays in the ring
   * until consume(); consumed space returns to the sender at release().
   */
  peek(): number {
    if (this.readTail < 0) {
      this.readTail = Atomics.load(this.ctl, C_TAIL) >>> 0;
      this.readSlotTail = Atomics.load(this.ctl, C_SLOT_TAIL);
      this.seenHead = this.readTail;
    }
    let tail = this.readTail;
    if (tail === this.seenHead) {
      this.seenHead = Atomics.load(this.ctl, C_HEAD) >>> 0;
      if (tail === this.seenHead) {
        this.release();
        return -1;
      }
    }
    let at = tail & this.recMask;
    if (this.rec[at >> 2] === WRAP) {
      tail = this.readTail = (tail + (this.recMask + 1 - at)) >>> 0;
      this.tailDirty = true;
      if (tail === this.seenHead) {
        this.release();
        return -1;
      }
      at = 0;
    }
    const w = at >> 2,
      rec = this.rec;
    this.kind = rec[w + R_KIND]!;
    this.a = rec[w + R_A]!;
    this.b = rec[w + R_B]!;
    this.c = rec[w + R_C]!;
    this.extraWords = rec[w + R_EXTRA]!;
    this.extraAt = w + 8;
    const slot = rec[w + R_SLOT]!;
    this.peekSlot = slot;
    this.payloadWordAt = slot < 0 ? -1 : slot * (this.slotBytes >> 2);
    const recBytes = REC_BYTES + ((this.extraWords * 4 + 7) & ~7);
    this.frameBytes = recBytes + (slot < 0 ? 0 : this.slotBytes);
    this.pendingTail = (tail + recBytes) >>> 0;
    return this.recF64[(at >> 3) + R_ARRIVE_F64]!;
  }

  /** The page bytes of the frame found by the last peek(), as a view made once (null: no payload). */
  payloadView(): Int32Array | null {
    return this.peekSlot < 0 ? null : this.slotViews[this.peekSlot]!;
  }

  /** Done with the frame returned by the last peek(). */
  consume(): void {
    this.readTail = this.pendingTail;
    if (this.peekSlot >= 0) this.readSlotTail = this.nextSlot(this.readSlotTail);
    this.tailDirty = true;
  }

  /** Gives consumed space back to the sender (once per batch: see publish()). */
  release(): void {
    if (!this.tailDirty) return;
    this.tailDirty = false;
    Atomics.store(this.ctl, C_SLOT_TAIL, this.readSlotTail);
    Atomics.store(this.ctl, C_TAIL, this.readTail | 0);
  }
}
