/**
 * The virtual engine's event queue: a binary min-heap keyed by (time, sequence number). The
 * sequence number is the order of scheduling, so two events at the same virtual time always run in
 * the order they were scheduled: the run is a pure function of its options and seed.
 *
 *   slot i: timeUs[i], seq[i], actor[i], phase[i], arg[i]      children of i: 2i+1, 2i+2
 *
 * Parallel typed arrays, grown by doubling; push and pop allocate nothing in the steady state.
 */
export class EventQueue {
  private timeUs = new Float64Array(1024);
  private seq = new Float64Array(1024);
  private actor = new Int32Array(1024);
  private phase = new Int32Array(1024);
  private arg = new Float64Array(1024);
  private n = 0;
  private nextSeq = 0;
  /** Filled by pop(). */
  popTimeUs = 0;
  popActor = 0;
  popPhase = 0;
  popArg = 0;

  get size(): number { return this.n; }
  /** Time of the earliest event, or Infinity when empty. */
  peekTimeUs(): number { return this.n ? this.timeUs[0]! : Infinity; }
  get scheduled(): number { return this.nextSeq; }

  push(timeUs: number, actor: number, phase: number, arg = 0): void {
    if (!(timeUs >= 0) || !Number.isFinite(timeUs)) throw new Error(`assertion failed: event time ${timeUs} is not a finite time`);
    if (this.n === this.timeUs.length) this.grow();
    const s = this.nextSeq++;
    let i = this.n++;
    // Sift up.
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pt = this.timeUs[p]!;
      if (pt < timeUs || (pt === timeUs && this.seq[p]! < s)) break;
      this.move(p, i);
      i = p;
    }
    this.timeUs[i] = timeUs; this.seq[i] = s; this.actor[i] = actor; this.phase[i] = phase; this.arg[i] = arg;
  }

  /** Removes the earliest event into pop*; false when empty. */
  pop(): boolean {
    if (this.n === 0) return false;
    this.popTimeUs = this.timeUs[0]!; this.popActor = this.actor[0]!; this.popPhase = this.phase[0]!; this.popArg = this.arg[0]!;
    const last = --this.n;
    if (last === 0) return true;
    const t = this.timeUs[last]!, s = this.seq[last]!, a = this.actor[last]!, ph = this.phase[last]!, ar = this.arg[last]!;
    let i = 0;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= last) break;
      const r = c + 1;
      if (r < last && (this.timeUs[r]! < this.timeUs[c]! || (this.timeUs[r] === this.timeUs[c] && this.seq[r]! < this.seq[c]!))) c = r;
      if (t < this.timeUs[c]! || (t === this.timeUs[c] && s < this.seq[c]!)) break;
      this.move(c, i);
      i = c;
    }
    this.timeUs[i] = t; this.seq[i] = s; this.actor[i] = a; this.phase[i] = ph; this.arg[i] = ar;
    return true;
  }

  private move(from: number, to: number): void {
    this.timeUs[to] = this.timeUs[from]!; this.seq[to] = this.seq[from]!; this.actor[to] = this.actor[from]!;
    this.phase[to] = this.phase[from]!; this.arg[to] = this.arg[from]!;
  }

  private grow(): void {
    const g = <T extends Float64Array | Int32Array>(a: T): T => { const b = new (a.constructor as new (n: number) => T)(a.length * 2); b.set(a); return b; };
    this.timeUs = g(this.timeUs); this.seq = g(this.seq); this.actor = g(this.actor); this.phase = g(this.phase); this.arg = g(this.arg);
  }
}
