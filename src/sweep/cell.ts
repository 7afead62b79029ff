/**
 * One cell's run, the same in a pool worker (virtual engine) and on the main thread (threaded
 * engine). An operating failure of the run (SimError: a page never arrived, a thread died) is the
 * cell's result and is written like any other; only a stop by the caller is not a result.
 */
import { SimError } from '../errors.js';
import { simulate } from '../simulate.js';
import type { OptionsInput } from '../options.js';
import type { CanonicalOptions } from './canonical.js';
import type { CellOutcome } from './output.js';

export interface CellTask {
  options: CanonicalOptions;
}

/** Thrown (not returned) when the caller stopped the cell: nothing is written for it. */
export class CellAborted extends Error {}

export async function runCell(task: CellTask, signal?: AbortSignal): Promise<CellOutcome> {
  const startedAt = new Date().toISOString();
  const t0 = performance.now();
  const wallMs = () => Math.round((performance.now() - t0) * 100) / 100;
  try {
    const result = await simulate(task.options as OptionsInput, signal ? { signal } : {});
    const resultJson = JSON.stringify(result);
    return { status: 'ok', resultJson, verified: result.verified, error: null, startedAt, wallMs: wallMs() };
  } catch (e) {
    if (signal?.aborted) throw new CellAborted('stopped');
    const code = e instanceof SimError ? e.code : 'INTERNAL';
    const message = e instanceof Error ? e.message : String(e);
    return { status: 'error', resultJson: null, verified: false, error: { code, message }, startedAt, wallMs: wallMs() };
  }
}
