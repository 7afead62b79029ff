/**
 * demand: pages move only when a vCPU faults on them; once the guest's workload is done, a final
 * sweep sends the rest in address order (so migration still completes). The baseline every
 * push strategy is measured against.
 */
import { POSTCOPY_TRAITS, Scan, type Strategy, type StrategyEnv, type StrategyTraits } from './strategy.js';

export const demandTraits: StrategyTraits = { ...POSTCOPY_TRAITS, pushWhileGuestRuns: false };

export function demand(env: StrategyEnv): Strategy {
  const scan = new Scan(env.pages);
  return {
    name: 'demand',
    urgentChannel: demandTraits.urgentChannel,
    pushWhileGuestRuns: demandTraits.pushWhileGuestRuns,
    onRequest() {},
    nextPush: (sent) => scan.next(sent),
  };
}
