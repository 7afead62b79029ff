/**
 * The virtual engine's event queue, ordered by (time, sequence number). The sequence number is the
 * order of scheduling, so two events at the same virtual time always run in the order they were
 * scheduled: the run is a pure function of its options and seed.
 *
 * Three places, one order:
 *  - the front register: one event before every other (a thread's own next step, often); a push
 *    earlier than the rest goes there, and the pop after it takes it back with no search;
 *  - a timing wheel for near events: WHEEL_BUCKETS buckets of 1/TICKS_PER_US us, one per tick from
 *    the tick of the last event taken (baseTick, at bucket curIdx) to the horizon, each a list
 *    sorted by (time, sequence number), with a bitset (and a bitset of its words) of the occupied;
 *  - the far heap, a 4-ary min-heap: events at or past the horizon, and all of them while the
 *    queue is small (SMALL_QUEUE).
 * pop() takes the front register's, or the earlier of the wheel's first bucket head and the far
 * heap's root: exactly the (time, sequence number) order, whichever place holds an event.
 *
 * Why a wheel: with many busy threads the queue holds about one event each, a few microseconds
 * ahead of the clock, so most buckets hold none or one, and an event costs a few stores and a bit
 * scan; a heap's sift compares are unpredictable branches at every level. Measured on this host
 * (a loop of pop and push, gaps of 1-4 us): 102-123 ns for the 4-ary heap alone with 256-512
 * events queued, 50-62 ns with the wheel. The engine at 256 vCPUs, paired in one sitting (runs of
 * the engine-speed bench's command, medians of 7): exit mode 1.12-1.33 M simulated faults per host
 * second before, 1.55-1.65 M after; uffd mode, whose queue holds 2-4 events (the front register
 * and the heap), 0.62-0.67 M before and 0.63-0.68 M after.
 *
 * The tick is floor(time x 64): a multiplication by a power of two is exact, so a later time never
 * has an earlier tick. Nothing allocates in the steady state; the slot arrays double when full.
 */

/** Buckets on the wheel (a power of two): with 1/64 us each, a horizon of 64 us. */
const WHEEL_BUCKETS = 4096;
const MASK = WHEEL_BUCKETS - 1;
const WORDS = WHEEL_BUCKETS >>> 5;
const SUMMARY_WORDS = WORDS >>> 5;
/** Ticks per microsecond (a power of two, so a tick is exact). */
const TICKS_PER_US = 64;
/**
 * Below this many queued events a new one goes to the far heap: a few levels of sift cost less than
 * the wheel's bit scan. Measured (pop and push in a loop, half the pushes at the time just taken):
 * the heap 23 / 39 / 51 ns with 2 / 8 / 32 events queued, the wheel 48 / 55 / 49 ns.
 */
const SMALL_QUEUE = 32;

/** Index of the lowest set bit of a non-zero 32-bit word. */
const lowestBit = (x: number): number => 31 - Math.clz32(x & -x);

export class EventQueue {
  private time = new Float64Array(1024);
  private seq = new Float64Array(1024);
  private actor = new Int32Array(1024);
  private phase = new Int32Array(1024);
  private arg = new Float64Array(1024);
  /** the next slot in the same bucket (-1: the last) */
  private next = new Int32Array(1024);
  private free = new Int32Array(1024);
  private nFree = 0;
  private nSlots = 0;
  private readonly head = new Int32Array(WHEEL_BUCKETS).fill(-1);
  /** bit per bucket: it holds an event; and bit per word of that: the word is not 0 */
  private readonly occupied = new Uint32Array(WORDS);
  private readonly summary = new Uint32Array(SUMMARY_WORDS);
  private onWheel = 0;
  /** the tick of bucket curIdx: every event on the wheel has a tick in [baseTick, baseTick + WHEEL_BUCKETS) */
  private baseTick = 0;
  private curIdx = 0;
  /** The far heap: a 4-ary min-heap of slots keyed by (time, sequence number), children of i at
   *  4i+1 .. 4i+4. A sift moves the key and the slot number, not the payload. */
  private heap = new Int32Array(256);
  /** the key of heap[i], beside it: comparisons read no slot */
  private hTime = new Float64Array(256);
  private hSeq = new Float64Array(256);
  private nFar = 0;
  private nextSeq = 0;
  /** the front register: an event before every one on the wheel and in the far heap, when hasFront */
  private hasFront = false;
  private fTime = 0;
  private fSeq = 0;
  private fActor = 0;
  private fPhase = 0;
  private fArg = 0;
  /** Filled by pop(). */
  popTimeUs = 0;
  popActor = 0;
  popPhase = 0;
  popArg = 0;

  get size(): number {
    return this.onWheel + this.nFar + (this.hasFront ? 1 : 0);
  }
  /** Time of the earliest event, or Infinity when empty. */
  peekTimeUs(): number {
    if (this.hasFront) return this.fTime;
    if (this.onWheel === 0) return this.nFar ? this.hTime[0]! : Infinity;
    const s = this.head[this.firstOccupied()]!;
    const t = this.time[s]!;
    const ft = this.hTime[0]!;
    return this.nFar && (ft < t || (ft === t && this.hSeq[0]! < this.seq[s]!)) ? ft : t;
  }
  get scheduled(): number {
    return this.nextSeq;
  }

  push(timeUs: number, actor: number, phase: number, arg = 0): void {
    if (!(timeUs >= 0) || !Number.isFinite(timeUs)) throw new Error(`assertion failed: event time ${timeUs} is not a finite time`);
    const seq = this.nextSeq++;
    if (this.hasFront) {
      if (timeUs >= this.fTime) {
        this.place(timeUs, seq, actor, phase, arg);
        return;
      }
      this.place(this.fTime, this.fSeq, this.fActor, this.fPhase, this.fArg); // the new one comes first
    } else if (this.onWheel > 0 || (this.nFar > 0 && timeUs >= this.hTime[0]!)) {
      this.place(timeUs, seq, actor, phase, arg);
      return;
    }
    this.hasFront = true;
    this.fTime = timeUs;
    this.fSeq = seq;
    this.fActor = actor;
    this.fPhase = phase;
    this.fArg = arg;
  }

  /** Puts an event on the wheel, or in the far heap: beyond the horizon, or while the queue is small. */
  private place(timeUs: number, seq: number, actor: number, phase: number, arg: number): void {
    if (this.onWheel + this.nFar < SMALL_QUEUE) {
      this.pushFar(timeUs, seq, actor, phase, arg);
      return;
    }
    if (this.onWheel === 0) {
      // An empty wheel starts at the tick of the event taken last: no later push is earlier.
      this.baseTick = Math.floor(this.popTimeUs * TICKS_PER_US);
      this.curIdx = 0;
    }
    const rel = Math.floor(timeUs * TICKS_PER_US) - this.baseTick;
    // Before the base only if it is earlier than the event taken last (the loop rejects that one);
    // the far heap keeps any time in order.
    if (rel < 0 || rel >= WHEEL_BUCKETS) {
      this.pushFar(timeUs, seq, actor, phase, arg);
      return;
    }
    const slot = this.slotFor(timeUs, seq, actor, phase, arg);
    const b = (this.curIdx + rel) & MASK;
    const tm = this.time,
      sq = this.seq,
      nx = this.next;
    // After every event in the bucket that comes before it (the front register's, put here when a
    // new one takes its place, is older than the events at its time already here).
    let prev = -1,
      cur = this.head[b]!;
    while (cur >= 0 && (tm[cur]! < timeUs || (tm[cur]! === timeUs && sq[cur]! < seq))) {
      prev = cur;
      cur = nx[cur]!;
    }
    nx[slot] = cur;
    if (prev < 0) {
      this.head[b] = slot;
      const w = b >>> 5;
      if (this.occupied[w] === 0) this.summary[w >>> 5]! |= 1 << (w & 31);
      this.occupied[w]! |= 1 << (b & 31);
    } else nx[prev] = slot;
    this.onWheel++;
  }

  /** Removes the earliest event into pop*; false when empty. */
  pop(): boolean {
    if (this.hasFront) {
      this.hasFront = false;
      this.popTimeUs = this.fTime;
      this.popActor = this.fActor;
      this.popPhase = this.fPhase;
      this.popArg = this.fArg;
      this.rebase(this.fTime);
      return true;
    }
    if (this.onWheel > 0) {
      const b = this.firstOccupied();
      const s = this.head[b]!;
      const t = this.time[s]!;
      if (this.nFar === 0 || t < this.hTime[0]! || (t === this.hTime[0]! && this.seq[s]! < this.hSeq[0]!)) {
        this.popTimeUs = t;
        this.popActor = this.actor[s]!;
        this.popPhase = this.phase[s]!;
        this.popArg = this.arg[s]!;
        const n = this.next[s]!;
        this.head[b] = n;
        if (n < 0) {
          const w = b >>> 5;
          const left = this.occupied[w]! & ~(1 << (b & 31));
          this.occupied[w] = left;
          if (left === 0) this.summary[w >>> 5]! &= ~(1 << (w & 31));
        }
        this.free[this.nFree++] = s;
        this.onWheel--;
        this.baseTick += (b - this.curIdx) & MASK;
        this.curIdx = b;
        return true;
      }
    } else if (this.nFar === 0) return false;
    this.popFar();
    this.rebase(this.popTimeUs);
    return true;
  }

  /**
   * Moves the base of a wheel that holds events up to the tick of the event just taken from the far
   * heap or the front register: no later push is earlier than it, and every event on the wheel is
   * at or after it (it came first), so the distance is less than the wheel.
   */
  private rebase(timeUs: number): void {
    if (this.onWheel === 0) return; // place() starts an empty wheel afresh
    const tick = Math.floor(timeUs * TICKS_PER_US);
    if (tick > this.baseTick) {
      this.curIdx = (this.curIdx + (tick - this.baseTick)) & MASK;
      this.baseTick = tick;
    }
  }

  /**
   * The first occupied bucket from curIdx on, around the wheel (onWheel > 0): the rest of curIdx's
   * word, else the first occupied word after it by the summary. Coming round to curIdx's own word
   * again, its set bits are all before curIdx (the rest was empty): the wheel's far end.
   */
  private firstOccupied(): number {
    const occ = this.occupied,
      sum = this.summary;
    let w = this.curIdx >>> 5;
    const bits = occ[w]! & (-1 << (this.curIdx & 31));
    if (bits !== 0) return (w << 5) + lowestBit(bits);
    let sw = w >>> 5;
    let sbits = (w & 31) === 31 ? 0 : sum[sw]! & (-1 << ((w & 31) + 1));
    for (let k = 0; sbits === 0; k++) {
      sw = (sw + 1) & (SUMMARY_WORDS - 1);
      sbits = sum[sw]!;
      if (k > SUMMARY_WORDS) throw new Error('assertion failed: the wheel counts events it does not hold');
    }
    w = (sw << 5) + lowestBit(sbits);
    return (w << 5) + lowestBit(occ[w]!);
  }

  private pushFar(timeUs: number, seq: number, actor: number, phase: number, arg: number): void {
    const slot = this.slotFor(timeUs, seq, actor, phase, arg);
    if (this.nFar === this.heap.length) this.growFar();
    const h = this.heap,
      ht = this.hTime,
      hs = this.hSeq;
    let i = this.nFar++;
    while (i > 0) {
      // sift up
      const p = (i - 1) >> 2;
      const pt = ht[p]!;
      if (pt < timeUs || (pt === timeUs && hs[p]! < seq)) break;
      h[i] = h[p]!;
      ht[i] = pt;
      hs[i] = hs[p]!;
      i = p;
    }
    h[i] = slot;
    ht[i] = timeUs;
    hs[i] = seq;
  }

  /** Takes the far heap's earliest event into pop* (nFar > 0). */
  private popFar(): void {
    const h = this.heap,
      ht = this.hTime,
      hs = this.hSeq;
    const top = h[0]!;
    this.popTimeUs = ht[0]!;
    this.popActor = this.actor[top]!;
    this.popPhase = this.phase[top]!;
    this.popArg = this.arg[top]!;
    this.free[this.nFree++] = top;
    const last = --this.nFar;
    if (last === 0) return;
    const slot = h[last]!,
      t = ht[last]!,
      s = hs[last]!;
    let i = 0;
    for (;;) {
      // sift down
      const c0 = 4 * i + 1;
      if (c0 >= last) break;
      let c = c0,
        ct = ht[c0]!,
        cs = hs[c0]!;
      const end = c0 + 4 < last ? c0 + 4 : last;
      for (let k = c0 + 1; k < end; k++) {
        const kt = ht[k]!;
        if (kt < ct || (kt === ct && hs[k]! < cs)) {
          c = k;
          ct = kt;
          cs = hs[k]!;
        }
      }
      if (t < ct || (t === ct && s < cs)) break;
      h[i] = h[c]!;
      ht[i] = ct;
      hs[i] = cs;
      i = c;
    }
    h[i] = slot;
    ht[i] = t;
    hs[i] = s;
  }

  private grow(): void {
    this.time = grown(this.time);
    this.seq = grown(this.seq);
    this.actor = grown(this.actor);
    this.phase = grown(this.phase);
    this.arg = grown(this.arg);
    this.next = grown(this.next);
    this.free = grown(this.free);
  }

  private growFar(): void {
    this.heap = grown(this.heap);
    this.hTime = grown(this.hTime);
    this.hSeq = grown(this.hSeq);
  }

  /** A slot of the one pool both parts share, holding the event. */
  private slotFor(timeUs: number, seq: number, actor: number, phase: number, arg: number): number {
    let slot: number;
    if (this.nFree > 0) slot = this.free[--this.nFree]!;
    else {
      if (this.nSlots === this.time.length) this.grow();
      slot = this.nSlots++;
    }
    this.time[slot] = timeUs;
    this.seq[slot] = seq;
    this.actor[slot] = actor;
    this.phase[slot] = phase;
    this.arg[slot] = arg;
    return slot;
  }
}

/** A typed array twice as long with `a`'s contents at its start. */
function grown<T extends Float64Array | Int32Array>(a: T): T {
  const b = new (a.constructor as new (n: number) => T)(a.length * 2);
  b.set(a);
  return b;
}
