// Goal: the virtual engine's event queue hands events out in (time, order of scheduling) order
// whatever the mix of pushes and pops: a push after a pop that takes the popped root's place, one
// earlier than everything (the front register), equal times, a peek or a size between a pop and the
// next push, and growth past its first arrays.
// Method: a seeded random mix of pops and 0-3 pushes after each, times drawn from a few values so
// ties are common, checked event by event against a plain array kept sorted by (time, sequence).
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

it('pops in (time, sequence) order across replaces, the front register, ties and growth', () => {
  for (const seed of [1, 2, 3, 4]) {
    const r = rng(seed);
    const q = new EventQueue();
    const ref: Ev[] = [];
    let seq = 0,
      now = 0,
      popped = 0;
    const wrong: string[] = []; // collected, then asserted once: an expect per event is slower than the queue
    const check = (what: string, got: unknown, want: unknown) => {
      if (got !== want && wrong.length < 5) wrong.push(`event ${popped} ${what}: got ${String(got)}, want ${String(want)}`);
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
    for (let i = 0; i < (seed === 4 ? 3000 : 300); i++) push(Math.floor(r() * 50));
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
      for (let k = 0; k < pushes; k++) {
        const u = r();
        push(u < 0.3 ? now : u < 0.5 ? now + 0.5 : now + Math.floor(r() * 60)); // ties with now, and later
      }
    }
    expect(wrong).toEqual([]);
    expect(popped).toBeGreaterThan(20_000);
    expect(q.pop()).toBe(false);
    expect(q.peekTimeUs()).toBe(Infinity);
    expect(q.scheduled).toBe(seq);
  }
});
