// Goal: whole-VM blocktime counts only the time during which every running vCPU was blocked, and the
// threaded engine's shared-memory ledger follows the model's transitions exactly.
// Method: one scripted sequence of block/resume/retire, applied to the model's plain ledger and to
// the threaded Blocktime over a control block; both must reach the totals worked out by hand.
import { expect, it } from 'vitest';
import { blockBegin, blockEnd, blocktimeUs, newBlockLedger, vcpuRetired } from '../src/model/blocktime.js';
import { Blocktime } from '../src/threads/blocktime.js';
import { CTL_ACTIVE_VCPUS, CTL_WORDS, TIME_ALL_BLOCKED_TOTAL_US, TIME_WORDS } from '../src/threads/layout.js';

type Step = ['begin' | 'end' | 'retire', number];
const SCRIPT: Step[] = [
  ['begin', 0], // vCPU A blocks
  ['begin', 10], // B blocks: all blocked from 10
  ['end', 25], // A resumes: 15 us of overlap
  ['begin', 30], // all blocked again
  ['end', 31],
  ['end', 40], // 16 us so far
  ['begin', 50], // one vCPU blocks, the other finishes its workload: from then on all running are blocked
  ['retire', 60],
  ['end', 65], // + 5 us
];

it('the model: overlapped blocking only', () => {
  const b = newBlockLedger(2);
  for (const [op, t] of SCRIPT.slice(0, 6)) (op === 'begin' ? blockBegin : op === 'end' ? blockEnd : vcpuRetired)(b, t);
  expect(b.totalUs).toBe(16);
  for (const [op, t] of SCRIPT.slice(6)) (op === 'begin' ? blockBegin : op === 'end' ? blockEnd : vcpuRetired)(b, t);
  expect(b.totalUs).toBe(21);
  blockBegin(b, 70); // the last vCPU blocks: a stretch in progress counts up to now
  expect(blocktimeUs(b, 74)).toBe(25);
});

it('the threaded ledger in shared memory gives the same totals', () => {
  const ctl = new Int32Array(new SharedArrayBuffer(CTL_WORDS * 4));
  const times = new Float64Array(new SharedArrayBuffer(TIME_WORDS * 8));
  ctl[CTL_ACTIVE_VCPUS] = 2;
  const bt = new Blocktime(ctl, times);
  for (const [op, t] of SCRIPT) (op === 'begin' ? bt.begin : op === 'end' ? bt.end : bt.retire).call(bt, t);
  expect(times[TIME_ALL_BLOCKED_TOTAL_US]).toBe(21);
});
