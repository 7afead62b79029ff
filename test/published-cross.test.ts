// Goal: the published bench's cross-check names the measured costs that moved against the shipped
// profile (the explanation of a miss under load), and nothing that did not move; it prices a wake
// by where the kernel run's wakes landed, and counts what each side of a modelled fault spends on a core.
// Method: costMoves() on two hand-made cost models that differ in known fields; placedCosts() and
// sameCpuShare() on hand-made prices and shares; modelCpuPerFault() on a 1 MiB guest where only a
// few costs are non-zero.
import { expect, it } from 'vitest';
import { costMoves, modelCpuPerFault, MOVED, placedCosts, sameCpuShare } from '../bench/scenarios/published-cross.js';
import { demandPagingOptions } from '../bench/scenarios/demand-paging-options.js';
import { COSTS, ZERO } from './helpers/virtual-costs.js';

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

it("charges each side of a modelled fault the time it holds a core, not a wake-up's wait", () => {
  // One thread and one reader; only the fault (vCPU), the copy (reader) and then a wake cost.
  const o = { ...demandPagingOptions(1, 1, 'uffd', 'missing', 1), handlers: 1 };
  const base = { ...ZERO, faultUs: 2, copyUs: 4 };
  const a = modelCpuPerFault(o, base);
  expect(a.vcpuUs).toBeCloseTo(2, 9);
  // zero pages are filled with ZEROPAGE (free here), the rest copied: at most copyUs a fault
  expect(a.readerUs).toBeGreaterThan(0);
  expect(a.readerUs).toBeLessThanOrEqual(4);
  // a woken thread's wait for its core is nobody's CPU time...
  expect(modelCpuPerFault(o, { ...base, wakeupUs: 8 })).toEqual(a);
  // ...while each side pays try_to_wake_up for the wake it sends (the vCPU wakes the reader, the copy wakes the vCPU)
  const w = modelCpuPerFault(o, { ...base, ttwuUs: 1 });
  expect(w.vcpuUs).toBeCloseTo(a.vcpuUs + 1, 9);
  expect(w.readerUs).toBeCloseTo(a.readerUs + 1, 9);
});
