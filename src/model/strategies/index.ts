/**
 * The strategy registry: name -> factory and traits. A new strategy is one file and a line in each map.
 */
import { demand, demandTraits } from './demand.js';
import { hugepage, hugepageTraits } from './hugepage.js';
import { hybrid, hybridTraits } from './hybrid.js';
import { linear, linearTraits } from './linear.js';
import { preempt, preemptTraits } from './preempt.js';
import { prepaging, prepagingTraits } from './prepaging.js';
import type { Strategy, StrategyEnv, StrategyTraits } from './strategy.js';
import { stride, strideTraits } from './stride.js';

export const STRATEGIES = {
  demand,
  linear,
  prepaging,
  stride,
  preempt,
  hybrid,
  hugepage,
} satisfies Record<string, (env: StrategyEnv) => Strategy>;

export type StrategyName = keyof typeof STRATEGIES;
export const STRATEGY_NAMES = Object.keys(STRATEGIES) as StrategyName[];

/** Each strategy's traits, beside its factory (one line each, as the factories). */
export const STRATEGY_TRAITS: Record<StrategyName, StrategyTraits> = {
  demand: demandTraits,
  linear: linearTraits,
  prepaging: prepagingTraits,
  stride: strideTraits,
  preempt: preemptTraits,
  hybrid: hybridTraits,
  hugepage: hugepageTraits,
};

export function createStrategy(name: StrategyName, env: StrategyEnv): Strategy {
  return STRATEGIES[name](env);
}

/** What strategy `name` is (its precopy, page size, channels, push), without creating it. */
export function strategyTraits(name: StrategyName): StrategyTraits {
  return STRATEGY_TRAITS[name];
}

/** The traits of a strategy named by a string not validated yet (a result file, a form), or null if there is none by that name. */
export function traitsOfName(name: string): StrategyTraits | null {
  return Object.hasOwn(STRATEGY_TRAITS, name) ? STRATEGY_TRAITS[name as StrategyName] : null;
}

export type { Strategy, StrategyEnv, StrategyTraits } from './strategy.js';
