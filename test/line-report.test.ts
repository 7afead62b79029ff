// Goal: the per-row breakdown names what bounds a run: a line every fault must cross, when the
// line is the only cost, and the round trip when a fault's latency is spent off every line.
// Method: runVirtualWithSim() on tiny scenarios whose costs sit on one mechanism; runBreakdown()
// on the finished simulation.
import { describe, expect, it } from 'vitest';
import { resolveOptions, type OptionsInput } from '../src/index.js';
import type { CostModel } from '../src/virtual/costs.js';
import { ZERO as ZERO_COSTS } from './helpers/virtual-costs.js';
import { runVirtualWithSim } from '../src/virtual/engine.js';
import { runBreakdown } from '../src/virtual/line-report.js';

const ZERO: CostModel = { ...ZERO_COSTS, cores: 16 };

const pages = (n: number, perVcpu = 64): OptionsInput => ({
  vcpus: n,
  memory: n * perVcpu * 4096,
  workload: 'sequential',
  partition: true,
  accesses: perVcpu,
  network: 'none',
  writeRatio: 0,
  zeroFraction: 0,
});
const breakdown = (input: OptionsInput, c: CostModel, exitResolver?: 'vcpu') => {
  const [r, sim] = runVirtualWithSim({ ...resolveOptions({ engine: 'virtual', ...input }), ...(exitResolver ? { exitResolver } : {}) }, c);
  return runBreakdown(sim, r.guestMs * 1000, r.faults);
};

describe('what bounds a run', () => {
  it('exits with only line transfers costing: serial-bound on a shared line of the CONTINUE', () => {
    const b = breakdown({ ...pages(16), mode: 'exit' }, { ...ZERO, cores: 16, lineUs: 1 }, 'vcpu');
    expect(b.bound).toBe('serial');
    expect(b.busiest.line).toMatch(/f_count|mm_users|VMA|map_changing|mmu_lock/);
    expect(b.busiest.busyShare).toBeGreaterThan(0.8);
  });
  it('one vCPU whose time goes to the fault and the copy: latency-bound', () => {
    const b = breakdown({ ...pages(1), mode: 'uffd', handlers: 1 }, { ...ZERO, cores: 4, lineUs: 0.01, faultUs: 5, copyUs: 5, wakeupUs: 5 });
    expect(b.bound).toBe('latency');
    expect(b.walkEntriesPerFault).toBeCloseTo(1, 5);
    expect(b.regime).not.toBeNull();
  });
  it('N readers on one uffd: the readers woken for nothing show as empty reads per fault', () => {
    // one vCPU faulting page after page: each fault wakes every reader asleep in poll(), one reads it
    const one = breakdown({ ...pages(1, 16), mode: 'uffd', handlers: 1 }, { ...ZERO, cores: 16, faultUs: 1, wakeupUs: 2 });
    const four = breakdown({ ...pages(1, 16), mode: 'uffd', handlers: 4 }, { ...ZERO, cores: 16, faultUs: 1, wakeupUs: 2 });
    expect(one.emptyReadsPerFault).toBe(0);
    expect(four.emptyReadsPerFault).toBeGreaterThan(1);
  });
});
