// Goal: the expressions both engines once wrote out each for itself are one model function each
// (issue 22, item 4): a vCPU's access budget, and the VMM's own work for a resolution that needs no
// page. What they answer is what the engines did: a trace replays once unless --accesses says
// otherwise, a synthetic workload runs --accesses or until migration plus its tail; a conversion
// and a tag restore cost what the options say, a blind re-entry nothing.
// Method: call the model functions on resolved options; then a tiny confidential MTE run in each
// engine, which charges localWorkUs on its conversions and tag restores, must verify.
import { describe, expect, it } from 'vitest';
import { accessBudget } from '../src/model/access-budget.js';
import { localWorkUs, RES_CONVERT, RES_FETCH, RES_REENTER, RES_RESTORE_TAGS } from '../src/model/arch/guest.js';
import { resolveOptions } from '../src/options.js';
import { simulateVirtual } from '../src/virtual/engine.js';

describe('the access budget', () => {
  const synthetic = resolveOptions({ tailAccesses: 7 });
  const counted = resolveOptions({ accesses: 100 });
  it('a synthetic workload without --accesses runs until migration completes, then its tail', () => {
    expect(accessBudget(synthetic, null)).toEqual({ limit: Infinity, untilMigrated: true, tail: 7 });
  });
  it('--accesses bounds a synthetic workload, with no tail', () => {
    expect(accessBudget(counted, null)).toEqual({ limit: 100, untilMigrated: false, tail: 0 });
  });
  it('a trace replays once, or --accesses of it; an empty trace runs nothing', () => {
    expect(accessBudget(synthetic, 40)).toEqual({ limit: 40, untilMigrated: false, tail: 0 });
    expect(accessBudget(counted, 40)).toEqual({ limit: 100, untilMigrated: false, tail: 0 });
    expect(accessBudget(counted, 0).limit).toBe(0);
  });
});

describe("the VMM's local work per resolution", () => {
  const o = resolveOptions({ conversionCost: '30us', tagRestoreCost: '4us' });
  it('a conversion and a tag restore cost what the options say; a fetch or a blind re-entry does no local work', () => {
    expect(localWorkUs(o, RES_CONVERT)).toBe(30);
    expect(localWorkUs(o, RES_RESTORE_TAGS)).toBe(4);
    expect(localWorkUs(o, RES_REENTER)).toBe(0);
    expect(localWorkUs(o, RES_FETCH)).toBe(0);
  });
  it('a virtual arm64 run with MTE tags and a confidential guest, which charge it, verifies', async () => {
    const r = await simulateVirtual(
      resolveOptions({
        engine: 'virtual',
        arch: 'arm64',
        vcpus: 2,
        memory: '8MiB',
        accesses: 3000,
        network: 'none',
        mteFraction: 0.5,
        confidential: true,
        convertRatio: 0.01,
      }),
    );
    expect(r.verified).toBe(true);
  });
});
