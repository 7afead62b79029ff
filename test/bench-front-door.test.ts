// Goal: the front-door benchmark times whole commands as processes, keeps every run's wall time with
// median and spread, says whether each run verified and what simulator share it reported, judges a
// target met or not from the median, counts a failed command as a failure, and renders a table the
// README generator takes. Method: tiny virtual-engine commands in place of the real list (the real
// ones take minutes); results written to a temporary directory. No assertion on how long anything took.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { failures, renderSummary } from '../bench/report.js';
import { FRONT_DOOR_COMMANDS, renderFrontDoor, runFrontDoor } from '../bench/scenarios/front-door.js';
import { computeTargets } from '../bench/targets.js';

const outDir = mkdtempSync(join(tmpdir(), 'postcopy-front-door-'));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));
const tiny = ['run', '--engine', 'virtual', '--vcpus', '1', '--memory', '4MiB', '--accesses', '200'];

describe('front-door', () => {
  it('the real list is the four commands of issue 21, with their targets', () => {
    expect(FRONT_DOOR_COMMANDS.map((c) => [c.id, c.targetS])).toEqual([
      ['start', 15],
      ['compare', 20],
      ['trace-compare', 30],
      ['virtual-256', null],
    ]);
    expect(FRONT_DOOR_COMMANDS.find((c) => c.id === 'virtual-256')!.args).toEqual(expect.arrayContaining(['--vcpus', '256', '--engine', 'virtual']));
  });
  it('times each command as a process, several runs, and judges the median against the target', async () => {
    const r = await runFrontDoor({
      outDir,
      seed: 3,
      log: () => {},
      runs: 3,
      commands: [
        { id: 'start', args: tiny, targetS: 1e6 },
        { id: 'compare', args: tiny, targetS: 0 },
        { id: 'trace-compare', args: ['run', '--vcpus', '0'], targetS: 1e6 },
      ],
    });
    const [ok, slow, bad] = r.body.rows;
    expect(ok!.wallS).toHaveLength(3);
    expect(ok!.minS).toBeLessThanOrEqual(ok!.medianS);
    expect(ok!.medianS).toBeLessThanOrEqual(ok!.maxS);
    expect(ok!).toMatchObject({ verified: true, maxShare: 0, status: 'met' });
    expect(slow!.status).toBe('not met'); // no process takes 0 s
    expect(bad!.verified).toBe(false); // exit 2, no JSON
    const written = JSON.parse(readFileSync(join(outDir, 'front-door.json'), 'utf8')) as { scenario: string; body: unknown };
    expect(written.scenario).toBe('front-door');
    expect(written.body).toEqual(r.body);
    const results = { 'front-door': r };
    expect(failures(results)).toEqual(['front-door trace-compare: a run failed or did not verify']);
    const targets = computeTargets(results).filter((t) => t.id.startsWith('front-door-'));
    // Each judged on its own row's target; a command that did not verify is not met, however fast.
    expect(targets.map((t) => [t.id, t.status])).toEqual([
      ['front-door-start', 'met'],
      ['front-door-compare', 'not met'],
      ['front-door-trace-compare', 'not met'],
    ]);
    expect(bad!.status).toBe('not met');
    expect(targets.find((t) => t.id === 'front-door-trace-compare')!.measured).toMatch(/NOT verified/);
    const table = renderFrontDoor(r.body, '###');
    expect(table.split('\n')[0]).toBe('### Front door: whole commands, wall time');
    expect(table).toMatch(/\| met \|/);
    expect(table).toMatch(/\| not met \|/);
    expect(renderSummary(results)).toContain('Front door: whole commands');
  }, 120_000);
});
