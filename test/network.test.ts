// Goal: the link model serialises frames at the bandwidth, adds latency and per-frame overhead, and
// makes a frame wait behind the bytes already queued (the vanilla-postcopy queueing delay); an urgent
// frame (postcopy-preempt) skips the queue but not the frame being serialised, and still takes its
// share of the wire. Method: the pure Link, times computed by hand.
import { expect, it } from 'vitest';
import { Link } from '../src/model/link.js';

it('an idle link delivers after serialisation plus latency', () => {
  const l = new Link({ bandwidthBps: 8e9, latencyUs: 50, overheadBytes: 0 });
  // 4000 bytes at 8 Gbit/s = 4 us on the wire
  expect(l.send(4000, 100)).toBeCloseTo(154);
});

it('frames queue behind each other and the backlog drains at the bandwidth', () => {
  const l = new Link({ bandwidthBps: 8e9, latencyUs: 10, overheadBytes: 96 });
  for (let i = 0; i < 1000; i++) l.send(3904, 0); // 1000 frames of 4000 wire bytes
  expect(l.backlogUs(0)).toBeCloseTo(4000);
  expect(l.backlogBytes(0)).toBeCloseTo(4_000_000);
  expect(l.backlogBytes(2000)).toBeCloseTo(2_000_000);
  // A demand page queued now waits behind all of it.
  expect(l.send(3904, 0)).toBeCloseTo(4000 + 4 + 10);
  expect(l.bytes).toBe(1001 * 4000);
  expect(l.timeBacklogFallsTo(1_000_000)).toBeCloseTo(4004 - 1000);
});

it('an unlimited link has no serialisation time', () => {
  const l = new Link({ bandwidthBps: Infinity, latencyUs: 0, overheadBytes: 64 });
  expect(l.send(1 << 20, 5)).toBe(5);
  expect(l.backlogBytes(5)).toBe(0);
  expect(l.arrivalIfSent(100, 7)).toBe(7);
});

it('an urgent frame waits for the frame on the wire, not for the queue behind it, and shares the bandwidth', () => {
  const l = new Link({ bandwidthBps: 8e9, latencyUs: 10, overheadBytes: 0 });
  for (let i = 0; i < 100; i++) l.send(4000, 0); // frame i on the wire over [4i, 4i + 4) us
  // At 9 us frame 2 is being serialised (8..12 us): the urgent frame starts when it ends.
  expect(l.urgentArrivalIfSent(4000, 9)).toBeCloseTo(12 + 4 + 10);
  expect(l.sendUrgent(4000, 9)).toBeCloseTo(26);
  expect(l.lastStartUs).toBeCloseTo(12);
  // Its wire time is added to the bulk stream's: the next bulk frame leaves 4 us later than it would.
  expect(l.send(4000, 9)).toBeCloseTo(400 + 4 + 4 + 10);
  // A second urgent frame queued at once waits for the first, not for the bulk frame after it.
  expect(l.sendUrgent(4000, 9)).toBeCloseTo(16 + 4 + 10);
  // On an idle wire an urgent frame leaves at once.
  const idle = new Link({ bandwidthBps: 8e9, latencyUs: 10, overheadBytes: 0 });
  expect(idle.sendUrgent(4000, 5)).toBeCloseTo(5 + 4 + 10);
  expect(idle.lastStartUs).toBe(5);
});
