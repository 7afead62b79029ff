// Goal: each strategy's decisions, checked without threads: push order, where the scan restarts,
// what rides along with a demanded page, and which channel demanded pages use; and that what a
// strategy does agrees with the traits the options and engines branch on.
import { describe, expect, it } from 'vitest';
import { createStrategy, STRATEGY_NAMES, strategyTraits, traitsOfName, type StrategyName } from '../src/model/strategies/index.js';
import { STRIDE_PREFETCH_DEPTH } from '../src/model/strategies/stride.js';

const env = { pages: 100, vcpus: 2, precopyRounds: 2 };

/** Pushes until done, marking pages sent; returns the order. */
function drain(name: StrategyName, sent = new Uint8Array(env.pages), steps = Infinity, e = env): number[] {
  const s = createStrategy(name, e);
  const order: number[] = [];
  for (let p = s.nextPush(sent); p >= 0 && order.length < steps; p = s.nextPush(sent)) {
    order.push(p);
    sent[p] = 1;
  }
  return order;
}

describe('every strategy', () => {
  it.each(STRATEGY_NAMES)('%s eventually pushes every unsent page exactly once', (name) => {
    const sent = new Uint8Array(env.pages);
    sent[10] = sent[50] = 1;
    const order = drain(name, sent);
    expect(order).toHaveLength(98);
    expect(new Set(order).size).toBe(98);
    expect(order).not.toContain(10);
  });
});

describe('linear (QEMU)', () => {
  it('pushes in address order and restarts the scan after a requested page', () => {
    const s = createStrategy('linear', env);
    const sent = new Uint8Array(env.pages);
    const take = (n: number) =>
      Array.from({ length: n }, () => {
        const p = s.nextPush(sent);
        sent[p] = 1;
        return p;
      });
    expect(take(3)).toEqual([0, 1, 2]);
    s.onRequest(70, 0, 0, []);
    sent[70] = 1; // the source sends the requested page itself
    expect(take(3)).toEqual([71, 72, 73]);
    expect(s.urgentChannel).toBe(false);
  });
});

describe('demand', () => {
  it('does not push while the guest runs', () => {
    expect(createStrategy('demand', env).pushWhileGuestRuns).toBe(false);
  });
});

describe('preempt', () => {
  it('is linear with an urgent channel for demanded pages', () => {
    const s = createStrategy('preempt', env);
    expect(s.urgentChannel).toBe(true);
    expect(drain('preempt', new Uint8Array(env.pages), 5)).toEqual([0, 1, 2, 3, 4]);
  });
});

describe('prepaging (Hines & Gopalan)', () => {
  it('bubbles outward from the latest fault and re-centres on the next', () => {
    const s = createStrategy('prepaging', env);
    const sent = new Uint8Array(env.pages);
    const take = (n: number) =>
      Array.from({ length: n }, () => {
        const p = s.nextPush(sent);
        sent[p] = 1;
        return p;
      });
    s.onRequest(40, 0, 0, []);
    sent[40] = 1;
    expect(take(5)).toEqual([41, 39, 42, 38, 43]);
    s.onRequest(90, 1, 0, []);
    sent[90] = 1;
    expect(take(4)).toEqual([91, 89, 92, 88]);
  });
  it('handles a pivot at the edge of memory', () => {
    const s = createStrategy('prepaging', env);
    const sent = new Uint8Array(env.pages);
    s.onRequest(99, 0, 0, []);
    sent[99] = 1;
    const order = Array.from({ length: 3 }, () => {
      const p = s.nextPush(sent);
      sent[p] = 1;
      return p;
    });
    expect(order).toEqual([98, 97, 96]);
  });
});

describe('stride', () => {
  it('prefetches along a detected stride, per vCPU', () => {
    const s = createStrategy('stride', { ...env, pages: 1000 });
    const out: number[] = [];
    s.onRequest(10, 0, 0, out);
    s.onRequest(14, 0, 0, out);
    expect(out).toEqual([]); // one stride seen, not yet confirmed
    s.onRequest(500, 1, 0, out); // another vCPU does not disturb vCPU 0's stream
    s.onRequest(18, 0, 0, out);
    expect(out).toEqual(Array.from({ length: STRIDE_PREFETCH_DEPTH }, (_, k) => 18 + 4 * (k + 1)));
  });
  it('prefetches backwards too and stops at the edge', () => {
    const s = createStrategy('stride', env);
    const out: number[] = [];
    for (const p of [9, 6, 3]) s.onRequest(p, 0, 0, out);
    expect(out).toEqual([0]);
  });
});

describe('hybrid and hugepage', () => {
  it('hybrid asks for precopy rounds', () => {
    expect(createStrategy('hybrid', { ...env, precopyRounds: 3 }).precopyRounds).toBe(3);
    expect(createStrategy('linear', env).precopyRounds ?? 0).toBe(0);
  });
  it('hugepage pushes linearly (the resolver gives it 2 MiB pages)', () => {
    expect(drain('hugepage', new Uint8Array(env.pages), 3)).toEqual([0, 1, 2]);
  });
});

describe('strategy traits', () => {
  it.each(STRATEGY_NAMES)('%s behaves as its traits say', (name) => {
    const t = strategyTraits(name),
      s = createStrategy(name, env);
    expect(s.urgentChannel).toBe(t.urgentChannel);
    expect(s.pushWhileGuestRuns).toBe(t.pushWhileGuestRuns);
    expect((s.precopyRounds ?? 0) > 0).toBe(t.precopy);
  });
  it('names the traits that differ: hybrid precopies, hugepage needs 2 MiB pages, preempt has an urgent channel, demand waits', () => {
    const differ = STRATEGY_NAMES.map((n) => [n, strategyTraits(n)] as const).filter(
      ([, t]) => t.precopy || t.pageSize !== null || t.urgentChannel || !t.pushWhileGuestRuns,
    );
    expect(Object.fromEntries(differ)).toEqual({
      hybrid: { precopy: true, pageSize: null, urgentChannel: false, pushWhileGuestRuns: true },
      hugepage: { precopy: false, pageSize: 2 * 1024 * 1024, urgentChannel: false, pushWhileGuestRuns: true },
      preempt: { precopy: false, pageSize: null, urgentChannel: true, pushWhileGuestRuns: true },
      demand: { precopy: false, pageSize: null, urgentChannel: false, pushWhileGuestRuns: false },
    });
  });
  it('an unknown name has no traits (not an inherited property either)', () => {
    expect(traitsOfName('turbo')).toBeNull();
    expect(traitsOfName('toString')).toBeNull();
    expect(traitsOfName('hybrid')?.precopy).toBe(true);
  });
});
