/**
 * `compare`: one workload under several strategies with the same seed, and how much each slows the
 * guest against the same guest with all memory present (the degradation baseline).
 *
 * The baseline must be fair: the guest's access rate with every page present, on the same footing
 * as the run. A dilated run paces its guest to a modelled compute per access (src/threads/pacer.ts),
 * so its all-present rate is known in modelled time, with no second run: vCPUs / (access + think).
 * (A separate mode-none run measured without the service threads on the cores, which made a run
 * with 12 ms of blocktime in 728 ms read as 100% degraded.) An undilated run (D = 1, or the virtual
 * engine, whose cost model prices every access) still measures the baseline by a mode-none run.
 */
import { simulate, type SimulateHooks } from './simulate.js';
import { Errors } from './errors.js';
import { resolveOptions, type OptionsInput } from './options.js';
import type { RunResult } from './model/result.js';
import { STRATEGY_NAMES, type StrategyName } from './model/strategies/index.js';
import { runsAtOnce, runSideBySide, sleepBound } from './side-by-side.js';

/** Accesses per vCPU of the baseline run when the scenario does not fix a count. */
const BASELINE_ACCESSES = 200_000;

export function parseStrategyList(text: string | undefined): StrategyName[] {
  if (text === undefined || text === 'all') return [...STRATEGY_NAMES];
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const n of names) {
    if (!(STRATEGY_NAMES as string[]).includes(n)) throw Errors.badInput('--strategies', `unknown strategy "${n}" (one of ${STRATEGY_NAMES.join(', ')})`);
  }
  if (!names.length) throw Errors.badInput('--strategies', 'name at least one strategy');
  return names as StrategyName[];
}

/** The guest's access rate with every page present: the denominator of degradation. */
export async function baselineRate(input: OptionsInput): Promise<number> {
  const o = resolveOptions({
    ...input,
    mode: 'none',
    strategy: 'linear',
    accesses: input.accesses ?? BASELINE_ACCESSES,
    pageSize: input.pageSize ?? resolveOptions(input).pageSize,
  });
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

/** The all-present access rate of a paced (dilated) run, in modelled accesses per second; null when not paced. */
export function pacedBaselineRate(r: RunResult, thinkUs: number): number | null {
  const stepUs = r.dilation.accessUs + thinkUs;
  return r.dilation.factor > 1 && stepUs > 0 ? (r.vcpus * 1e6) / stepUs : null;
}

/**
 * Every strategy with the same seed. Dilated threaded runs sleep most of their wall time, so one
 * per core runs at once (src/side-by-side.ts; each run's share is measured under the others' load
 * and reported); undilated and virtual runs run one after another.
 */
export async function compare(input: OptionsInput, strategies: StrategyName[], hooks: (name: string) => SimulateHooks = () => ({})): Promise<RunResult[]> {
  const all = strategies.map((s) => resolveOptions({ ...input, strategy: s })); // every combination is valid before anything runs
  let measured: Promise<number> | null = null;
  const measuredBaseline = (): Promise<number> => {
    measured ??= baselineRate(input);
    return measured;
  };
  return runSideBySide(all.length, all.every(sleepBound) ? runsAtOnce() : 1, async (i) => {
    const opts = all[i]!;
    const r = await simulate(opts, hooks(strategies[i]!));
    const base = pacedBaselineRate(r, opts.thinkUs) ?? (await measuredBaseline());
    r.baselineAccessesPerSec = Math.round(base);
    r.degradation = degradation(r, base);
    return r;
  });
}
