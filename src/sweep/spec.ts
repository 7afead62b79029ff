/**
 * A sweep file: base options, axes over any run option, and seeds, expanded into numbered cells.
 *
 *   {
 *     "name": "uffd-scaling",                          optional; default: the file name
 *     "base": { "engine": "virtual", "memory": "64MiB" },
 *     "axes": {
 *       "grid": { "vcpus": [1, 2, 4], "mode": ["exit", "uffd"] },      every combination
 *       "zip": [ { "bandwidth": ["1Gbit", "10Gbit"], "latency": ["500us", "50us"] } ]
 *     },                                                  values of one zip group go together
 *     "seeds": 3                                        a count (base.seed, +1, ...) or a list
 *   }
 *
 * Cells are numbered row-major: the first grid axis varies slowest, seeds fastest. Every value and
 * every cell is checked before anything runs; a bad one is one line naming it, as for scenario files.
 */
import { readJsonFile } from '../files.js';
import { basename, dirname, extname, isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { Errors, SimError } from '../errors.js';
import { formatZodError, OptionsSchema, resolveOptions, type OptionsInput } from '../options.js';
import { canonicalOptions, cellId, sweepId, type CanonicalOptions } from './canonical.js';

/** More cells than this is a typo in the axes, not a sweep (each cell is one line of output). */
export const MAX_CELLS = 100_000;

const values = z.array(z.json()).min(1, 'give at least one value');
const axisGroup = z.record(z.string(), values);

export const SweepFileSchema = z.strictObject({
  $schema: z.string().optional(),
  description: z.string().optional(),
  name: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, ".", "_" and "-" only (it names files and jobs)')
    .optional(),
  base: z.record(z.string(), z.json()).default({}),
  axes: z
    .strictObject({
      grid: axisGroup.default({}),
      zip: z.array(axisGroup).default([]),
    })
    .prefault({}),
  seeds: z.union([z.int().min(1).max(MAX_CELLS), z.array(z.int().min(0).max(0xffffffff)).min(1)]).optional(),
});

export type SweepFile = z.output<typeof SweepFileSchema>;

/** One run of the sweep. */
export interface Cell {
  index: number;
  id: string;
  /** The swept values of this cell, as spelled in the sweep file, plus its seed. */
  params: Record<string, unknown>;
  options: CanonicalOptions;
  engine: 'threads' | 'virtual';
}

export interface Sweep {
  name: string;
  id: string;
  /** The swept option names in file order (grid, then zip groups), then "seed". */
  axes: string[];
  cells: Cell[];
}

/** Options that name files: relative paths in a sweep file are relative to the file. */
const PATH_OPTIONS = ['trace', 'costs'];

/** A dimension of the cell space: its values are partial option objects. */
type Dimension = Array<Record<string, unknown>>;

/** Reads, checks and expands a sweep file. Bad input: BAD_INPUT naming the file and the field. */
export function loadSweep(path: string): Sweep {
  const { data } = readJsonFile(path, '', 'sweep file');
  const defaultName =
    basename(path, extname(path))
      .replace(/[^A-Za-z0-9._-]/g, '_')
      .slice(0, 64) || 'sweep';
  try {
    return expandSweep(data, { defaultName, baseDir: dirname(resolve(path)) });
  } catch (e) {
    if (e instanceof SimError) throw new SimError(e.code, `${path}: ${e.message}`);
    throw e;
  }
}

/** Checks and expands an already-parsed sweep file. */
export function expandSweep(data: unknown, at: { defaultName: string; baseDir: string }): Sweep {
  const r = SweepFileSchema.safeParse(data);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    if (issue.code === 'unrecognized_keys') {
      const where = issue.path.length ? issue.path.join('.') : 'the sweep file';
      throw Errors.badInput(
        '',
        `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')} in ${where} (a sweep file has name, description, base, axes {grid, zip}, seeds)`,
      );
    }
    throw Errors.badInput('', formatZodError(r.error));
  }
  const spec = r.data;
  const base = absolutePaths(spec.base, at.baseDir);
  const b = OptionsSchema.safeParse(base);
  if (!b.success) throw Errors.badInput('', `base: ${formatZodError(b.error)}`);

  const dims: Dimension[] = [];
  const axes: string[] = [];
  const claim = (key: string, where: string) => {
    if (!(key in OptionsSchema.shape)) throw Errors.badInput(where, `unknown option "${key}" (axes take run options, e.g. vcpus, mode, bandwidth)`);
    if (key === 'seed') throw Errors.badInput(where, 'give seeds in "seeds", not as an axis');
    if (axes.includes(key)) throw Errors.badInput(where, `"${key}" is swept twice`);
    axes.push(key);
  };
  for (const [key, vals] of Object.entries(spec.axes.grid)) {
    claim(key, `axes.grid.${key}`);
    vals.forEach((v, i) => {
      checkValue(key, v, `axes.grid.${key}[${i}]`);
    });
    dims.push(vals.map((v) => ({ [key]: v })));
  }
  spec.axes.zip.forEach((group, g) => {
    const keys = Object.keys(group);
    if (!keys.length) throw Errors.badInput(`axes.zip[${g}]`, 'an empty group (name two or more options that vary together)');
    const len = group[keys[0]!]!.length;
    for (const key of keys) {
      claim(key, `axes.zip[${g}].${key}`);
      if (group[key]!.length !== len)
        throw Errors.badInput(
          `axes.zip[${g}]`,
          `"${key}" has ${group[key]!.length} values, "${keys[0]}" has ${len} (zipped values go together, so the counts must match)`,
        );
      group[key]!.forEach((v, i) => {
        checkValue(key, v, `axes.zip[${g}].${key}[${i}]`);
      });
    }
    dims.push([...Array(len).keys()].map((i) => Object.fromEntries(keys.map((k) => [k, group[k]![i]]))));
  });
  const firstSeed = b.data.seed;
  const seeds = spec.seeds === undefined ? [firstSeed] : typeof spec.seeds === 'number' ? [...Array(spec.seeds).keys()].map((i) => firstSeed + i) : spec.seeds;
  if (seeds.some((s) => s > 0xffffffff)) throw Errors.badInput('seeds', `counting from base.seed ${firstSeed} passes 4294967295`);
  if (new Set(seeds).size !== seeds.length) throw Errors.badInput('seeds', 'a seed is listed twice (the cells would be the same run)');
  dims.push(seeds.map((seed) => ({ seed })));
  axes.push('seed');

  const count = dims.reduce((n, d) => n * d.length, 1);
  if (count > MAX_CELLS) throw Errors.badInput('axes', `${count} cells; a sweep has at most ${MAX_CELLS} (split it into several files)`);

  const cells: Cell[] = [];
  for (let index = 0; index < count; index++) {
    const params: Record<string, unknown> = {};
    let rest = index;
    for (let d = dims.length - 1; d >= 0; d--) {
      const dim = dims[d]!;
      Object.assign(params, dim[rest % dim.length]);
      rest = Math.floor(rest / dim.length);
    }
    const ordered = Object.fromEntries(axes.map((k) => [k, params[k]]));
    const input = { ...base, ...absolutePaths(ordered, at.baseDir) } as OptionsInput;
    try {
      resolveOptions(input);
    } catch (e) {
      if (e instanceof SimError) throw Errors.badInput('', `cell ${index} (${describeParams(ordered)}): ${e.message}`);
      throw e;
    }
    const options = canonicalOptions(input);
    cells.push({ index, id: cellId(options), params: ordered, options, engine: options.engine as Cell['engine'] });
  }
  if (new Set(cells.map((c) => c.id)).size !== cells.length) {
    throw Errors.badInput('axes', 'two cells have the same options (an axis repeats a value, or spells one value twice)');
  }
  return { name: spec.name ?? at.defaultName, id: sweepId(cells.map((c) => c.id)), axes, cells };
}

function checkValue(key: string, v: unknown, where: string): void {
  const r = (OptionsSchema.shape as Record<string, z.ZodType>)[key]!.safeParse(v);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw Errors.badInput(where, issue.code === 'invalid_value' && 'values' in issue ? `must be one of ${issue.values.join(', ')}` : issue.message);
  }
}

function absolutePaths(o: Record<string, unknown>, dir: string): Record<string, unknown> {
  const out = { ...o };
  for (const k of PATH_OPTIONS) if (typeof out[k] === 'string' && out[k] && !isAbsolute(out[k] as string)) out[k] = resolve(dir, out[k] as string);
  return out;
}

/** `vcpus=4 mode=uffd seed=1`: a cell in one short line. */
export function describeParams(params: Record<string, unknown>): string {
  return Object.entries(params)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
}
