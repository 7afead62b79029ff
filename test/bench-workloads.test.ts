// Goal: the workloads bench (prepaging against linear on regions and the recorded traces) keeps
// working: it measures each guest's locality, runs both strategies, judges the target from the
// numbers with a reason, writes its JSON and renders its section. It never asserts the target.
// Method: the scenario on quick sizes, the virtual engine only, two workloads, into a temporary dir.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { failures, renderSummary } from '../bench/report.js';
import { renderWorkloads, runWorkloads, workloadCases } from '../bench/scenarios/workloads.js';

const outDir = mkdtempSync(join(tmpdir(), 'postcopy-bench-workloads-'));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

it('lists regions and every shipped trace (zipf only for the docs table)', () => {
  const names = workloadCases(true).map((c) => c.name);
  expect(names[0]).toBe('regions');
  expect(names.length).toBeGreaterThanOrEqual(4);
  expect(workloadCases(true, true)[0]!.name).toBe('zipf');
});

it('runs linear and prepaging, measures locality, and says why for every verdict', async () => {
  const r = await runWorkloads({ quick: true, seed: 3, outDir, log: () => {}, engines: ['virtual'], only: ['regions', 'sqlite'] });
  expect(r.body.cells.map((c) => `${c.workload} ${c.strategy}`)).toEqual(['regions linear', 'regions prepaging', 'sqlite linear', 'sqlite prepaging']);
  for (const c of r.body.cells) {
    expect(c.error).toBeUndefined();
    expect(c.verified).toBe(true);
    expect(c.faults).toBeGreaterThanOrEqual(c.demandFetches);
  }
  expect(r.body.locality.regions!.forwardNear).toBeGreaterThan(0.5); // runs go forward
  expect(r.body.locality.sqlite!.firstTouches).toBeGreaterThan(1000);
  for (const v of r.body.verdicts) {
    expect(typeof v.met).toBe('boolean');
    expect(v.why).toMatch(/^next first touch: ahead within 16 pages \d+%, behind \d+%, further \d+%/);
  }
  expect(existsSync(join(outDir, 'workloads.json'))).toBe(true);
  expect(JSON.parse(readFileSync(join(outDir, 'workloads.json'), 'utf8')).scenario).toBe('workloads');
  const md = renderWorkloads(r.body);
  expect(md).toContain('### Workloads: prepaging against linear (1Gbit, 50us)');
  expect(renderSummary({ workloads: r })).toContain('Workloads: prepaging against linear');
  expect(failures({ workloads: r })).toEqual([]);
});

it('runs the threaded engine only on the cases named for it, and says which it left out', async () => {
  const r = await runWorkloads({ quick: true, seed: 3, outDir, log: () => {}, engines: ['virtual', 'threads'], only: ['sqlite'], threadsOnly: [] });
  expect(r.body.cells.map((c) => `${c.engine} ${c.strategy}`)).toEqual(['virtual linear', 'virtual prepaging']);
  expect(r.body.cells.every((c) => c.dilation === undefined)).toBe(true); // the virtual engine has no simulator share
  expect(r.notes.join('\n')).toMatch(/the threaded engine ran none of the guests \(quick\); not sqlite, which the virtual engine ran/);
  expect(renderWorkloads(r.body)).toContain('| sqlite | virtual | linear |');
  expect(renderWorkloads(r.body)).toContain('| n/a |');
});
