/**
 * The event queue's far part (event-queue.ts): a 4-ary min-heap keyed by (time, sequence number),
 * for the events beyond the timing wheel's horizon and any the wheel cannot place. The caller gives
 * the sequence number, so an event keeps its place in the order whichever part holds it.
 *
 *   heap[i] = slot, hTime[i], hSeq[i]          children of i: 4i+1 .. 4i+4
 *   slot s: actor[s], phase[s], arg[s]         (freed slots are reused)
 *
 * A sift moves the key and the slot number, not the payload; a 4-ary heap has half the levels of a
 * binary one. Push and pop allocate nothing in the steady state.
 */
export class EventHeap {
  private actor = new Int32Array(256);
  private phase = new Int32Array(256);
  private arg = new Float64Array(256);
  private heap = new Int32Array(256);
  /** the key of heap[i], beside it: comparisons read no slot */
  private hTime = new Float64Array(256);
  private hSeq = new Float64Array(256);
  private free = new Int32Array(256);
  private nFree = 0;
  private nSlots = 0;
  n = 0;
  /** Filled by pop(). */
  popTimeUs = 0;
  popSeq = 0;
  popActor = 0;
  popPhase = 0;
  popArg = 0;

  /** The earliest event's time and sequence number (when n > 0). */
  get minTimeUs(): number {
    return this.hTime[0]!;
  }
  get minSeq(): number {
    return this.hSeq[0]!;
  }

  push(timeUs: number, seq: number, actor: number, phase: number, arg: number): void {
    let slot: number;
    if (this.nFree > 0) slot = this.free[--this.nFree]!;
    else {
      if (this.nSlots === this.actor.length) this.grow();
      slot = this.nSlots++;
    }
    this.actor[slot] = actor;
    this.phase[slot] = phase;
    this.arg[slot] = arg;
    const h = this.heap,
      ht = this.hTime,
      hs = this.hSeq;
    let i = this.n++;
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

  /** Removes the earliest event into pop* (the caller checks n > 0 first). */
  pop(): void {
    const h = this.heap,
      ht = this.hTime,
      hs = this.hSeq;
    const top = h[0]!;
    this.popTimeUs = ht[0]!;
    this.popSeq = hs[0]!;
    this.popActor = this.actor[top]!;
    this.popPhase = this.phase[top]!;
    this.popArg = this.arg[top]!;
    this.free[this.nFree++] = top;
    const last = --this.n;
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
    this.actor = grown(this.actor);
    this.phase = grown(this.phase);
    this.arg = grown(this.arg);
    this.heap = grown(this.heap);
    this.hTime = grown(this.hTime);
    this.hSeq = grown(this.hSeq);
    this.free = grown(this.free);
  }
}

/** A typed array twice as long with `a`'s contents at its start. */
export function grown<T extends Float64Array | Int32Array>(a: T): T {
  const b = new (a.constructor as new (n: number) => T)(a.length * 2);
  b.set(a);
  return b;
}
