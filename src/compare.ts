/**
 * `compare`: one workload under several strategies with the same seed, plus a no-migration baseline
 * of the same workload (all memory present) to measure how much each strategy slows the guest.
 */
import { simulate, type SimulateHooks } from './simulate.js';
import { Errors } from './errors.js';
import { resolveOptions, type OptionsInput } from './options.js';
import type { RunResult } from './model/result.js';
import { STRATEGY_NAMES, type StrategyName } from './model/strategies/index.js';

/** Accesses per vCPU of the baseline run when the scenario does not fix a count. */
const BASELINE_ACCESSES = 200_000;

export function parseStrategyList(text: string | undefined): StrategyName[] {
  if (text === undefined || text === 'all') return [...STRATEGY_NAMES];
  const names = text.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) {
    if (!(STRATEGY_NAMES as string[]).includes(n)) throw Errors.badInput('--strategies', `unknown strategy "${n}" (one of ${STRATEGY_NAMES.join(', ')})`);
  }
  if (!names.length) throw Errors.badInput('--strategies', 'name at least one strategy');
  return names as StrategyName[];
}

/** The guest's access rate with every page present: the denominator of degradation. */
export async function baselineRate(input: OptionsInput): Promise<number> {
  const o = resolveOptions({ ...input, mode: 'none', strategy: 'linear', accesses: input.accesses ?? BASELINE_ACCESSES, pageSize: input.pageSize ?? resolveOptions(input).pageSize });
  const r = await simulate(o);
  return r.guestMs > 0 ? r.accesses / (r.guestMs / 1000) : 0;
}

/**
 * Time-weighted degradation of the guest while pages were still arriving: 1 - (accesses per
 * second over the postcopy phase) / (baseline accesses per second). 0: no slowdown; 1: stalled.
 */
export function degradation(r: RunResult, baselineAccessesPerSec: number): number | null {
  if (!(baselineAccessesPerSec > 0) || r.mode === 'none') return null;
  const postcopyMs = r.migrationMs - r.precopyMs - r.downtimeMs; // the guest ran here during this window
  const window = r.timeline.filter((s) => s.tMs <= postcopyMs);
  const last = window.at(-1);
  if (!last || last.tMs <= 0) return null;
  const rate = last.accesses / (last.tMs / 1000);
  return Math.round((1 - rate / baselineAccessesPerSec) * 1000) / 1000;
}

export async function compare(input: OptionsInput, strategies: StrategyName[], hooks: (name: string) => SimulateHooks = () => ({})): Promise<RunResult[]> {
  for (const s of strategies) resolveOptions({ ...input, strategy: s }); // every combination is valid before anything runs
  const base = await baselineRate(input);
  const out: RunResult[] = [];
  for (const strategy of strategies) {
    const r = await simulate({ ...input, strategy }, hooks(strategy));
    r.baselineAccessesPerSec = Math.round(base);
    r.degradation = degradation(r, base);
    out.push(r);
  }
  return out;
}
