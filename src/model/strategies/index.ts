/**
 * The strategy registry: name -> factory. A new strategy is one file and one line here.
 */
import { demand } from './demand.js';
import { hugepage } from './hugepage.js';
import { hybrid } from './hybrid.js';
import { linear } from './linear.js';
import { preempt } from './preempt.js';
import { prepaging } from './prepaging.js';
import type { Strategy, StrategyEnv } from './strategy.js';
import { stride } from './stride.js';

export const STRATEGIES = {
  demand, linear, prepaging, stride, preempt, hybrid, hugepage,
} satisfies Record<string, (env: StrategyEnv) => Strategy>;

export type StrategyName = keyof typeof STRATEGIES;
export const STRATEGY_NAMES = Object.keys(STRATEGIES) as StrategyName[];

export function createStrategy(name: StrategyName, env: StrategyEnv): Strategy {
  return STRATEGIES[name](env);
}

export type { Strategy, StrategyEnv } from './strategy.js';
