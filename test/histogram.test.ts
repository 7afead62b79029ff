// Goal: latency summaries come from real histograms, merge across threads, and QEMU's latency
// distribution buckets by powers of two.
import { createHistogram } from 'node:perf_hooks';
import { expect, it } from 'vitest';
import { latencyDist, mergeHistograms, summarizeNs } from '../src/histogram.js';

it('summarises, merges and buckets', () => {
  const a = createHistogram(),
    b = createHistogram();
  for (let i = 1; i <= 1000; i++) a.record(i * 1000); // 1..1000 us
  for (let i = 0; i < 1000; i++) b.record(5_000_000); // 5 ms
  const m = mergeHistograms([a, b]);
  const s = summarizeNs(m);
  expect(s.count).toBe(2000);
  expect(s.p50).toBeGreaterThan(990);
  expect(s.p50).toBeLessThan(1010);
  expect(s.max).toBeGreaterThan(4990);
  const dist = latencyDist(a);
  expect(dist.reduce((x, y) => x + y, 0)).toBeGreaterThan(990);
  expect(dist[9]).toBeGreaterThan(400); // [512 us, 1024 us) holds ~489 samples
  expect(summarizeNs(createHistogram()).count).toBe(0);
});
