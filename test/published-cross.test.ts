// Goal: the published bench's cross-check names the measured costs that moved against the shipped
// profile (the explanation of a miss under load), and nothing that did not move.
// Method: costMoves() on two hand-made cost models that differ in known fields.
import { expect, it } from 'vitest';
import { costMoves, MOVED } from '../bench/scenarios/published-cross.js';
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
