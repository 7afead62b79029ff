/**
 * The one injected clock. Every thread reads time through a Clock, so the same fetcher, network and
 * strategy code can later run on a virtual clock. Real time is microseconds on a common origin:
 * `performance.now()` has a per-thread origin, so each thread adds its offset to the main thread's
 * origin once; reading it allocates nothing (unlike process.hrtime.bigint()).
 */
import { performance } from 'node:perf_hooks';

export interface Clock { nowUs(): number }

export function realClock(originEpochMs: number): Clock {
  const offsetMs = performance.timeOrigin - originEpochMs;
  return { nowUs: () => (performance.now() + offsetMs) * 1000 };
}
