// Goal: compare reads at a glance: one table with the strategies as columns and only the rows that
// decide, then one line per strategy against the first, hyperfine-style; --full keeps every row;
// dilated runs go side by side at most one per core, in order, and a failure stops the rest.
// Method: real virtual-engine results (fast, deterministic) through formatCompare; the CLI on a
// tiny undilated guest; runSideBySide with counting tasks. Nothing here times anything.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DECIDING_ROWS, formatCompare, ratioLines } from '../src/cli/compare-table.js';
import { compare } from '../src/compare.js';
import { runSideBySide, sleepBound } from '../src/side-by-side.js';
import { resolveOptions } from '../src/options.js';

const CLI = join(import.meta.dirname, '..', 'dist', 'src', 'cli', 'main.js');
const scenario = { engine: 'virtual', vcpus: 2, memory: '8MiB', workload: 'random', writeRatio: 0.8, accesses: 3000, seed: 4 } as const;

describe('the compare table', () => {
  it('has the strategies as columns and the deciding rows, and nothing else', async () => {
    const rs = await compare(scenario, ['linear', 'preempt', 'stride']);
    const out = formatCompare(
      rs,
      rs.map((r) => r.strategy),
    );
    const lines = out.split('\n');
    expect(lines[0]).toMatch(/^\s+linear\s+preempt\s+stride$/);
    const labels = lines.slice(2, 2 + DECIDING_ROWS.length).map((l) => l.replace(/\s{2,}.*$/, ''));
    expect(labels).toEqual([
      'fault latency p50',
      'fault latency p99',
      'blocktime (all vCPUs)',
      'migration time',
      'guest degradation',
      'demand pages',
      'pushed pages',
      'link utilisation',
      'simulator share',
      'verified',
    ]);
    expect(out).toMatch(/^simulator share\s+0% \(virtual\)\s+0% \(virtual\)\s+0% \(virtual\)$/m);
    expect(out).toMatch(/^verified\s+yes\s+yes\s+yes$/m);
    expect(out).not.toMatch(/^guest accesses/m);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(100);
  });
  it('then one line per strategy against the baseline, with the ratio the numbers give', async () => {
    const rs = await compare(scenario, ['linear', 'preempt']);
    const [line] = ratioLines(rs, ['linear', 'preempt']);
    const [lin, pre] = rs;
    const x = lin!.faultLatencyUs.p50 / pre!.faultLatencyUs.p50;
    expect(x).toBeGreaterThan(1.05); // preempt's urgent channel skips the bulk queue
    expect(line).toMatch(new RegExp(`^preempt: ${x.toFixed(1).replace('.', '\\.')}x lower p50 fault latency than linear, `));
    expect(formatCompare(rs, ['linear', 'preempt'])).toContain(`\n\n${line}`);
    // The same run against itself is "about the same"; a single strategy has no ratio lines.
    expect(ratioLines([lin!, lin!], ['a', 'b'])).toEqual(['b: about the same p50 fault latency as a, about the same blocktime as a']);
    expect(ratioLines([lin!], ['a'])).toEqual([]);
  });
  it('--full keeps every row of the summary table', () => {
    const brief = spawnSync(
      process.execPath,
      [CLI, 'compare', '--engine', 'virtual', '--vcpus', '1', '--memory', '4MiB', '--accesses', '500', '--strategies', 'linear,preempt'],
      { encoding: 'utf8' },
    );
    expect(brief.status, brief.stderr).toBe(0);
    expect(brief.stdout).toMatch(/^preempt: .* (than|as) linear$/m);
    expect(brief.stdout).not.toMatch(/^fault latency p99\.9/m);
    const full = spawnSync(
      process.execPath,
      [CLI, 'compare', '--full', '--engine', 'virtual', '--vcpus', '1', '--memory', '4MiB', '--accesses', '500', '--strategies', 'linear,preempt'],
      { encoding: 'utf8' },
    );
    expect(full.status, full.stderr).toBe(0);
    for (const row of ['guest accesses', 'fault latency p99.9', 'time dilation', 'peak RSS', 'verified'])
      expect(full.stdout).toMatch(new RegExp(`^${row.replace('.', '\\.')}\\s`, 'm'));
    expect(full.stdout).toMatch(/^preempt: .* (than|as) linear$/m);
  });
});

describe('runs side by side', () => {
  it('only dilated threaded runs count as sleep-bound', () => {
    expect(sleepBound(resolveOptions({}))).toBe(true);
    expect(sleepBound(resolveOptions({ timeDilation: 1 }))).toBe(false);
    expect(sleepBound(resolveOptions({ engine: 'virtual' }))).toBe(false);
    expect(sleepBound(resolveOptions({ mode: 'none' }))).toBe(false);
  });
  it('keeps the order, never runs more than asked at once, and one at a time when asked', async () => {
    for (const atOnce of [1, 2, 3]) {
      let running = 0;
      let most = 0;
      const out = await runSideBySide(7, atOnce, async (i) => {
        most = Math.max(most, ++running);
        await new Promise((r) => setTimeout(r, (7 - i) % 3));
        running--;
        return i * 10;
      });
      expect(out).toEqual([0, 10, 20, 30, 40, 50, 60]);
      expect(most).toBe(atOnce);
    }
  });
  it('a failure starts no further run, lets the ones going finish, and is thrown', async () => {
    const started: number[] = [];
    const finished: number[] = [];
    await expect(
      runSideBySide(6, 2, async (i) => {
        started.push(i);
        await new Promise((r) => setTimeout(r, i === 0 ? 5 : 1));
        if (i === 1) throw new Error('run 1 failed');
        finished.push(i);
        return i;
      }),
    ).rejects.toThrow('run 1 failed');
    expect(started).toEqual([0, 1]);
    expect(finished).toEqual([0]);
  });
});
