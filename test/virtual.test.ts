// Goal: the virtual-time engine is deterministic, charges exactly its cost model, keeps a working
// correctness oracle over page versions, agrees with the threaded engine on fault counts where the
// workload does not depend on timing, and scales to 1024 vCPUs and a 1 TiB guest.
// Method: direct calls to runVirtual() with hand-made cost models; two small threaded runs.
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveOptions, simulate, SimError, type OptionsInput } from '../src/index.js';
import type { CostModel } from '../src/virtual/costs.js';
import { loadCostProfile } from '../src/virtual/costs.js';
import { runVirtual, type VirtualOptions } from '../src/virtual/engine.js';

const ZERO: CostModel = {
  cores: 4, faultUs: 0, exitUs: 0, postUs: 0, receiveUs: 0, enqueueUs: 0, readUs: 0, scanPerEntryUs: 0, copyUs: 0, installUs: 0,
  wakePerEntryUs: 0, lockHoldUs: 0, lockHandoverUs: 0, mmHoldUs: 0, wakeupUs: 0, accessUs: 0, spin: false,
};
const COSTS: CostModel = {
  cores: 2, faultUs: 3, exitUs: 2, postUs: 4, receiveUs: 1, enqueueUs: 0.5, readUs: 2, scanPerEntryUs: 0.01, copyUs: 6, installUs: 5,
  wakePerEntryUs: 0.1, lockHoldUs: 0.2, lockHandoverUs: 0.3, mmHoldUs: 0.25, wakeupUs: 8, accessUs: 0.05, spin: true,
};

const run = (input: OptionsInput, costs: CostModel, extra: VirtualOptions = {}) => runVirtual({ ...resolveOptions(input), ...extra }, costs);
const stripWall = (r: object) => JSON.stringify({ ...r, wallMs: 0, peakRssBytes: 0 });

describe('determinism', () => {
  it('gives byte-identical JSON (apart from wall-time fields) for the same options and seed', () => {
    for (const o of [
      { mode: 'uffd', vcpus: 8, memory: '8MiB', workload: 'zipf', handlers: 2, accesses: 3000, strategy: 'preempt' },
      { mode: 'exit', vcpus: 6, memory: '8MiB', workload: 'random', accesses: 3000, strategy: 'stride', bandwidth: '1Gbit' },
    ] as OptionsInput[]) {
      const a = run(o, COSTS), b = run(o, COSTS);
      expect(a.verified).toBe(true);
      expect(stripWall(a)).toBe(stripWall(b));
      expect(stripWall(run({ ...o, seed: 2 }, COSTS))).not.toBe(stripWall(a));
    }
  });
});

describe('cost model arithmetic on one fault', () => {
  // 1 vCPU, 1 page, 1 access: the fault latency is exactly the sum of the steps the mode takes.
  const one: OptionsInput = { vcpus: 1, memory: 4096, workload: 'sequential', partition: true, accesses: 1, network: 'none', writeRatio: 0 };
  const c: CostModel = { ...ZERO, faultUs: 3, exitUs: 2, postUs: 4, receiveUs: 1, enqueueUs: 0.5, readUs: 2, scanPerEntryUs: 0.25, copyUs: 6, installUs: 5,
    wakePerEntryUs: 0.125, lockHoldUs: 0.25, mmHoldUs: 0.75, wakeupUs: 8, accessUs: 0.5 };

  it('exit, fetcher resolves: fault + exit + post, fetcher wakeup + receive + mm line + install, vCPU wakeup', () => {
    const r = run({ ...one, mode: 'exit' }, c);
    const want = 3 + 2 + 4 + 8 + 1 + 0.75 + 5 + 8; // 31.75
    expect(r.faults).toBe(1);
    expect(r.faultLatencyUs.max).toBeCloseTo(want, 1);
    expect(r.guestMs * 1000).toBeCloseTo(want + 0.5, -1); // plus the retried access
  });

  it('exit, vCPU resolves (demand_paging_test): fault + exit + mm line + copy, no wakeups', () => {
    const r = run({ ...one, mode: 'exit' }, c, { exitResolver: 'vcpu' });
    expect(r.faultLatencyUs.max).toBeCloseTo(3 + 2 + 0.75 + 6, 1);
  });

  it('uffd, one reader: fault, enqueue under the lock (+ poll walk of 1 reader), reader wakeup, read, copy, wake walk, vCPU wakeup', () => {
    const r = run({ ...one, mode: 'uffd', handlers: 1 }, c);
    const enqueue = 3 + 0.25 + 0.5 + 1 * 0.125;
    const read = 8 + 0.25 + 1 * 0.25 + 2;
    const copy = 0.75 + 6 + 0.25 + 1 * 0.125;
    expect(r.faultLatencyUs.max).toBeCloseTo(enqueue + read + copy + 8, 1); // 29.5
    expect(r.uffd).toMatchObject({ reads: 1, wakeWalks: 1, wakeWalkEntries: 1 });
  });

  it('threads share cores: two vCPUs on one core fault one after the other', () => {
    const two: OptionsInput = { ...one, vcpus: 2, memory: 8192 };
    const r = run({ ...two, mode: 'exit' }, { ...c, cores: 1, faultUs: 10, exitUs: 0, postUs: 0, receiveUs: 0, mmHoldUs: 0, installUs: 0, wakeupUs: 0 }, {});
    // vCPU 1 waits for the core until vCPU 0 has spent its 10 us and slept.
    expect(Math.max(...r.vcpuBlocktimeMs) * 1000).toBeCloseTo(20, 1);
  });
});

describe('the oracle over page versions', () => {
  const o: OptionsInput = { mode: 'exit', vcpus: 4, memory: '4MiB', workload: 'zipf', writeRatio: 0.5, accesses: 4000, network: 'none' };
  it('verifies a correct run, reads and writes checked', () => {
    const r = run(o, COSTS);
    expect(r.verified).toBe(true);
    expect(r.verifyErrors).toEqual([]);
    expect(r.faults).toBeGreaterThan(0);
  });
  it('catches a page published before its bytes are copied', () => {
    const r = run({ ...o, unsafePublishBeforeCopyUs: 50 }, { ...COSTS, spin: true });
    expect(r.verified).toBe(false);
    expect(r.verifyErrors.join('\n')).toMatch(/garbage|differ/);
  });
});

describe('fault counts agree with the threaded engine where timing does not matter', () => {
  it('sequential, partitioned, network none: faults = pages, both engines, exit and uffd', async () => {
    for (const mode of ['exit', 'uffd'] as const) {
      const o: OptionsInput = { mode, vcpus: 2, memory: '1MiB', workload: 'sequential', partition: true, accesses: 128, network: 'none', writeRatio: 0 };
      const t = await simulate(o);
      const v = run(o, COSTS);
      expect(v.faults).toBe(256);
      expect(t.faults).toBe(v.faults);
      expect(v.verified && t.verified).toBe(true);
    }
  });
  it('strategy demand, random partitioned accesses: faults = distinct pages touched, both engines', async () => {
    const o: OptionsInput = { mode: 'exit', vcpus: 2, memory: '2MiB', workload: 'random', partition: true, accesses: 300, strategy: 'demand', writeRatio: 0.3 };
    const t = await simulate(o);
    const v = run(o, COSTS);
    expect(v.faults).toBe(t.faults);
    expect(v.faultsByFlags).toEqual(t.faultsByFlags);
    expect(v.accesses).toBe(t.accesses);
  });
});

describe('scale', () => {
  it('runs 1024 vCPUs on a 1 TiB guest (2 MiB pages) without allocating guest memory', () => {
    const o = resolveOptions({ vcpus: 256, memory: '1TiB', pageSize: '2MiB', memslotSize: '2GiB', mode: 'uffd', workload: 'random', accesses: 20, bandwidth: '800Gbit', strategy: 'linear' });
    const t0 = performance.now();
    const r = runVirtual({ ...o, vcpus: 1024 }, { ...COSTS, cores: 256 });
    expect(r.vcpus).toBe(1024);
    expect(r.pages).toBe(512 * 1024);
    expect(r.verified).toBe(true);
    expect(r.accesses).toBe(1024 * 20);
    expect(performance.now() - t0).toBeLessThan(20_000);
  });
});

describe('cost profiles', () => {
  it('rejects a bad profile with BAD_INPUT naming the field', () => {
    const f = join(tmpdir(), `costs-${process.pid}.json`);
    writeFileSync(f, JSON.stringify({ date: 'x', machine: {}, basis: 'kernel', costs: { ...COSTS, copyUs: -1 }, sources: {}, measured: {} }));
    try { loadCostProfile(f); throw new Error('expected a failure'); } catch (e) {
      expect(e).toBeInstanceOf(SimError);
      expect((e as SimError).code).toBe('BAD_INPUT');
      expect((e as SimError).message).toMatch(/costs\.copyUs/);
    }
  });
  it('loads the built-in profile', () => {
    const r = runVirtual({ ...resolveOptions({ mode: 'uffd', vcpus: 2, memory: '1MiB', accesses: 100 }) }, loadCostProfile(join('src', 'virtual', 'default-costs.json')).costs);
    expect(r.engine).toBe('virtual');
    expect(r.verified).toBe(true);
  });
});
