// Goal: the bench runner says how far it is and how long the rest should take: piped, one line per
// finished scenario with its time, the elapsed time and an ETA; the ETA comes from the previous run's
// measured scenario times, scaled by this run's pace, and says "unknown" when there is nothing to go
// on rather than inventing a number.
// Method: the progress object on a fake clock with a collecting writer; the ETA arithmetic on small
// hand-made inputs; previousDurations on a temporary directory of result envelopes. No timing of
// anything real is asserted.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { previousDurations } from '../bench/index.js';
import { benchProgress, formatDuration, remainingMs, scenarioLine } from '../bench/progress.js';

const LINE = /^\[bench\] (\d+)\/(\d+) (\S+) (done in|FAILED after) (.+) \| elapsed (.+) \| ETA (.+)$/;

describe('bench progress', () => {
  it('prints one line per finished scenario with elapsed and ETA when piped', () => {
    let t = 0;
    const lines: string[] = [];
    const p = benchProgress({ names: ['a', 'b', 'c'], expectedMs: [10_000, 20_000, 30_000], tty: false, write: (l) => lines.push(l), now: () => t });
    p.scenarioStart('a');
    t += 20_000;
    p.scenarioDone('a', false); // twice as slow as last time
    p.scenarioStart('b');
    t += 40_000;
    p.scenarioDone('b', true);
    p.scenarioStart('c');
    t += 60_000;
    p.scenarioDone('c', false);
    p.stop();
    expect(lines).toHaveLength(3);
    const parsed = lines.map((l) => LINE.exec(l));
    expect(parsed.every(Boolean)).toBe(true);
    expect(lines[0]).toBe('[bench] 1/3 a done in 20.0 s | elapsed 20.0 s | ETA 1 min 40 s');
    expect(lines[1]).toBe('[bench] 2/3 b FAILED after 40.0 s | elapsed 1 min 0 s | ETA 1 min 0 s');
    expect(lines[2]).toBe('[bench] 3/3 c done in 1 min 0 s | elapsed 2 min 0 s | ETA 0.0 s');
  });

  it('passes log lines through unchanged when piped', () => {
    const lines: string[] = [];
    const p = benchProgress({ names: ['a'], expectedMs: [null], tty: false, write: (l) => lines.push(l), now: () => 0 });
    p.log('[bench] a: start');
    expect(lines).toEqual(['[bench] a: start']);
  });

  it("scales the previous times by this run's pace and falls back to the mean of finished scenarios", () => {
    expect(remainingMs([1000, 2000, 3000], [])).toBe(6000);
    expect(remainingMs([1000, 2000, 3000], [500])).toBe(2500); // this run is twice as fast
    expect(remainingMs([1000, null, 3000], [2000])).toBe(2000 + 6000); // mean of finished for the unknown one
    expect(remainingMs([1000, 2000], [1000], 1500)).toBe(500); // the running scenario used part of its share
    expect(remainingMs([1000, 2000], [1000], 5000)).toBe(0); // overrun: never negative
    expect(remainingMs([1000], [1000])).toBe(0);
  });

  it('says unknown when there is nothing to go on', () => {
    expect(remainingMs([null, null], [])).toBeNull();
    expect(formatDuration(null)).toBe('unknown');
    expect(scenarioLine(0, 2, 'x', 0, 0, null)).toMatch(/ETA unknown$/);
  });

  it('formats durations in seconds, minutes and hours', () => {
    expect(formatDuration(4200)).toBe('4.2 s');
    expect(formatDuration(80_000)).toBe('1 min 20 s');
    expect(formatDuration(3_720_000)).toBe('1 h 2 min');
  });

  it('takes the expected times from previous results of the same kind only', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-progress-'));
    try {
      const env = (scenario: string, quick: boolean, durationMs: number) =>
        writeFileSync(join(dir, `${scenario}.json`), JSON.stringify({ scenario, quick, full: false, durationMs }));
      env('floors', true, 1234);
      env('kernel', false, 999); // a default run's time says nothing about a quick one
      expect(previousDurations(['floors', 'kernel', 'pipeline'], dir, { quick: true, full: false })).toEqual([1234, null, null]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
