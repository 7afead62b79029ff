/**
 * prepaging: active pushing with adaptive pre-paging (Hines & Gopalan, VEE 2009). The push
 * "bubbles" outward from the most recent fault, alternating forward and backward (p+1, p-1, p+2,
 * p-2, ...), and re-centres on each new fault, betting on spatial locality around where the guest
 * is working now. When the bubble has covered memory it falls back to an address-order scan.
 */
import { POSTCOPY_TRAITS, Scan, type Strategy, type StrategyEnv } from './strategy.js';

export const prepagingTraits = POSTCOPY_TRAITS;

export function prepaging(env: StrategyEnv): Strategy {
  const scan = new Scan(env.pages);
  let pivot = -1;
  let distance = 0; // next offset from the pivot
  let forward = true; // which side of the pivot comes next
  return {
    name: 'prepaging',
    urgentChannel: prepagingTraits.urgentChannel,
    pushWhileGuestRuns: prepagingTraits.pushWhileGuestRuns,
    onRequest(page) {
      pivot = page;
      distance = 1;
      forward = true;
    },
    nextPush(sent) {
      // Bubble: at most 2 * pages candidates around the pivot before giving up on it.
      while (pivot >= 0 && distance < env.pages) {
        const p = forward ? pivot + distance : pivot - distance;
        if (!forward) distance++;
        forward = !forward;
        if (p >= 0 && p < env.pages && !sent[p]) return p;
        if (pivot + distance >= env.pages && pivot - distance < 0) pivot = -1; // both sides exhausted
      }
      pivot = -1;
      return scan.next(sent);
    },
  };
}
