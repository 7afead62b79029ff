// Goal: a change to the shared model or the virtual engine that was meant to move no decision moves
// none (the guard of the "one model, two drivers" refactor).
// Method: scripts/virtual-guard.mjs re-runs the recorded seed x mode x strategy matrix (38 virtual
// runs, tiny guests) and compares every result field by field with the recorded one, host facts and
// the fields the refactor added excepted. A deliberate change re-records it (`--write`) in its commit.
import { expect, it } from 'vitest';
// @ts-expect-error: a plain ES module script without types
import { comparable, diff, readBaseline, runMatrix } from '../scripts/virtual-guard.mjs';

it('the virtual engine gives the recorded results', async () => {
  const got = (await runMatrix()) as Array<{ key: string; result: unknown }>;
  const want = readBaseline() as Array<{ key: string; result: unknown }>;
  expect(got.map((g) => g.key)).toEqual(want.map((w) => w.key));
  for (let i = 0; i < want.length; i++) expect(diff(comparable(want[i]!.result), comparable(got[i]!.result)), want[i]!.key).toEqual([]);
});
