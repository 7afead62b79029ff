// Goal: every bad option becomes one BAD_INPUT line naming the field; good ones resolve with units.
import { describe, expect, it } from 'vitest';
import { SimError } from '../src/errors.js';
import { resolveOptions, type OptionsInput } from '../src/options.js';

function badInput(o: OptionsInput): string {
  try {
    resolveOptions(o);
  } catch (e) {
    expect(e).toBeInstanceOf(SimError);
    expect((e as SimError).code).toBe('BAD_INPUT');
    expect((e as SimError).exitCode).toBe(2);
    expect((e as SimError).message).not.toContain('\n');
    return (e as SimError).message;
  }
  throw new Error('expected BAD_INPUT');
}

describe('resolveOptions', () => {
  it('fills defaults and converts units', () => {
    const o = resolveOptions({ memory: '1GiB', bandwidth: '25Gbit', latency: '30us' });
    expect(o.vcpus).toBe(4);
    expect(o.pages).toBe(262144);
    expect(o.bandwidthBps).toBe(25e9);
    expect(o.latencyUs).toBe(30);
    expect(o.mode).toBe('exit');
  });
  it('splits large guests into memslots', () => {
    const o = resolveOptions({ memory: '5GiB', memslotSize: '2GiB' });
    expect(o.memslots.map((m) => m.sizeBytes / 2 ** 30)).toEqual([2, 2, 1]);
    expect(o.memslots[2]!.firstPage).toBe((4 * 2 ** 30) / 4096);
  });
  it('accepts an explicit layout with holes', () => {
    const o = resolveOptions({
      memslots: [
        { base: 0, size: '1MiB' },
        { base: '4GiB', size: '1MiB' },
      ],
    });
    expect(o.pages).toBe(512);
    expect(o.memslots[1]!.baseGpa).toBe(4 * 2 ** 30);
  });
  it.each<[OptionsInput, RegExp]>([
    [{ vcpus: 0 }, /^vcpus: /],
    [{ vcpus: 'four' as never }, /^vcpus: /],
    [{ memory: '-5MiB' }, /^memory: /],
    [{ memory: '10000' }, /^memory: must be a multiple of the page size/],
    [{ memory: 0 }, /^memory: must be greater than 0/],
    [{ pageSize: '3000' }, /^pageSize: must be 4KiB or 2MiB/],
    [{ mode: 'fast' as never }, /^mode: must be one of exit, uffd, none/],
    [{ workload: 'tpcc' as never }, /^workload: must be one of/],
    [{ bandwidth: 'quick' }, /^bandwidth: .*not a rate/],
    [{ latency: 'soon' }, /^latency: /],
    [{ writeRatio: 2 }, /^writeRatio: /],
    [{ memslots: [{ base: 0, size: 100 }] }, /^memslots\.0\.size: /],
    [
      {
        memslots: [
          { base: 0, size: '1MiB' },
          { base: '512KiB', size: '1MiB' },
        ],
      },
      /^memslots\.1\.base: .*overlap/,
    ],
    [{ nonsense: 1 } as never, /^unknown option: nonsense/],
    [{ partition: true, vcpus: 8, memory: '16KiB' }, /^partition: /],
    [{ wakeBatch: 0 }, /^wakeBatch: /],
    [{ uffdMode: 'major' }, /^uffdMode: must be one of missing, minor/],
    [{ profile: 'tiny-host' }, /^profile: must be one of this-host, large-host/],
    [{ mode: 'uffd', exitResolver: 'vcpu', network: 'none', accesses: 10 }, /^exitResolver: 'vcpu' is for exit mode/],
    [{ network: 'none' }, /^accesses: network none needs --accesses/],
    [{ vcpus: 300 }, /^vcpus: the threaded engine runs at most 256 vCPUs/],
    [{ costs: 'x.json' }, /^costs: --costs and --cores need --engine virtual/],
  ])('%j -> %s', (o, re) => expect(badInput(o)).toMatch(re));
});

describe('strategy options', () => {
  it('hugepage gets 2 MiB pages unless told otherwise, and refuses 4 KiB', () => {
    expect(resolveOptions({ strategy: 'hugepage', memory: '64MiB' }).pageSize).toBe(2 ** 21);
    expect(badInput({ strategy: 'hugepage', pageSize: '4KiB' })).toMatch(/^pageSize: strategy hugepage needs 2MiB pages/);
  });
  it('demand needs a fixed number of accesses', () => {
    expect(badInput({ strategy: 'demand' })).toMatch(/^accesses: /);
    expect(resolveOptions({ strategy: 'demand', accesses: 10 }).strategy).toBe('demand');
  });
  it('rejects an unknown strategy naming the choices', () => {
    expect(badInput({ strategy: 'telepathy' as never })).toMatch(/^strategy: must be one of demand, linear, prepaging, stride, preempt, hybrid, hugepage/);
  });
});
