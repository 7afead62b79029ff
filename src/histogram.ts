/**
 * Latency summaries, a base helper beside units.ts that the model and both engines use. Reported
 * percentiles come from node:perf_hooks histograms (HDR, 3 significant digits, ~20 ns per record,
 * cloneable across threads and mergeable with add()). QEMU's postcopy-latency-dist buckets
 * ([2^N us, 2^(N+1) us)) are derived for reports.
 */
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';

export type { RecordableHistogram };

export interface LatencySummaryUs {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

export function mergeHistograms(hs: RecordableHistogram[]): RecordableHistogram {
  const total = createHistogram();
  for (const h of hs) if (h.count > 0) total.add(h);
  return total;
}

const round = (x: number) => Math.round(x * 100) / 100;

/** Summary in microseconds of a histogram recorded in nanoseconds. */
export function summarizeNs(h: RecordableHistogram): LatencySummaryUs {
  if (h.count === 0) return { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 };
  return {
    count: h.count,
    mean: round(h.mean / 1000),
    p50: round(h.percentile(50) / 1000),
    p90: round(h.percentile(90) / 1000),
    p99: round(h.percentile(99) / 1000),
    p999: round(h.percentile(99.9) / 1000),
    max: round(h.max / 1000),
  };
}

/** Points of the latency CDF (us, fraction), for plots. */
export function cdfPoints(h: RecordableHistogram): Array<[number, number]> {
  if (h.count === 0) return [];
  const out: Array<[number, number]> = [];
  for (const [pct, ns] of h.percentiles) out.push([round(ns / 1000), pct / 100]);
  return out;
}

/** QEMU postcopy-latency-dist: count per bucket N = [2^N us, 2^(N+1) us). */
export function latencyDist(h: RecordableHistogram): number[] {
  const pts = [...h.percentiles].map(([pct, ns]) => [pct / 100, ns / 1000] as const);
  const out: number[] = [];
  let prevFrac = 0;
  for (let n = 0; n < 32; n++) {
    const hi = 2 ** (n + 1);
    let frac = prevFrac;
    for (const [f, us] of pts) if (us < hi) frac = Math.max(frac, f);
    out.push(Math.round((frac - prevFrac) * h.count));
    prevFrac = frac;
    if (frac >= 1) break;
  }
  return out;
}
