// Goal: the regions workload has each property it promises: heavy-tailed region sizes that tile the
// range, zipf popularity over regions, forward sequential runs of the configured mean length, a
// write ratio per region, a hot set that moves every phase, and exact replay from the seed.
// Method: drive RegionWalker / AccessStream directly (no engine) and measure what they produce.
import { describe, expect, it, vi } from 'vitest';
import { regionLayout, RegionWalker, type RegionParams } from '../src/model/regions.js';
import { Rng } from '../src/model/rng.js';
import { AccessStream, vcpuRange } from '../src/model/workload.js';
import { resolveOptions } from '../src/options.js';

const P: RegionParams = { seed: 1, regionMinPages: 16, regionTail: 1.2, runPages: 32, phaseAccesses: 0, zipfExponent: 0.99, writeRatio: 0.3 };

function sizes(pages: number, p = P): number[] {
  const l = regionLayout(0, pages, p);
  return Array.from({ length: l.count }, (_, r) => l.starts[r + 1]! - l.starts[r]!);
}

describe('region layout', () => {
  it('tiles the range with regions of at least the minimum size and at most an eighth of it', () => {
    const s = sizes(65536);
    expect(s.reduce((a, b) => a + b, 0)).toBe(65536);
    expect(Math.min(...s)).toBeGreaterThanOrEqual(16);
    expect(Math.max(...s)).toBeLessThanOrEqual(65536 / 8 + 16);
  });
  it('is heavy-tailed: most regions are small, a few large ones hold much of memory', () => {
    const s = sizes(65536).sort((a, b) => b - a);
    const median = s[Math.floor(s.length / 2)]!;
    expect(median).toBeLessThan(40);
    const top = s.slice(0, Math.ceil(s.length / 20)).reduce((a, b) => a + b, 0);
    expect(top / 65536).toBeGreaterThan(0.3); // the largest 5% of regions hold over 30% of the pages
  });
  it('depends only on seed and range, and a heavier tail gives fewer, larger regions', async () => {
    // Layouts are memoised per module: a fresh module instance builds its own, which must be equal.
    const flat = (l: { starts: Int32Array; writeRatio: Float32Array; count: number }) => ({
      starts: Array.from(l.starts),
      writeRatio: Array.from(l.writeRatio),
      count: l.count,
    });
    const a = regionLayout(0, 4096, P);
    vi.resetModules();
    const fresh = (await import('../src/model/regions.js')).regionLayout(0, 4096, { ...P });
    expect(fresh).not.toBe(a);
    expect(flat(fresh)).toEqual(flat(a));
    expect(sizes(65536, { ...P, seed: 2 })).not.toEqual(sizes(65536));
    expect(sizes(65536, { ...P, regionTail: 0.8 }).length).toBeLessThan(sizes(65536, { ...P, regionTail: 3 }).length);
  });
  it('gives each region its own write ratio, averaging about the workload write ratio', () => {
    const l = regionLayout(0, 65536, P);
    const w = Array.from(l.writeRatio);
    expect(Math.min(...w)).toBeLessThan(0.05);
    expect(Math.max(...w)).toBe(1);
    expect(w.reduce((a, b) => a + b, 0) / w.length).toBeGreaterThan(0.2);
    expect(w.reduce((a, b) => a + b, 0) / w.length).toBeLessThan(0.35);
  });
});

describe('region walker', () => {
  it('runs forward page by page inside a region, with the configured mean run length', () => {
    // Regions far larger than a run, so runs are rarely cut short by their region's end.
    const big = { ...P, regionMinPages: 4096 };
    const walker = new RegionWalker(regionLayout(0, 65536, big), big, 0);
    const rng = new Rng(1, 0);
    let prev = -1,
      runs = 0,
      steps = 0;
    for (let i = 0; i < 100000; i++) {
      walker.next(rng);
      if (walker.page !== prev + 1) runs++;
      prev = walker.page;
      steps++;
    }
    // Geometric with mean runPages; a new run that happens to start right after the last one merges.
    expect(steps / runs).toBeGreaterThan(28);
    expect(steps / runs).toBeLessThan(37);
  });
  it('concentrates on a few hot regions, and moves them every phase', () => {
    const hot = (phaseAccesses: number, from: number, n: number) => {
      const l = regionLayout(0, 65536, P);
      const w = new RegionWalker(l, { ...P, phaseAccesses }, 0);
      const rng = new Rng(1, 0);
      const counts = new Map<number, number>();
      for (let i = 0; i < from + n; i++) {
        w.next(rng);
        if (i < from) continue;
        let r = 0;
        while (l.starts[r + 1]! <= w.page) r++;
        counts.set(r, (counts.get(r) ?? 0) + 1);
      }
      return [...counts.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 5)
        .map(([r]) => r);
    };
    const still = hot(0, 0, 50000);
    const shared = (a: number[]) => a.filter((r) => still.includes(r)).length;
    expect(shared(hot(0, 50000, 50000))).toBeGreaterThanOrEqual(4); // no phases: the same hot regions
    expect(shared(hot(50000, 50000, 50000))).toBeLessThanOrEqual(1); // a new phase, a new hot set
  });
});

describe('AccessStream regions', () => {
  const opts = resolveOptions({ memory: '64MiB', vcpus: 2, workload: 'regions' });
  const take = (v: number, n: number, o = opts) => {
    const s = new AccessStream('regions', vcpuRange(o, v), o, v);
    return Array.from({ length: n }, () => {
      s.next();
      return [s.page, s.write, s.gapUs] as const;
    });
  };
  it('replays from the seed; vCPUs draw their own runs over the same layout', () => {
    expect(take(0, 1000)).toEqual(take(0, 1000));
    expect(take(0, 1000)).not.toEqual(take(1, 1000));
  });
  it('stays in each vCPU slice when partitioned, and has no think gaps', () => {
    const o = resolveOptions({ memory: '64MiB', vcpus: 2, workload: 'regions', partition: true });
    for (const [p, , gap] of take(1, 20000, o)) {
      expect(p).toBeGreaterThanOrEqual(8192);
      expect(p).toBeLessThan(16384);
      expect(gap).toBe(0);
    }
  });
  it('resolves its options, with one-line errors naming the field', () => {
    expect(opts).toMatchObject({ regionMinPages: 1, regionTail: 0.7, runPages: 32, phaseAccesses: 1 << 20 });
    expect(resolveOptions({ workload: 'regions', pageSize: '2MiB', memory: '64MiB', regionSize: '64KiB' }).regionMinPages).toBe(1);
    expect(resolveOptions({ workload: 'regions', regionSize: '64KiB' }).regionMinPages).toBe(16);
    expect(() => resolveOptions({ runLength: 0 })).toThrow(/^runLength: must be a positive integer/);
    expect(() => resolveOptions({ regionTail: -1 })).toThrow(/^regionTail: Too small/);
    expect(() => resolveOptions({ regionSize: 'big' })).toThrow(/^regionSize: /);
  });
});
