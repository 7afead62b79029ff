// Goal: workloads are deterministic per seed and vCPU, stay in their range, and partition memory.
import { describe, expect, it } from 'vitest';
import { WRITE_SLOT_BASE } from '../src/threads/layout.js';
import { resolveOptions } from '../src/options.js';
import { AccessStream, vcpuRange } from '../src/model/workload.js';

const opts = resolveOptions({ memory: '4MiB', vcpus: 4, writeRatio: 0.25 });

function take(kind: 'sequential' | 'random' | 'zipf', vcpu: number, n: number, o = opts) {
  const s = new AccessStream(kind, vcpuRange(o, vcpu), o, vcpu, null, WRITE_SLOT_BASE);
  return Array.from({ length: n }, () => {
    s.next();
    return [s.page, s.word, s.write] as const;
  });
}

describe('AccessStream', () => {
  it('replays exactly from the seed', () => {
    expect(take('zipf', 1, 100)).toEqual(take('zipf', 1, 100));
    expect(take('zipf', 1, 100)).not.toEqual(take('zipf', 2, 100));
  });
  it('sequential scans page by page', () => {
    const o = resolveOptions({ memory: '4MiB', vcpus: 4, partition: true });
    expect(take('sequential', 2, 3, o).map(([p]) => p)).toEqual([512, 513, 514]);
  });
  it('partitioned vCPUs stay in their slice; reads avoid write slots and the last word', () => {
    const o = resolveOptions({ memory: '4MiB', vcpus: 4, partition: true });
    for (const kind of ['sequential', 'random', 'zipf'] as const) {
      for (const [p, w] of take(kind, 3, 2000, o)) {
        expect(p).toBeGreaterThanOrEqual(768);
        expect(p).toBeLessThan(1024);
        expect(w).toBeGreaterThanOrEqual(WRITE_SLOT_BASE + 4);
        expect(w).toBeLessThan(1023);
      }
    }
  });
  it('honours the write ratio', () => {
    const writes = take('random', 0, 20000).filter(([, , w]) => w).length;
    expect(writes / 20000).toBeGreaterThan(0.22);
    expect(writes / 20000).toBeLessThan(0.28);
  });
  it('zipf concentrates on a hot set', () => {
    const counts = new Map<number, number>();
    for (const [p] of take('zipf', 0, 20000)) counts.set(p, (counts.get(p) ?? 0) + 1);
    const top = [...counts.values()]
      .sort((a, b) => b - a)
      .slice(0, 10)
      .reduce((a, b) => a + b, 0);
    expect(top / 20000).toBeGreaterThan(0.2);
  });
});
