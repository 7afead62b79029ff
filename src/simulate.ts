/**
 * simulate(): one migration, in the engine the options name. Both engines run the same model
 * (src/model/); the threaded one on real threads and shared memory (src/threads/), the virtual one
 * as discrete events on a virtual clock (src/virtual/). Everything the CLI does goes through here.
 */
import type { SimulateHooks } from './hooks.js';
import type { RunResult } from './model/result.js';
import { resolveOptions, type OptionsInput, type ResolvedOptions } from './options.js';
import { freeLargeEarlierRuns } from './rss.js';

export type { Progress, SimulateHooks } from './hooks.js';

export async function simulate(input: OptionsInput | ResolvedOptions = {}, hooks: SimulateHooks = {}): Promise<RunResult> {
  const opts = 'pageShift' in input ? (input as ResolvedOptions) : resolveOptions(input as OptionsInput);
  // Each run starts from the memory the runs before it freed (when they left enough to matter:
  // src/rss.ts), and reports its own peak RSS. The threaded engine collects again before it allocates.
  freeLargeEarlierRuns();
  if (opts.engine === 'virtual') {
    const { simulateVirtual } = await import('./virtual/engine.js');
    return simulateVirtual(opts, hooks);
  }
  const { runThreads } = await import('./threads/engine.js');
  return runThreads(opts, hooks);
}
