/**
 * demand: pages move only when a vCPU faults on them; once the guest's workload is done, a final
 * sweep sends the rest in address order (so migration still completes). The baseline every
 * push strategy is measured against.
 */
import { Scan, type Strategy, type StrategyEnv } from './strategy.js';

export function demand(env: StrategyEnv): Strategy {
  const scan = new Scan(env.pages);
  return {
    name: 'demand', urgentChannel: false, pushWhileGuestRuns: false,
    onRequest() {},
    nextPush: (sent) => scan.next(sent),
  };
}
