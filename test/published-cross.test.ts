// Goal: the published bench's cross-check names the measured costs that moved against the shipped
// profile (the explanation of a miss under load), and nothing that did not move; it prices a wake
// by where the kernel run's wakes landed.
// Method: costMoves() on two hand-made cost models that differ in known fields; placedCosts() and
// sameCpuShare() on hand-made prices and shares.
import { expect, it } from 'vitest';
import { costMoves, MOVED, placedCosts, sameCpuShare } from '../bench/scenarios/published-cross.js';
import { COSTS } from './helpers/virtual-costs.js';

it('lists the costs that moved by MOVED or more, largest change first, never the core count', () => {
  const now = { ...COSTS, cores: 64, wakeupUs: COSTS.wakeupUs * 3, copyUs: COSTS.copyUs * 0.5, faultUs: COSTS.faultUs * (1 + MOVED / 2) };
  const moved = costMoves(now, COSTS);
  expect(moved.map((m) => m.cost)).toEqual(['wakeupUs', 'copyUs']);
  expect(moved[0]).toMatchObject({ shipped: COSTS.wakeupUs, now: COSTS.wakeupUs * 3 });
  expect(moved[0]!.change).toBeCloseTo(2, 6);
  expect(moved[1]!.change).toBeCloseTo(-0.5, 6);
  expect(costMoves(COSTS, COSTS)).toEqual([]);
});

it('prices each wake where it landed: share 0 is the cross-CPU price, 1 the one-CPU price, between them the mean', () => {
  const other = { ...COSTS, ttwuUs: 6, wakeupUs: 14 };
  const same = { ...COSTS, ttwuUs: 0.5, wakeupUs: 1.5 };
  expect(placedCosts(other, same, 0)).toEqual(other);
  expect(placedCosts(other, same, 1)).toMatchObject({ ttwuUs: 0.5, wakeupUs: 1.5 });
  const half = placedCosts(other, same, 0.25);
  expect(half.ttwuUs).toBeCloseTo(0.25 * 0.5 + 0.75 * 6, 9);
  expect(half.wakeupUs).toBeCloseTo(0.25 * 1.5 + 0.75 * 14, 9);
  // only the wake's two sides move
  expect({ ...half, ttwuUs: 0, wakeupUs: 0 }).toEqual({ ...other, ttwuUs: 0, wakeupUs: 0 });
  expect(placedCosts(other, same, 1.5)).toEqual(placedCosts(other, same, 1));
  expect(sameCpuShare({ readerOnFaulterCpu: 1, vcpuOnReaderCpu: 0.5 })).toBe(0.75);
});
