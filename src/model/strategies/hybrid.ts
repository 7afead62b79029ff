/**
 * hybrid: N rounds of precopy, then postcopy for what is still dirty (QEMU's precopy followed by
 * `migrate-start-postcopy`). Round 1 sends every page while the guest still runs on the source;
 * each later round resends the pages the guest dirtied during the previous one (at --dirty-rate).
 * At the switch the source tells the destination which pages are stale (QEMU's postcopy "discard"
 * of still-dirty pages) and the guest resumes on the destination; those pages then move by demand
 * and by the linear push. The switch's downtime is reported.
 */
import { Linear } from './linear.js';
import { POSTCOPY_TRAITS, type Strategy, type StrategyEnv, type StrategyTraits } from './strategy.js';

export const hybridTraits: StrategyTraits = { ...POSTCOPY_TRAITS, precopy: true };

class Hybrid extends Linear {
  override readonly name = 'hybrid';
  readonly precopyRounds: number;
  constructor(env: StrategyEnv) {
    super(env);
    this.precopyRounds = Math.max(1, env.precopyRounds);
  }
}

export function hybrid(env: StrategyEnv): Strategy {
  return new Hybrid(env);
}
