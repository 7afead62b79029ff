// Goal: whole-VM blocktime counts only the time during which every running vCPU was blocked.
import { expect, it } from 'vitest';
import { blockBegin, blockEnd, vcpuRetired } from '../src/threads/blocktime.js';
import { CTL_ACTIVE_VCPUS, CTL_WORDS, TIME_ALL_BLOCKED_TOTAL_US, TIME_WORDS } from '../src/threads/layout.js';

it('overlapped blocking only', () => {
  const ctl = new Int32Array(CTL_WORDS);
  const times = new Float64Array(TIME_WORDS);
  ctl[CTL_ACTIVE_VCPUS] = 2;
  blockBegin(ctl, times, 0); // vCPU A blocks
  blockBegin(ctl, times, 10); // B blocks: all blocked from 10
  blockEnd(ctl, times, 25); // A resumes: 15 us of overlap
  blockBegin(ctl, times, 30); // all blocked again
  blockEnd(ctl, times, 31);
  blockEnd(ctl, times, 40);
  expect(times[TIME_ALL_BLOCKED_TOTAL_US]).toBe(16);
  // One vCPU blocks, the other finishes its workload: from then on all running vCPUs are blocked.
  blockBegin(ctl, times, 50);
  vcpuRetired(ctl, times, 60);
  blockEnd(ctl, times, 65);
  expect(times[TIME_ALL_BLOCKED_TOTAL_US]).toBe(21);
});
