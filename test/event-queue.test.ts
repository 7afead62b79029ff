// Goal: the virtual engine's event queue hands events out in (time, order of scheduling) order
// whatever the mix of pushes and pops: equal times, a peek or a size between a pop and the next
// push, growth past its first arrays, and, on the timing wheel, events at or past its horizon (the
// far heap), ties between an event on the wheel and one in the far heap, a bucket holding several,
// and jumps of the clock far past the horizon (the wheel re-based).
// Method: a seeded random mix of pops and 0-3 pushes after each, times drawn from a few values so
// ties are common, checked event by event against a plain array kept sorted by (time, sequence);
// a second mix draws its gaps from 1/64 us to 10^6 us, around the wheel's 64 us horizon, and now
// and then a time before the last one taken.
import { expect, it } from 'vitest';
import { EventQueue } from '../src/virtual/event-queue.js';

interface Ev {
  t: number;
  seq: number;
  actor: number;
  phase: number;
  arg: number;
}

function rng(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

function drain(seed: number, initial: number, first: (r: () => number) => number, later: (r: () => number, now: number) => number): void {
  const r = rng(seed);
  const q = new EventQueue();
  const ref: Ev[] = [];
  let seq = 0,
    now = 0,
    popped = 0;
  const wrong: string[] = []; // collected, then asserted once: an expect per event is slower than the queue
  const check = (what: string, got: unknown, want: unknown) => {
    if (got !== want && wrong.length < 5) wrong.push(`seed ${seed} event ${popped} ${what}: got ${String(got)}, want ${String(want)}`);
  };
  const push = (t: number) => {
    const e = { t, seq: seq++, actor: Math.floor(r() * 5000), phase: Math.floor(r() * 40), arg: r() };
    q.push(e.t, e.actor, e.phase, e.arg);
    let lo = 0,
      hi = ref.length; // sorted insert: after every event with time <= t (they were scheduled earlier)
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ref[mid]!.t <= t) lo = mid + 1;
      else hi = mid;
    }
    ref.splice(lo, 0, e);
  };
  for (let i = 0; i < initial; i++) push(first(r));
  while (ref.length > 0) {
    check('size', q.size, ref.length);
    check('peek', q.peekTimeUs(), ref[0]!.t);
    check('pop', q.pop(), true);
    const want = ref.shift()!;
    check('time', q.popTimeUs, want.t);
    check('actor', q.popActor, want.actor);
    check('phase', q.popPhase, want.phase);
    check('arg', q.popArg, want.arg);
    now = want.t;
    popped++;
    if (r() < 0.2) check('size after pop', q.size, ref.length); // between the pop and its push
    if (r() < 0.1) check('peek after pop', q.peekTimeUs(), ref.length ? ref[0]!.t : Infinity);
    const pushes = popped > 20_000 ? 0 : Math.floor(r() * 4);
    for (let k = 0; k < pushes; k++) push(later(r, now));
  }
  expect(wrong).toEqual([]);
  expect(popped).toBeGreaterThan(20_000);
  expect(q.pop()).toBe(false);
  expect(q.peekTimeUs()).toBe(Infinity);
  expect(q.scheduled).toBe(seq);
}

it('pops in (time, sequence) order across ties, peeks between pops and growth', () => {
  for (const seed of [1, 2, 3, 4]) {
    drain(
      seed,
      seed === 4 ? 3000 : 300,
      (r) => Math.floor(r() * 50),
      (r, now) => {
        const u = r();
        return u < 0.3 ? now : u < 0.5 ? now + 0.5 : now + Math.floor(r() * 60); // ties with now, and later
      },
    );
  }
});

/** Gaps around the wheel's horizon (64 us in buckets of 1/64 us): inside it, on its edge, past it, far past it. */
const GAPS = [0, 1 / 64, 0.5 / 64, 0.25, 1, 63.99, 64, 64 + 1 / 64, 100, 1000, 1e6];

it('keeps the order across the wheel and the far heap, at and past the horizon, and after long jumps', () => {
  for (const seed of [5, 6, 7]) {
    // now and then one before the last event taken: the loop rejects it when it comes out, the queue still orders it
    const later = (r: () => number, now: number) =>
      r() < 0.01 ? Math.max(0, now - 70 * r()) : now + GAPS[Math.floor(r() * GAPS.length)]! * (r() < 0.5 ? 1 : Math.floor(r() * 3));
    drain(seed, 500, (r) => later(r, 0), later);
  }
});
