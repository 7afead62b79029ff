/**
 * QEMU's postcopy blocktime, kept live in shared memory:
 *  - per-vCPU blocktime (postcopy-vcpu-blocktime): total time the vCPU slept on faults; each vCPU
 *    adds its own.
 *  - whole-VM blocktime (postcopy-blocktime): time during which ALL running vCPUs were blocked at
 *    once. Tracked with a count of blocked vCPUs and the moment it reached the count of running
 *    vCPUs; the transitions take a tiny spinlock so the "since" stamp and the count move together.
 */
import {
  CTL_ACTIVE_VCPUS, CTL_BLOCKED_VCPUS, CTL_BLOCK_LOCK, TIME_ALL_BLOCKED_SINCE_US, TIME_ALL_BLOCKED_TOTAL_US,
} from './layout.js';

function lock(ctl: Int32Array): void {
  while (Atomics.compareExchange(ctl, CTL_BLOCK_LOCK, 0, 1) !== 0) { /* held for a few instructions */ }
}
function unlock(ctl: Int32Array): void {
  Atomics.store(ctl, CTL_BLOCK_LOCK, 0);
}

export function blockBegin(ctl: Int32Array, times: Float64Array, nowUs: number): void {
  lock(ctl);
  const blocked = ++ctl[CTL_BLOCKED_VCPUS]!;
  if (blocked === ctl[CTL_ACTIVE_VCPUS]) times[TIME_ALL_BLOCKED_SINCE_US] = nowUs;
  unlock(ctl);
}

export function blockEnd(ctl: Int32Array, times: Float64Array, nowUs: number): void {
  lock(ctl);
  if (ctl[CTL_BLOCKED_VCPUS] === ctl[CTL_ACTIVE_VCPUS]) times[TIME_ALL_BLOCKED_TOTAL_US]! += nowUs - times[TIME_ALL_BLOCKED_SINCE_US]!;
  ctl[CTL_BLOCKED_VCPUS]!--;
  unlock(ctl);
}

/** A vCPU finished its workload: it no longer counts, so the others may now all be blocked. */
export function vcpuRetired(ctl: Int32Array, times: Float64Array, nowUs: number): void {
  lock(ctl);
  const active = --ctl[CTL_ACTIVE_VCPUS]!;
  if (active > 0 && ctl[CTL_BLOCKED_VCPUS] === active) times[TIME_ALL_BLOCKED_SINCE_US] = nowUs;
  unlock(ctl);
}
