// Goal: auto dilation holds a run to its wall budget: the planner takes the D that keeps the
// simulator at 5% of a fault when D x the migration's floor fits the budget, else the largest D
// that fits, and says so (budgetBound); the budget is an option like any other (one line naming
// the field, exit 2); the summary flags a share over 5% with how to get it lower.
// Method: the planner's pure choice (chooseAutoFactor, migrationFloorUs) on made-up probe costs;
// the CLI for the flag; formatSummary on a result whose share is set. Nothing here times anything.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatPlanLine, formatSummary } from '../src/cli/format.js';
import { shareNotes } from '../src/cli/share-note.js';
import { simulate } from '../src/index.js';
import { resolveOptions } from '../src/options.js';
import { AUTO_SHARE, chooseAutoFactor, migrationFloorUs, runFloorUs } from '../src/threads/dilation.js';

const CLI = join(import.meta.dirname, '..', 'dist', 'src', 'cli', 'main.js');
// A 500 us fault cost against a 100 us modelled fault wants D = 100 (500 / (0.05 x 100)).
const probe = { faultWallUs: 500, pageWallUs: 1, modelledFaultUs: 100, pageWireUs: 3.3, vcpus: 4, cores: 2 };

describe('the wall budget as a choice of D', () => {
  it('takes the D that holds the share at 5% when the budget allows it', () => {
    expect(chooseAutoFactor({ ...probe, floorUs: 50_000, wallBudgetUs: 10e6 })).toEqual({ factor: 100, budgetBound: false, needed: 100 });
  });
  it('caps D at budget / floor when 5% would take longer, and says the budget bound it', () => {
    // 50 ms of link time in a 2 s budget: D at most 40.
    expect(chooseAutoFactor({ ...probe, floorUs: 50_000, wallBudgetUs: 2e6 })).toEqual({ factor: 40, budgetBound: true, needed: 100 });
    // A budget smaller than the link's own time still runs, undilated.
    expect(chooseAutoFactor({ ...probe, floorUs: 50_000, wallBudgetUs: 1000 })).toEqual({ factor: 1, budgetBound: true, needed: 100 });
  });
  it('a bigger budget never gives a smaller D', () => {
    let last = 0;
    for (const budget of [1e5, 1e6, 2e6, 5e6, 1e7, 1e8]) {
      const { factor } = chooseAutoFactor({ ...probe, floorUs: 50_000, wallBudgetUs: budget });
      expect(factor).toBeGreaterThanOrEqual(last);
      last = factor;
    }
    expect(last).toBe(100); // and past the need, the share decides
  });
  it('a trace replayed at its recorded timing cannot be shorter than its recorded span', () => {
    const o = resolveOptions({ memory: '64MiB' });
    const spool = { key: '', dir: '', header: {} as never, vcpus: [], recordedUs: 1e6 };
    expect(runFloorUs({ ...o, workload: 'trace', traceTiming: 'recorded', traceTimeScale: 2, traceSpool: spool })).toBe(2e6);
    expect(runFloorUs({ ...o, workload: 'trace', traceTiming: 'asap', traceSpool: spool })).toBe(migrationFloorUs(o));
  });
  it('the floor is the link time of every page, twice for hybrid', () => {
    const linear = migrationFloorUs(resolveOptions({ memory: '64MiB', bandwidth: '10Gbit' }));
    expect(linear).toBeGreaterThan(((64 * 2 ** 20 * 8) / 10e9) * 1e6); // every byte, plus headers
    expect(migrationFloorUs(resolveOptions({ memory: '64MiB', bandwidth: '10Gbit', strategy: 'hybrid' }))).toBeCloseTo(2 * linear, 6);
    expect(migrationFloorUs(resolveOptions({ memory: '64MiB', bandwidth: 'unlimited' }))).toBe(0);
  });
  it('a real auto run reports the budget it was held to and stays within it at start', async () => {
    const r = await simulate({ vcpus: 1, memory: '4MiB', bandwidth: '1Gbit', accesses: 500, wallBudget: '1s', seed: 3 });
    expect(r.verified).toBe(true);
    expect(r.dilation.auto).toBe(true);
    expect(r.dilation.wallBudgetMs).toBe(1000);
    expect(r.dilation.wallEstimateMs!).toBeLessThanOrEqual(1000);
  });
});

describe('--wall-budget as an option', () => {
  it('defaults to 5 s and takes a duration', () => {
    expect(resolveOptions({}).wallBudgetUs).toBe(5e6);
    expect(resolveOptions({ wallBudget: '30s' }).wallBudgetUs).toBe(30e6);
  });
  it('a bad budget is one line naming the field and exit 2', () => {
    for (const bad of ['0', 'soon']) {
      const r = spawnSync(process.execPath, [CLI, 'run', '--wall-budget', bad], { encoding: 'utf8' });
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^postcopy-sim: error: wallBudget: [^\n]+\n$/);
    }
    expect(spawnSync(process.execPath, [CLI, 'help', 'run'], { encoding: 'utf8' }).stdout).toMatch(/^ {2}--wall-budget TIME/m);
  });
});

describe('the share flag', () => {
  const result = async () => simulate({ engine: 'virtual', vcpus: 1, memory: '4MiB', accesses: 500, seed: 3 });
  it('says nothing when the share is within 5%, and the virtual engine counts as 0', async () => {
    const r = await result();
    expect(shareNotes([r], ['exit'])).toEqual([]);
    expect(formatSummary([r])).not.toMatch(/^note:/m);
  });
  it('names the run, the share and the budget that would bring it to 5% when the budget bound D', async () => {
    const r = await result();
    r.engine = 'threads';
    r.dilation = { ...r.dilation, factor: 40, auto: true, share: 0.2, wallBudgetMs: 5000, budgetBound: true, neededFactor: 100 };
    const [note] = shareNotes([r], ['exit']);
    // The budget that lets D reach the 100 the probes asked for; wrapped to the table's 100 columns.
    expect(note).toBe(
      'note: exit: the simulator took 20.0% of a modelled fault (over 5%), so its times hold some of the\n' +
        "      simulator's own cost; lower it with --wall-budget 13s or --engine virtual",
    );
    expect(formatSummary([r])).toContain(note);
    // Not bound by the budget (or D set): a larger D is the way.
    r.dilation = { ...r.dilation, budgetBound: false };
    expect(shareNotes([r], ['exit'])[0]).toMatch(/lower it with --time-dilation 160 or --engine virtual$/);
    for (const line of note!.split('\n')) expect(line.length).toBeLessThanOrEqual(100);
    r.dilation = { ...r.dilation, share: AUTO_SHARE };
    expect(shareNotes([r], ['exit'])).toEqual([]);
  });
  it('several runs over 5% get one note naming each, with the largest budget and the largest D any asks for', async () => {
    const base = await result();
    const run = (share: number, budgetBound: boolean, factor: number) => ({
      ...base,
      engine: 'threads' as const,
      dilation: { ...base.dilation, factor, auto: true, share, wallBudgetMs: 5000, budgetBound, neededFactor: factor * 2 },
    });
    const runs = [run(0.2, true, 40), run(0.01, true, 40), run(0.1, true, 50), run(0.3, false, 10)];
    const notes = shareNotes(runs, ['linear', 'prepaging', 'stride', 'hybrid']);
    expect(notes).toHaveLength(1);
    const text = notes[0]!.replace(/\n {6}/g, ' ');
    // prepaging is within 5%: not named. Budgets 10 s and 10 s (D 40 -> 80, 50 -> 100); hybrid's D 10 x 0.3/0.05.
    expect(text).toBe(
      'note: the simulator took more than 5% of a modelled fault in 3 runs (linear 20.0%, stride 10.0%, hybrid 30.0%), ' +
        "so their times hold some of the simulator's own cost; lower it with --wall-budget 10s, --time-dilation 60 or --engine virtual",
    );
    for (const line of notes[0]!.split('\n')) expect(line.length).toBeLessThanOrEqual(100);
  });
  it('the plan line says when the budget capped D', () => {
    const d = {
      factor: 40,
      auto: true,
      accessUs: 0.3,
      measuredUs: { fault: 500, page: 1, access: 0.3 },
      modelledFaultUs: 100,
      predictedShare: 0.125,
      share: null,
      linkStallShare: null,
      wallEstimateMs: 2000,
      wallBudgetMs: 2000,
      budgetBound: true,
      neededFactor: 100,
    };
    expect(formatPlanLine(d, 'exit')).toBe(
      'exit: time dilation 40x (simulator 12.5% of a 100.0 us fault, measured at start, capped by the 2 s wall budget): at least 2.0 s of wall time',
    );
  });
});
