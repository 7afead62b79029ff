// Goal: whole runs with the architecture's faults: a confidential guest converts pages without
// fetching them, MTE tag faults are resolved on the vCPU thread, a uffd run sees walks only as writes
// to page-table pages, the event stream carries the decoded syndrome, and the options that cannot go
// together are refused with one line naming the field.
// Method: tiny guests on both engines (threaded runs are checked for what they count, never for
// how long anything took); options through resolveOptions exactly as the CLI passes them.
import { describe, expect, it } from 'vitest';
import { resolveOptions, simulate, type OptionsInput } from '../src/index.js';
import type { FaultEvent, SimEvent } from '../src/events.js';

describe('options of the fault records', () => {
  const bad = (o: OptionsInput) => {
    try {
      resolveOptions(o);
      return 'accepted';
    } catch (e) {
      return (e as Error).message;
    }
  };
  it('refuses what does not go together, naming the field', () => {
    expect(bad({ mteFraction: 0.5 })).toMatch(/^mteFraction: MTE is an arm64 feature/);
    expect(bad({ faultRecord: 'syndrome', mode: 'uffd' })).toMatch(/^faultRecord: 'syndrome' .* needs exit mode/);
    expect(bad({ confidential: true, mode: 'uffd' })).toMatch(/^confidential: userfaultfd cannot register guest_memfd/);
    expect(bad({ pageTables: true, strategy: 'hugepage' })).toMatch(/^pageTables: .*4KiB/);
    expect(bad({ arch: 'riscv' as never })).toMatch(/^arch: must be one of x86, arm64/);
    expect(bad({ arch: 'arm64', mteFraction: 0.5, pageTables: true, confidential: true, execRatio: 0.1 })).toBe('accepted');
  });
  it('defaults to x86, the neutral record, and no modelled guest', () => {
    const o = resolveOptions({});
    expect(o).toMatchObject({
      arch: 'x86',
      faultRecord: 'neutral',
      execRatio: 0,
      pageTables: false,
      mteFraction: 0,
      confidential: false,
      conversionUs: 20,
      tagRestoreUs: 3,
    });
  });
});

describe('runs', () => {
  it('a confidential guest (threads): mismatches are conversions on the vCPU thread, no round trip', async () => {
    const r = await simulate({ vcpus: 2, memory: '8MiB', workload: 'random', accesses: 3000, confidential: true, convertRatio: 0.02, bandwidth: '1Gbit' });
    expect(r.verifyErrors).toEqual([]);
    const c = r.faultRecords.byKind.convert;
    expect(c.records).toBeGreaterThan(0);
    expect(c.roundTrips).toBe(0);
    expect(c.localResolved).toBe(c.records);
    expect(c.uffdLost).toBe(c.records); // a uffd never sees a conversion
  });

  it('uffd mode (threads): a walk reaches the handler as a WRITE on the page-table page; the walk is lost', async () => {
    const r = await simulate({
      vcpus: 1,
      memory: '8MiB',
      mode: 'uffd',
      workload: 'random',
      strategy: 'demand',
      accesses: 200,
      pageTables: true,
      arch: 'arm64',
    });
    expect(r.verifyErrors).toEqual([]);
    const w = r.faultRecords.byKind.walk;
    expect(w.records).toBeGreaterThanOrEqual(4); // the first access walks all four levels
    expect(w.uffdLost).toBe(w.records);
    expect(r.faultsByFlags.write).toBeGreaterThanOrEqual(w.records);
  });

  it('the event stream decodes the syndrome beside the memory_fault (both engines)', async () => {
    for (const engine of ['threads', 'virtual'] as const) {
      const faults: FaultEvent[] = [];
      const onEvent = (e: SimEvent) => {
        if (e.type === 'fault') faults.push(e);
      };
      await simulate(
        { engine, vcpus: 1, memory: '8MiB', workload: 'sequential', partition: true, network: 'none', accesses: 2000, arch: 'arm64', pageTables: true },
        { onEvent, eventIntervalMs: 5, eventIntervalUs: 50 },
      );
      expect(faults.length).toBeGreaterThan(0);
      const a = faults[0]!.record.arch!;
      expect(a.arch).toBe('arm64');
      expect(a.hardware.registers[0]!.name).toBe('ESR_EL2');
      expect(a.kvm.exitReason).toBe(39);
      expect(faults[0]!.record.kind).toBe('memory_fault');
    }
  });

  it('MTE (virtual): neutral takes two exits per tag fault, the syndrome record one; both restore every tag they fault on', async () => {
    // One vCPU: with two, one's restore can land between the other's two faults on the same page.
    const o: OptionsInput = { engine: 'virtual', vcpus: 1, memory: '8MiB', workload: 'random', accesses: 3000, arch: 'arm64', mteFraction: 1, network: 'none' };
    const n = await simulate({ ...o, faultRecord: 'neutral' });
    const s = await simulate({ ...o, faultRecord: 'syndrome' });
    expect(n.faultRecords.byKind.mte.records).toBe(2 * s.faultRecords.byKind.mte.records);
    expect(n.faultRecords.byKind.mte.avoidableRecords).toBe(s.faultRecords.byKind.mte.records);
    expect(s.faultRecords.byKind.mte.roundTrips).toBe(0);
    expect(n.verified && s.verified).toBe(true);
  });
});
