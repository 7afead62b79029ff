// Goal: a run forces V8's full collection only when earlier runs left enough memory to matter
//       (src/rss.ts COLLECT_ABOVE_BYTES): a sweep of small virtual cells no longer spends its CPU in
//       two forced collections per cell, and a large guest left behind is still collected.
// Method: watch major GCs with a PerformanceObserver ('gc' entries) around freeLargeEarlierRuns,
//         after noting a small and then a large allocation.
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { expect, test } from 'vitest';
import { COLLECT_ABOVE_BYTES, freeLargeEarlierRuns, noteRunAllocation } from '../src/rss.js';

async function majorGcsDuring(fn: () => void): Promise<number> {
  let majors = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) if ((e.detail as { kind?: number } | undefined)?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) majors++;
  });
  obs.observe({ entryTypes: ['gc'] });
  fn();
  await new Promise((r) => setTimeout(r, 50)); // gc entries are delivered asynchronously
  obs.disconnect();
  return majors;
}

test('small leftovers are not collected by force; a large one is, once', async () => {
  freeLargeEarlierRuns(); // start from a known state (collects whatever earlier tests noted)
  noteRunAllocation(1024 * 1024);
  expect(await majorGcsDuring(freeLargeEarlierRuns)).toBe(0);
  noteRunAllocation(COLLECT_ABOVE_BYTES);
  expect(await majorGcsDuring(freeLargeEarlierRuns)).toBeGreaterThanOrEqual(1);
  // the collection reset the count: the next small run does not collect again
  noteRunAllocation(1024 * 1024);
  expect(await majorGcsDuring(freeLargeEarlierRuns)).toBe(0);
});
