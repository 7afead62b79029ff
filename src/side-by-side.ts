/**
 * Runs that are compared side by side (start's two fault modes, compare's strategies) at once when
 * they mostly sleep. A dilated threaded run spends most of its wall time asleep: its vCPUs are paced
 * to 1/D of a core and its services wake per frame, so `start` at D ~100 used ~0.4 of a core. Running
 * such runs together divides the wall time without hiding anything: each run's simulator share is
 * measured in that run, under the load of the others, and reported (the summary flags it over 5%).
 * Undilated runs and the virtual engine are CPU-bound: they run one after another.
 *
 * At most one run per core goes at once. Measured on this 2-core machine (shared with other work):
 * `start` alone used 17.2 s of CPU in 44 s of wall (0.39 of a core), but its wake-ups come in
 * bursts; `compare` with all six strategies at once left their measured shares at 24-248% of a
 * fault and the link idle up to 28% of the migration, where one run per core kept them near the
 * share of a run alone.
 */
import { availableParallelism } from 'node:os';
import type { ResolvedOptions } from './options.js';

/** How many sleep-bound runs go at once: one per core. */
export function runsAtOnce(): number {
  return Math.max(1, availableParallelism());
}

/** True when `o` runs dilated on threads (auto or D > 1): it sleeps most of its wall time. */
export function sleepBound(o: Pick<ResolvedOptions, 'engine' | 'timeDilation' | 'mode'>): boolean {
  return o.engine === 'threads' && o.mode !== 'none' && o.timeDilation !== 1;
}

/**
 * `run(i)` for every index, `atOnce` at a time (1: in order); results keep the order of the
 * indices. After a failure no further run starts, the runs going are let finish (none is left
 * running behind the error), and the first failure is thrown.
 */
export async function runSideBySide<T>(count: number, atOnce: number, run: (i: number) => Promise<T>): Promise<T[]> {
  const out = new Array<T>(count);
  let next = 0;
  let failure: { reason: unknown } | null = null;
  const lane = async () => {
    while (failure === null && next < count) {
      const i = next++;
      try {
        out[i] = await run(i);
      } catch (e) {
        failure ??= { reason: e };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(atOnce, count)) }, lane));
  if (failure) throw (failure as { reason: unknown }).reason;
  return out;
}
