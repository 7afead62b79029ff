// Goal: a sweep file expands into exactly the cells it describes (grid x zip x seeds, in a fixed
// order), every cell's options are complete and re-parse to the same run, and every bad field is one
// line naming it, exit code 2, before anything runs.
// Method: expandSweep on in-memory specs (no runs), canonical options parsed back through the run
// schema, and the built CLI on a few bad files.
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SimError } from '../src/errors.js';
import { resolveOptions, type OptionsInput } from '../src/options.js';
import { canonicalOptions } from '../src/sweep/canonical.js';
import { expandSweep, loadSweep, type Sweep } from '../src/sweep/spec.js';
import { cli, scratch, TINY, writeSweep } from './sweep-helpers.js';

const at = { defaultName: 't', baseDir: '/tmp' };
const expand = (spec: unknown): Sweep => expandSweep(spec, at);

describe('expansion', () => {
  const s = expand({
    base: TINY,
    axes: { grid: { vcpus: [1, 2], mode: ['exit', 'uffd'] }, zip: [{ bandwidth: ['1Gbit', '10Gbit'], latency: ['500us', '50us'] }] },
    seeds: 2,
  });

  it('grid x zip x seeds, first grid axis slowest, seeds fastest', () => {
    expect(s.cells).toHaveLength(2 * 2 * 2 * 2);
    expect(s.axes).toEqual(['vcpus', 'mode', 'bandwidth', 'latency', 'seed']);
    expect(s.cells[0]!.params).toEqual({ vcpus: 1, mode: 'exit', bandwidth: '1Gbit', latency: '500us', seed: 1 });
    expect(s.cells[1]!.params).toEqual({ vcpus: 1, mode: 'exit', bandwidth: '1Gbit', latency: '500us', seed: 2 });
    expect(s.cells[2]!.params).toEqual({ vcpus: 1, mode: 'exit', bandwidth: '10Gbit', latency: '50us', seed: 1 });
    expect(s.cells[15]!.params).toEqual({ vcpus: 2, mode: 'uffd', bandwidth: '10Gbit', latency: '50us', seed: 2 });
    expect(s.cells.map((c) => c.index)).toEqual([...Array(16).keys()]);
  });

  it('zipped values go together: never 1Gbit with 50us', () => {
    for (const c of s.cells) expect(c.options.latency).toBe(c.options.bandwidth === 1e9 ? 500 : 50);
  });

  it('options are complete, in the run units, and parse back to the same run', () => {
    const o = s.cells[0]!.options;
    expect(Object.keys(o)).toEqual(expect.arrayContaining(['vcpus', 'memory', 'pageSize', 'mode', 'bandwidth', 'latency', 'seed', 'engine', 'accesses']));
    expect(o).toMatchObject({ vcpus: 1, memory: 16 << 20, pageSize: 4096, bandwidth: 1e9, latency: 500, engine: 'virtual' });
    for (const c of s.cells) expect(resolveOptions(c.options)).toEqual(resolveOptions({ ...TINY, ...c.params } as OptionsInput));
  });

  it('canonical options keep what JSON cannot hold and what the strategy implies', () => {
    const o = canonicalOptions({ bandwidth: 'unlimited', strategy: 'hugepage', memory: '64MiB' });
    expect(o).toMatchObject({ bandwidth: 'unlimited', pageSize: 2 << 20 });
    expect(resolveOptions(o)).toEqual(resolveOptions({ bandwidth: 0, strategy: 'hugepage', memory: '64MiB' }));
    expect(JSON.parse(JSON.stringify(o))).toEqual(o);
  });

  it('identities depend on the options, not on how they are spelled', () => {
    const a = expand({ base: { ...TINY, memory: '16MiB' } });
    const b = expand({ base: { ...TINY, memory: 16777216 } });
    expect(a.cells[0]!.id).toBe(b.cells[0]!.id);
    expect(a.id).toBe(b.id);
    expect(expand({ base: TINY, seeds: [7] }).id).not.toBe(a.id);
  });

  it('seeds: a count starts at base.seed; a list is taken as is; none means base.seed', () => {
    expect(expand({ base: { ...TINY, seed: 10 }, seeds: 3 }).cells.map((c) => c.options.seed)).toEqual([10, 11, 12]);
    expect(expand({ base: TINY, seeds: [5, 2] }).cells.map((c) => c.options.seed)).toEqual([5, 2]);
    expect(expand({ base: { ...TINY, seed: 4 } }).cells.map((c) => c.options.seed)).toEqual([4]);
  });

  it('the engine of each cell decides where it runs', () => {
    const m = expand({ base: { memory: '8MiB', accesses: 100 }, axes: { grid: { engine: ['virtual', 'threads'] } } });
    expect(m.cells.map((c) => c.engine)).toEqual(['virtual', 'threads']);
  });
});

describe('the example sweep files', () => {
  const dir = join(import.meta.dirname, '..', 'examples', 'sweeps');
  it.each(readdirSync(dir).filter((f) => f.endsWith('.json')))('%s expands', (f) => {
    const s = loadSweep(join(dir, f));
    expect(s.cells.length).toBeGreaterThan(1);
    expect(s.name).toBe(basename(f, '.json'));
  });
});

describe('bad sweep files: one line naming the field', () => {
  const bad = (spec: unknown, re: RegExp) => {
    let err: unknown;
    try {
      expand(spec);
    } catch (e) {
      err = e;
    }
    expect(err, JSON.stringify(spec)).toBeInstanceOf(SimError);
    expect((err as SimError).code).toBe('BAD_INPUT');
    expect((err as SimError).message).toMatch(re);
    expect((err as SimError).message).not.toContain('\n');
  };
  it.each<[string, unknown, RegExp]>([
    ['unknown top-level field', { bases: {} }, /unknown field "bases" in the sweep file/],
    ['unknown base option', { base: { vcpu: 2 } }, /^base: unknown option: vcpu/],
    ['bad base value', { base: { vcpus: 0 } }, /^base: vcpus: /],
    ['bad axis value', { axes: { grid: { vcpus: [1, 0] } } }, /^axes\.grid\.vcpus\[1\]: /],
    ['bad enum on an axis', { axes: { grid: { mode: ['exit', 'fault'] } } }, /^axes\.grid\.mode\[1\]: must be one of exit, uffd, none/],
    ['unknown axis', { axes: { grid: { vcpu: [1] } } }, /^axes\.grid\.vcpu: unknown option "vcpu"/],
    ['empty axis', { axes: { grid: { vcpus: [] } } }, /axes\.grid\.vcpus: give at least one value/],
    [
      'zip of unequal lengths',
      { axes: { zip: [{ bandwidth: ['1Gbit', '2Gbit'], latency: ['5us'] }] } },
      /^axes\.zip\[0\]: "latency" has 1 values, "bandwidth" has 2/,
    ],
    ['an option swept twice', { axes: { grid: { vcpus: [1] }, zip: [{ vcpus: [2] }] } }, /axes\.zip\[0\]\.vcpus: "vcpus" is swept twice/],
    ['seed as an axis', { axes: { grid: { seed: [1, 2] } } }, /give seeds in "seeds"/],
    ['seeds zero', { seeds: 0 }, /^seeds: /],
    ['a seed listed twice', { seeds: [3, 3] }, /^seeds: a seed is listed twice/],
    [
      'a cell the run rejects',
      { base: { memory: '8MiB' }, axes: { grid: { strategy: ['linear', 'demand'] } } },
      /^cell 1 \(strategy=demand seed=1\): accesses: strategy demand needs --accesses/,
    ],
    ['the same cell twice', { base: TINY, axes: { grid: { memory: ['16MiB', 16777216] } } }, /two cells have the same options/],
    ['a bad name', { name: 'a b' }, /^name: /],
  ])('%s', (_what, spec, re) => bad(spec, re));

  it('the CLI prints the file name and the field on one line, exit code 2, nothing run', () => {
    const dir = scratch('sweep-spec');
    const file = writeSweep(dir, 'bad', { base: TINY, axes: { grid: { vcpus: [1, 'many'] } } });
    const r = cli(['sweep', file], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^postcopy-sim: error: .*bad\.json: axes\.grid\.vcpus\[1\]: /);
    const flag = cli(['sweep', file, '--submit']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/--submit: only applies with --slurm/);
  });
});
