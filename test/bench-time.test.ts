// Goal: the bench's own wall time comes from its results, never typed: the "Bench time" section
// lists each scenario's recorded durationMs and their sum, says when the rows come from different
// runs, and the quick-bench target (issue 21 item 4) is judged only on a complete quick run, or on
// the record such a run leaves beside a default run's results (quick-time.json).
// Method: hand-made result envelopes (no scenario runs); the section's rows and the target's
// status are read back. No real time is measured or asserted.
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { quickTimeOf, renderBenchTime, writeQuickTime } from '../bench/bench-time.js';
import { loadResults } from '../bench/report.js';
import { quickBenchTarget } from '../bench/targets.js';
import { SCENARIOS } from '../bench/common.js';
import type { Results } from '../bench/results.js';

const machine = {
  cpuModel: 'x',
  cores: 2,
  logicalCpus: 2,
  totalMemoryBytes: 1,
  node: 'v20',
  platform: 'linux',
  kernel: 'k',
  arch: 'x64',
  commit: 'abc1234',
  dirty: false,
};

function run(ms: Record<string, number>, quick: boolean, date = '2026-12-07T10:00:00.000Z'): Results {
  const out: Record<string, unknown> = {};
  for (const [scenario, durationMs] of Object.entries(ms))
    out[scenario] = { scenario, date, seed: 1, quick, full: false, machine, durationMs, notes: [], body: {} };
  return out as Results;
}

const every = (ms: number) => Object.fromEntries(SCENARIOS.map((s) => [s, ms]));

describe('bench time', () => {
  it('lists every scenario present with its recorded time and the sum', () => {
    const md = renderBenchTime(run({ floors: 1500, kernel: 62_000 }, false));
    expect(md).toContain('| floors | 1.5 s | 1.5 |');
    expect(md).toContain('| kernel | 1 min 2 s | 62.0 |');
    expect(md).toMatch(/\| \*\*all\*\* \| \*\*1 min 4 s\*\* \| 63\.5 \| one run \|/);
    expect(md).toMatch(/No result here for: paging-rate, pipeline/);
  });

  it('says when the rows come from different runs', () => {
    const mixed = { ...run({ floors: 1000 }, false), ...run({ kernel: 2000 }, false, '2026-11-01T10:00:00.000Z') };
    expect(renderBenchTime(mixed)).toMatch(/the sum over 2 runs/);
  });

  it('judges the quick target only on a complete quick run', () => {
    expect(quickBenchTarget(run(every(9000), true)).status).toBe('met'); // 12 x 9 s = 108 s
    expect(quickBenchTarget(run(every(11_000), true)).status).toBe('not met'); // 132 s
    expect(quickBenchTarget(run(every(1000), false)).status).toBe('not measured'); // a default run
    const partial = run({ floors: 1000 }, true);
    expect(quickBenchTarget(partial)).toMatchObject({ status: 'not measured' });
    expect(quickBenchTarget(partial).measured).toMatch(/1 of 12 scenarios/);
    expect(quickBenchTarget({}).status).toBe('not measured');
  });

  it("keeps a complete quick run's times as a record the default results are judged by", () => {
    expect(quickTimeOf(run(every(1000), false))).toBeNull(); // not quick
    expect(quickTimeOf(run({ floors: 1000 }, true))).toBeNull(); // not every scenario
    const record = quickTimeOf(run(every(9000), true))!;
    expect(record.rows).toHaveLength(SCENARIOS.length);
    const dir = mkdtempSync(join(tmpdir(), 'quick-time-'));
    try {
      const file = writeQuickTime(dir, record);
      expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(record);
      // beside a default run: the target is judged from the record and says which run it was
      const beside = { ...run(every(1000), false), 'quick-time': loadResults(dir)['quick-time'] };
      expect(quickBenchTarget(beside)).toMatchObject({ status: 'met' });
      expect(quickBenchTarget(beside).measured).toMatch(/the quick run of 2026-12-07 10:00 UTC, commit abc1234/);
      const slow = { ...run(every(1000), false), 'quick-time': quickTimeOf(run(every(11_000), true))! };
      expect(quickBenchTarget(slow).status).toBe('not met');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
