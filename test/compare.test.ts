// Goal: every strategy migrates correctly in both fault modes, and compare runs them side by side
// with a baseline. Method: tiny guests on real threads at a fixed dilation (test/helpers/dilation.ts);
// behaviour, not timings. compare runs at D=4, so its baseline is a paced access rate.
import { describe, expect, it } from 'vitest';
import { compare, degradation, parseStrategyList } from '../src/compare.js';
import { simulate } from '../src/index.js';
import { STRATEGY_NAMES } from '../src/model/strategies/index.js';
import { UNDILATED } from './helpers/dilation.js';

describe.each(['exit', 'uffd'] as const)('every strategy, %s mode', (mode) => {
  it.each(STRATEGY_NAMES)('%s', async (strategy) => {
    const r = await simulate({
      mode,
      strategy,
      vcpus: 2,
      memory: strategy === 'hugepage' ? '32MiB' : '8MiB',
      workload: 'zipf',
      writeRatio: 0.5,
      accesses: 4000,
      seed: 5,
      bandwidth: '2Gbit',
      dirtyRate: '256MiB',
      timeDilation: UNDILATED,
    });
    expect(r.verifyErrors).toEqual([]);
    expect(r.verified).toBe(true);
    expect(r.strategy).toBe(strategy);
    if (strategy === 'preempt') expect(r.pagesUrgent).toBe(r.pagesDemand);
    else expect(r.pagesUrgent).toBe(0);
    if (strategy === 'hybrid') {
      expect(r.precopyRounds).toBeGreaterThanOrEqual(1);
      expect(r.pagesResent).toBeGreaterThan(0);
      expect(r.downtimeMs).toBeGreaterThan(0);
      expect(r.precopyMs).toBeGreaterThan(0);
      expect(r.pagesDemand + r.pagesPushed).toBe(r.pages + r.pagesResent + r.pagesDiscarded);
    } else {
      expect(r.pagesDemand + r.pagesPushed).toBe(r.pages);
    }
    if (strategy === 'hugepage') expect(r.pageSize).toBe(2 ** 21);
  });
});

describe('stride prefetches on a sequential scan', () => {
  it('sends pages along the detected stride, right behind the demanded one', async () => {
    const o = {
      vcpus: 1,
      memory: '16MiB',
      workload: 'sequential',
      partition: true,
      accesses: 4096,
      writeRatio: 0,
      seed: 2,
      bandwidth: '1Gbit',
      sendBuffer: '16KiB',
      timeDilation: UNDILATED,
    } as const;
    const stride = await simulate({ ...o, strategy: 'stride' });
    expect(stride.verified).toBe(true);
    expect(stride.pagesPrefetched).toBeGreaterThan(0);
  });
});

describe('compare', () => {
  it('parses strategy lists', () => {
    expect(parseStrategyList(undefined)).toEqual(STRATEGY_NAMES);
    expect(parseStrategyList('linear, preempt')).toEqual(['linear', 'preempt']);
    expect(() => parseStrategyList('linear,warp')).toThrow(/unknown strategy "warp"/);
  });
  it('runs each strategy with the same seed and reports degradation against a baseline', async () => {
    const rs = await compare({ vcpus: 2, memory: '8MiB', accesses: 3000, seed: 9, timeDilation: 4 }, ['linear', 'preempt']);
    expect(rs.map((r) => r.strategy)).toEqual(['linear', 'preempt']);
    for (const r of rs) {
      expect(r.verified).toBe(true);
      expect(r.seed).toBe(9);
      expect(r.baselineAccessesPerSec).toBeGreaterThan(0);
    }
  });
  it('degradation is the time-weighted slowdown over the postcopy window', () => {
    const r = {
      mode: 'exit',
      migrationMs: 100,
      precopyMs: 0,
      downtimeMs: 0,
      timeline: [
        { tMs: 50, accesses: 500 },
        { tMs: 100, accesses: 1000 },
        { tMs: 150, accesses: 5000 },
      ],
    };
    expect(degradation(r as never, 20_000)).toBe(0.5); // 1000 accesses in 0.1 s = 10k/s against 20k/s
    expect(degradation({ ...r, mode: 'none' } as never, 20_000)).toBeNull();
  });
});
