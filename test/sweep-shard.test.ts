// Goal: a sweep splits into shards that together run every cell exactly once, the shard comes from
// --shard or from the scheduler (Slurm array, Kubernetes Indexed Job), `sweep merge` rebuilds the
// whole sweep (the same bytes as one unsharded run, apart from wall clock and host) and refuses a
// missing, duplicated or foreign cell, and --slurm writes array and merge scripts that say so.
// Method: resolveShard on fake environments; the built CLI on a 9-cell virtual sweep run whole and
// in 3 shards (by flag and by scheduler variables), merged in every way that should fail or pass.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { SimError } from '../src/errors.js';
import { indexRanges } from '../src/sweep/merge.js';
import { inShard, resolveShard } from '../src/sweep/shard.js';
import { cli, readRecords, scratch, stableLines, TINY, writeSweep } from './sweep-helpers.js';

describe('which shard', () => {
  it('--shard K/N wins; then Slurm; then a Kubernetes Indexed Job; else the whole sweep', () => {
    expect(resolveShard('2/5', { SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_COUNT: '3' })).toMatchObject({ index: 2, count: 5 });
    expect(resolveShard(undefined, { SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_COUNT: '3' })).toMatchObject({ index: 1, count: 3 });
    expect(resolveShard(undefined, { SLURM_ARRAY_TASK_ID: '4', SLURM_ARRAY_TASK_MIN: '3', SLURM_ARRAY_TASK_COUNT: '3' })).toMatchObject({ index: 1, count: 3 });
    expect(resolveShard(undefined, { JOB_COMPLETION_INDEX: '0', JOB_COMPLETIONS: '4' })).toMatchObject({ index: 0, count: 4 });
    expect(resolveShard(undefined, {})).toMatchObject({ index: 0, count: 1 });
  });

  it.each<[string | undefined, NodeJS.ProcessEnv, RegExp]>([
    ['3/3', {}, /--shard: shard 3 of 3: shards are numbered from 0 to 2/],
    ['1-3', {}, /--shard: expected K\/N/],
    ['0/0', {}, /the shard count must be 1/],
    [undefined, { SLURM_ARRAY_TASK_ID: '1' }, /SLURM_ARRAY_TASK_COUNT: is not set/],
    [undefined, { JOB_COMPLETION_INDEX: '1' }, /JOB_COMPLETIONS: is not set.*\.spec\.completions/],
    [undefined, { JOB_COMPLETION_INDEX: 'x', JOB_COMPLETIONS: '2' }, /JOB_COMPLETION_INDEX: expected a whole number/],
  ])('bad: %s %j', (flag, env, re) => {
    expect(() => resolveShard(flag, env)).toThrow(SimError);
    expect(() => resolveShard(flag, env)).toThrow(re);
  });

  it('round-robin: every cell in exactly one shard', () => {
    for (const n of [1, 2, 3, 7]) {
      for (let i = 0; i < 20; i++) expect([...Array(n).keys()].filter((k) => inShard(i, { index: k, count: n, from: '' }))).toHaveLength(1);
    }
  });

  it('missing cells are listed as ranges', () => {
    expect(indexRanges([1, 2, 3, 7, 9, 10])).toBe('1-3, 7, 9-10');
  });
});

describe('shards and merge', () => {
  const dir = scratch('sweep-shard');
  const spec = { name: 'nine', base: TINY, axes: { grid: { mode: ['exit', 'uffd', 'none'] } }, seeds: 3 };
  const file = writeSweep(dir, 'nine', spec);
  const whole = join(dir, 'whole.jsonl');
  beforeAll(() => {
    expect(cli(['sweep', file, '-o', whole], { cwd: dir }).code).toBe(0);
    for (const k of [0, 1, 2]) expect(cli(['sweep', file, '--shard', `${k}/3`], { cwd: dir }).code).toBe(0);
  });
  const shard = (k: number) => join(dir, `nine.shard-${k}.jsonl`);

  it('each shard runs its cells (K, K+N, ...) into its own file', () => {
    expect(
      readRecords(shard(1))
        .map((r) => r.cell.index)
        .sort(),
    ).toEqual([1, 4, 7]); // in the order they finished
    expect(readRecords(shard(1)).every((r) => r.run.shard === '1/3')).toBe(true);
  });

  it('merge rebuilds the sweep in cell order, equal to one unsharded run', () => {
    const out = join(dir, 'merged.jsonl');
    const r = cli(['sweep', 'merge', out, shard(2), shard(0), shard(1)]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/merged 9 cells from 3 files into/);
    const merged = readRecords(out);
    expect(merged.map((x) => x.cell.index)).toEqual([...Array(9).keys()]);
    expect(stableLines(merged)).toEqual(stableLines(readRecords(whole)));
  });

  it('refuses a missing shard, a shard given twice, and another sweep; writes nothing', () => {
    const out = join(dir, 'never.jsonl');
    const bad = (args: string[], re: RegExp) => {
      const r = cli(['sweep', 'merge', out, ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(re);
      expect(existsSync(out)).toBe(false);
    };
    bad([shard(0), shard(2)], /merge: 3 of 9 cells missing: 1, 4, 7; run their shards again/);
    bad([shard(0), shard(1), shard(2), shard(1)], /merge: 3 duplicated cells: cell [147] \(.*nine\.shard-1\.jsonl line 1 and .*nine\.shard-1\.jsonl line 1\)/);
    const other = writeSweep(dir, 'other', { ...spec, name: 'other', seeds: 1 });
    expect(cli(['sweep', other], { cwd: dir }).code).toBe(0);
    bad([whole, join(dir, 'other.jsonl')], /other\.jsonl line 1 is from sweep other .* but .*whole\.jsonl line 1 is from sweep nine/);
  });

  it('takes the shard from a Slurm array task, or a Kubernetes Indexed Job pod', () => {
    const slurmDir = scratch('sweep-slurm-env');
    const slurm = cli(['sweep', file], { cwd: slurmDir, env: { SLURM_ARRAY_TASK_ID: '2', SLURM_ARRAY_TASK_COUNT: '3', SLURM_CPUS_PER_TASK: '1' } });
    expect(slurm.code, slurm.stderr).toBe(0);
    expect(slurm.stderr).toMatch(/shard 2\/3 \(SLURM_ARRAY_TASK_ID\/SLURM_ARRAY_TASK_COUNT\): 3 cells; .* running 3 virtual on 1 worker/);
    expect(
      readRecords(join(slurmDir, 'nine.shard-2.jsonl'))
        .map((r) => r.cell.index)
        .sort(),
    ).toEqual([2, 5, 8]);
    const k8s = cli(['sweep', file], { cwd: slurmDir, env: { JOB_COMPLETION_INDEX: '0', JOB_COMPLETIONS: '3' } });
    expect(k8s.code, k8s.stderr).toBe(0);
    expect(
      readRecords(join(slurmDir, 'nine.shard-0.jsonl'))
        .map((r) => r.cell.index)
        .sort(),
    ).toEqual([0, 3, 6]);
  });

  it('--slurm writes an array script (one task per shard) and a merge script', () => {
    const out = join(dir, 'cluster', 'nine.jsonl');
    const r = cli(['sweep', file, '--slurm', '--shards', '3', '-o', out, '--sbatch=--time=10:00'], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/9 cells in 3 array tasks; wrote .*nine\.sbatch and .*nine\.merge\.sbatch/);
    const array = readFileSync(join(dir, 'cluster', 'nine.sbatch'), 'utf8');
    expect(array).toMatch(/^#SBATCH --array=0-2$/m);
    expect(array).toMatch(/^#SBATCH --cpus-per-task=1$/m);
    expect(array).toMatch(/^#SBATCH --time=10:00$/m);
    expect(array).toContain(`sweep '${file}' --output '${join(dir, 'cluster', 'nine')}'".shard-\${SLURM_ARRAY_TASK_ID}.jsonl"`);
    const merge = readFileSync(join(dir, 'cluster', 'nine.merge.sbatch'), 'utf8');
    expect(merge).toContain(`sweep merge '${out}'`);
    for (const k of [0, 1, 2]) expect(merge).toContain(`'${join(dir, 'cluster', `nine.shard-${k}.jsonl`)}'`);
    const bad = cli(['sweep', file, '--slurm', '--shards', '10'], { cwd: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--shards: 10 shards for 9 cells would leave shards empty/);
  });
});
