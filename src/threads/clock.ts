/**
 * The one injected clock. Every thread reads time through a Clock, so the same fetcher, network and
 * strategy code runs on modelled time. Modelled time is wall time divided by the run's dilation D
 * (docs/dilation.md): every modelled duration lasts D times longer on the wall, so the
 * simulator's own cost shrinks D-fold in every time it reports. Microseconds on a common origin:
 * `performance.now()` has a per-thread origin, so each thread adds its offset to the main thread's
 * origin once; reading it allocates nothing (unlike process.hrtime.bigint()).
 */
import { performance } from 'node:perf_hooks';

export interface Clock {
  /** Modelled microseconds since the run's origin. */
  nowUs(): number;
  /** Wall microseconds (any origin): for spins and waits, which are the simulator's, not the model's. */
  wallUs(): number;
  /** D: one modelled microsecond lasts D wall microseconds. */
  readonly dilation: number;
}

/**
 * Wall microseconds until modelled time `dueUs` (Infinity: nothing due), at most `capUs`: a modelled
 * gap lasts D times longer on the wall. What every wait for a modelled instant sleeps.
 */
export function wallUsUntil(clock: Clock, dueUs: number, capUs: number): number {
  return dueUs === Infinity ? capUs : Math.min(capUs, Math.max(0, dueUs - clock.nowUs()) * clock.dilation);
}

export function realClock(originEpochMs: number, dilation = 1): Clock {
  if (!(dilation >= 1)) throw new Error(`assertion failed: dilation ${dilation} must be >= 1`);
  const offsetMs = performance.timeOrigin - originEpochMs;
  const usPerMs = 1000 / dilation;
  return { nowUs: () => (performance.now() + offsetMs) * usPerMs, wallUs: () => performance.now() * 1000, dilation };
}
