// Goal: with no userfault a missing page is filled by the vCPU's own stage-2 fault through GUP
// (src/virtual/first-touch.ts): no exit, no uffd line, only the mm-wide lines (mmap_lock's count,
// kvm->mmu_lock's), and vCPUs of one mm contend on those; and the uffd path's mmap_lock uses are
// each their own use of the line, so a core that asks in between takes it away.
// Method: runVirtualWithSim() with cost models in which only the mechanism under test costs
// anything; the lines' own counters where a time alone would not tell.
import { describe, expect, it } from 'vitest';
import { resolveOptions, type OptionsInput } from '../src/index.js';
import type { CostModel } from '../src/virtual/costs.js';
import { runVirtualWithSim, type VirtualOptions } from '../src/virtual/engine.js';
import { onePagePerVcpu, ZERO } from './helpers/virtual-costs.js';

const Z: CostModel = { ...ZERO, cores: 16 };
const run = (input: OptionsInput, costs: CostModel, extra: VirtualOptions = {}) =>
  runVirtualWithSim({ ...resolveOptions({ engine: 'virtual', ...input }), ...extra }, costs);
const pages = onePagePerVcpu;
const noUserfault = (n: number, c: CostModel) => run({ ...pages(n), mode: 'exit' }, c, { exitResolver: 'vcpu', noUserfault: true });

describe('no userfault: first touch through GUP', () => {
  it('charges the trap and the fill, never an exit, a re-entry or a syscall', () => {
    const [r] = noUserfault(1, { ...Z, faultUs: 1, copyUs: 4, exitUs: 100, reentryUs: 100, syscallUs: 100, continueUs: 100 });
    expect(r.verified).toBe(true);
    expect(r.faultLatencyUs.max).toBeCloseTo(5, 1);
  });
  it('touches only the mm-wide lines: mmap_lock in the GUP and mmu_lock for the map, 2 transfers each', () => {
    const [r, sim] = noUserfault(1, { ...Z, lineUs: 1 });
    expect(r.faultLatencyUs.max).toBeCloseTo(4, 1);
    expect(sim.mm.acquires).toBe(1);
    expect(sim.mmu.acquires).toBe(1);
    for (const l of [sim.lines.mmUsers, sim.lines.vma, sim.lines.exitUffd.file, sim.lines.exitUffd.ctxRef, sim.lines.exitUffd.mapChanging])
      expect(l.acquires).toBe(0);
    expect(sim.uffds).toHaveLength(0);
  });
  it('more vCPUs on one mm queue on the mm-wide line', () => {
    const [one] = noUserfault(1, { ...Z, lineUs: 1 });
    const [eight, sim] = noUserfault(8, { ...Z, lineUs: 1 });
    expect(eight.verified).toBe(true);
    expect(sim.mm.contended).toBeGreaterThan(0);
    // the last of 8 waits for the 7 uses of mmap_lock before its own (2 transfers each)
    expect(eight.faultLatencyUs.max).toBeGreaterThanOrEqual(one.faultLatencyUs.max + 7 * 2 - 0.01);
  });
  it('is bad input outside exit mode, network none and the vCPU resolver, naming the field', () => {
    expect(() => run({ ...pages(1), mode: 'uffd' }, Z, { noUserfault: true })).toThrow(/noUserfault/);
    expect(() => run({ ...pages(1), mode: 'exit' }, Z, { noUserfault: true })).toThrow(/noUserfault/);
  });
});

describe("the uffd path's mmap_lock uses", () => {
  it('a second use is free when nobody took the line in between, and pays when another core did', () => {
    // one vCPU: its first use moves the line (2), the next finds it still here
    const [, alone] = run({ ...pages(1), mode: 'uffd', uffdPerVcpu: true, uffdMode: 'minor' }, { ...Z, lineUs: 1, mmapLocksPerUffdFault: 3 });
    expect(alone.mm.word.transfers).toBe(1);
    // two vCPUs fault at once: each one's second use comes after the other's first, and moves the
    // line again (2 x 2), then each retry after the wake finds the other's ownership (2): 6. Charged
    // back to back at the fault's start, the second uses would both be free: 4.
    const [, two] = run({ ...pages(2), mode: 'uffd', uffdPerVcpu: true, uffdMode: 'minor' }, { ...Z, lineUs: 1, mmapLocksPerUffdFault: 3 });
    expect(two.mm.word.transfers).toBe(6);
  });
});
