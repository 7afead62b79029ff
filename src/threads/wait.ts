/** The main thread's waits: it must stay free to serve worker events, so it polls. */
import { performance } from 'node:perf_hooks';
import { SimError } from '../errors.js';

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}

/** Polls `cond` every few ms; fails the run with WORKER_DIED naming `what` after `timeoutMs`. */
export async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > timeoutMs) throw new SimError('WORKER_DIED', what);
    await sleep(2);
  }
}
