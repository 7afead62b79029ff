/**
 * preempt: QEMU's postcopy-preempt. Same bulk stream as linear, but demanded pages go on a separate
 * urgent channel, so a request never waits behind the bytes already queued on the bulk socket.
 * QEMU measured an average page-request latency of 10.68 ms without and 0.57 ms with it
 * (10 Gbit/s, 4 KiB pages; QEMU postcopy-preempt cover letter).
 */
import { Linear } from './linear.js';
import { POSTCOPY_TRAITS, type Strategy, type StrategyEnv, type StrategyTraits } from './strategy.js';

export const preemptTraits: StrategyTraits = { ...POSTCOPY_TRAITS, urgentChannel: true };

class Preempt extends Linear {
  override readonly name = 'preempt';
  override readonly urgentChannel = preemptTraits.urgentChannel;
}

export function preempt(env: StrategyEnv): Strategy {
  return new Preempt(env);
}
