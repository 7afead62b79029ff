/**
 * How long the bench itself takes: each scenario's wall time as its result recorded it
 * (`durationMs` of the envelope), their sum, and which run each came from, so the docs can say what
 * `npm run bench` costs from the results file rather than from a typed number. targets.ts judges
 * issue 21 item 4 (`npm run bench -- --quick` within two minutes) from the same envelopes.
 *
 * A quick run's results stay out of the committed ones (bench/results/quick/ is git-ignored), so a
 * quick run of every scenario also writes its times alone to bench/results/quick-time.json: the
 * committed record the docs judge item 4 from.
 */
import { fmtNum, mdTable, SCENARIOS, writeResultFile, type ResultEnvelope, type ScenarioName } from './common.js';
import { formatDuration } from './progress.js';
import type { QuickTime, Results } from './results.js';

/** The quick bench's wall-time target (issue 21 item 4), seconds. */
export const QUICK_TARGET_S = 120;

export function envelopes(results: Results): Array<ResultEnvelope<ScenarioName, unknown>> {
  // Only whole envelopes (a caller may hold a scenario's body alone): they carry the time and the run.
  return SCENARIOS.map((n) => results[n] as ResultEnvelope<ScenarioName, unknown> | undefined).filter(
    (r): r is ResultEnvelope<ScenarioName, unknown> => r !== undefined && Number.isFinite(r.durationMs) && r.machine !== undefined,
  );
}

/** The name of that record's file in a results directory (`<name>.json`). */
export const QUICK_TIME = 'quick-time';

/** The record of a quick run that ran every scenario, or null (not quick, or scenarios missing). */
export function quickTimeOf(results: Results): QuickTime | null {
  const all = envelopes(results);
  if (all.length !== SCENARIOS.length || !all.every((r) => r.quick)) return null;
  const last = all.reduce((a, r) => (r.date > a.date ? r : a));
  return { date: last.date, machine: last.machine, seed: last.seed, rows: all.map((r) => ({ scenario: r.scenario, durationMs: r.durationMs })) };
}

const kind = (r: { quick: boolean; full: boolean }) => (r.full ? 'full' : r.quick ? 'quick' : 'default');

/** The section: one row per scenario present, then the sum. */
export function renderBenchTime(results: Results, h = '###'): string {
  const all = envelopes(results);
  if (all.length === 0) return '';
  const runs = new Set(all.map((r) => `${r.machine.commit} ${r.date.slice(0, 10)} ${kind(r)}`));
  const total = all.reduce((a, r) => a + r.durationMs, 0);
  const rows = all.map((r) => [
    r.scenario,
    formatDuration(r.durationMs),
    fmtNum(r.durationMs / 1000, 1),
    `${r.date.slice(0, 16).replace('T', ' ')} UTC, commit ${r.machine.commit ?? 'unknown'}, ${kind(r)}`,
  ]);
  rows.push(['**all**', `**${formatDuration(total)}**`, fmtNum(total / 1000, 1), runs.size === 1 ? 'one run' : `the sum over ${runs.size} runs`]);
  const missing = SCENARIOS.filter((n) => !all.some((r) => r.scenario === n));
  return [
    `${h} Bench time`,
    'Wall time of each scenario as its result recorded it (`durationMs`), on the machine named above; the build before the run and the ' +
      `runner's start-up are not in it.${missing.length ? ` No result here for: ${missing.join(', ')}.` : ''}`,
    mdTable(['scenario', 'wall', 'seconds', 'from the run of'], rows),
  ].join('\n\n');
}

/** Writes `t` as `<dir>/quick-time.json`. */
export function writeQuickTime(dir: string, t: QuickTime): string {
  return writeResultFile(dir, QUICK_TIME, t);
}
