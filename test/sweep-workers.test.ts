// Goal: a sweep's results do not depend on how many pool workers ran it (issue 21 item 7: the
// throughput bench compares 1 and 2 workers, and its speedup means something only if both do the
// same work): with 1 and with 2 workers, every cell is written once, and the lines are the same
// apart from the wall clock and the host.
// Method: runSweep in this process (as `postcopy-sim sweep` does) on a small virtual-engine sweep
// of 8 seeds, once per worker count, into scratch files; records compared by cell index, with
// their volatile fields removed. Nothing about speed is asserted.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { runSweep } from '../src/sweep/run.js';
import { WHOLE } from '../src/sweep/shard.js';
import { expandSweep } from '../src/sweep/spec.js';
import { readRecords, scratch, stableLines, TINY } from './sweep-helpers.js';

const dir = scratch('sweep-workers');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('writes the same results with 1 and with 2 workers', async () => {
  const sweep = expandSweep({ name: 'workers', base: TINY, seeds: 8 }, { defaultName: 'workers', baseDir: dir });
  const run = async (jobs: number) => {
    const output = join(dir, `w${jobs}.jsonl`);
    const s = await runSweep(sweep, { output, shard: WHOLE, jobs, tty: false, log: () => {} });
    expect(s).toMatchObject({ cells: 8, written: 8, failed: 0, skipped: 0, discarded: 0 });
    return readRecords(output);
  };
  const one = await run(1),
    two = await run(2);
  expect(one.map((r) => r.cell.index).sort((a, b) => a - b)).toEqual([...Array(8).keys()]);
  expect(two.map((r) => r.cell.index).sort((a, b) => a - b)).toEqual([...Array(8).keys()]);
  expect(stableLines(two)).toEqual(stableLines(one));
  // Different seeds make different runs: the comparison above is not of eight copies of one line.
  expect(new Set(stableLines(one)).size).toBe(8);
});
