// Goal: the link model serialises frames at the bandwidth, adds latency and per-frame overhead, and
// makes a frame wait behind the bytes already queued (the vanilla-postcopy queueing delay).
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
