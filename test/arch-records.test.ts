// Goal: what each fault kind becomes on its way to userspace: the memory_fault KVM builds (the v7
// arch-neutral flags, or the syndrome-carrying record with the proposed MTE flag), what a userfaultfd
// handler would read instead and what it loses; and the guest planner meets the obstacles of one
// access in the hardware's and KVM's order, resolving each as a VMM would.
// Method: the builder, the stage-1 table and the planner are pure; they run here on hand-made page
// states (a Set of present pages), with no engine.
import { describe, expect, it } from 'vitest';
import { KindCounters, KC_AVOID_RECORDS, KC_AVOID_ROUND_TRIPS, summarizeKinds } from '../src/model/arch/counters.js';
import { FK_CONVERT, FK_EXEC, FK_MTE, FK_NONE, FK_READ, FK_WALK, FK_WRITE } from '../src/model/arch/fault-kind.js';
import { ArchGuest, RES_CONVERT, RES_FETCH, RES_REENTER, RES_RESTORE_TAGS } from '../src/model/arch/guest.js';
import {
  ARCH_ARM64,
  ARCH_X86,
  FaultRecordBuilder,
  RECORD_NEUTRAL,
  RECORD_SYNDROME,
  UFFD_LOST_EXEC,
  UFFD_LOST_INVISIBLE,
  UFFD_LOST_NONE,
  UFFD_LOST_WALK,
} from '../src/model/arch/record.js';
import { ATTR_PRIVATE, ATTR_SHARED, initArchState, isTaggedPage, TAGS_OK } from '../src/model/arch/regions.js';
import { Stage1Table, VA_BASE } from '../src/model/arch/stage1.js';
import { decodeArchFault } from '../src/model/arch/decode.js';
import {
  Access,
  KVM_MEMORY_EXIT_FLAG_EXEC,
  KVM_MEMORY_EXIT_FLAG_MTE,
  KVM_MEMORY_EXIT_FLAG_PRIVATE,
  KVM_MEMORY_EXIT_FLAG_READ,
  KVM_MEMORY_EXIT_FLAG_WRITE,
  UFFD_PAGEFAULT_FLAG_WRITE,
} from '../src/model/uapi.js';

const R = KVM_MEMORY_EXIT_FLAG_READ,
  W = KVM_MEMORY_EXIT_FLAG_WRITE,
  X = KVM_MEMORY_EXIT_FLAG_EXEC;

describe('the fault record of each kind', () => {
  const build = (arch: number, record: number, kind: number, access: Access, isPrivate = false, confidential = false) => ({
    ...new FaultRecordBuilder(arch, record, 4096, confidential).build(kind, access, 3, 0x5000, 0x5000, VA_BASE + 0x5000, isPrivate),
  });

  it('neutral: exactly one of READ/WRITE/EXEC; a walk is a WRITE on the page-table page; MTE is the access', () => {
    expect(build(ARCH_ARM64, RECORD_NEUTRAL, FK_READ, Access.Read).flags).toBe(R);
    expect(build(ARCH_ARM64, RECORD_NEUTRAL, FK_WRITE, Access.Write).flags).toBe(W);
    expect(build(ARCH_ARM64, RECORD_NEUTRAL, FK_EXEC, Access.Exec).flags).toBe(X);
    expect(build(ARCH_ARM64, RECORD_NEUTRAL, FK_WALK, Access.Read).flags).toBe(W);
    expect(build(ARCH_ARM64, RECORD_NEUTRAL, FK_WALK, Access.Exec).flags).toBe(W);
    expect(build(ARCH_ARM64, RECORD_NEUTRAL, FK_MTE, Access.Read).flags).toBe(R);
    expect(build(ARCH_ARM64, RECORD_NEUTRAL, FK_MTE, Access.Write).flags).toBe(W);
    expect(build(ARCH_X86, RECORD_NEUTRAL, FK_WALK, Access.Write).flags).toBe(W);
  });
  it('syndrome: MTE is READ = WRITE = EXEC = 0 plus the MTE flag; the rest as neutral', () => {
    const mte = build(ARCH_ARM64, RECORD_SYNDROME, FK_MTE, Access.Write);
    expect(mte.flags).toBe(KVM_MEMORY_EXIT_FLAG_MTE);
    expect(mte.flags & (R | W | X)).toBe(0);
    expect(mte.neutralFlags).toBe(W);
    expect(build(ARCH_ARM64, RECORD_SYNDROME, FK_WALK, Access.Read).flags).toBe(W);
  });
  it('PRIVATE follows the access in a confidential guest; a shared access carries the shared bit in the hardware address', () => {
    const priv = build(ARCH_X86, RECORD_NEUTRAL, FK_CONVERT, Access.Read, true, true);
    expect(priv.flags).toBe(R | KVM_MEMORY_EXIT_FLAG_PRIVATE);
    expect(priv.hwAddress).toBe(0x5000);
    const shared = build(ARCH_X86, RECORD_NEUTRAL, FK_CONVERT, Access.Write, false, true);
    expect(shared.flags).toBe(W);
    expect(shared.hwAddress).toBe(0x5000 + 2 ** 47);
    expect(shared.gpa).toBe(0x5000); // KVM strips the shared bit from memory_fault.gpa
  });
  it('what a uffd handler sees and loses', () => {
    const u = (kind: number, access: Access, isPrivate = false) => {
      const r = build(ARCH_ARM64, RECORD_NEUTRAL, kind, access, isPrivate, isPrivate);
      return [r.uffdSees, r.uffdFlags, r.uffdLost];
    };
    expect(u(FK_READ, Access.Read)).toEqual([true, 0, UFFD_LOST_NONE]);
    expect(u(FK_WRITE, Access.Write)).toEqual([true, UFFD_PAGEFAULT_FLAG_WRITE, UFFD_LOST_NONE]);
    expect(u(FK_EXEC, Access.Exec)).toEqual([true, 0, UFFD_LOST_EXEC]);
    expect(u(FK_WALK, Access.Read)).toEqual([true, UFFD_PAGEFAULT_FLAG_WRITE, UFFD_LOST_WALK]);
    expect(u(FK_MTE, Access.Read)).toEqual([false, 0, UFFD_LOST_INVISIBLE]);
    expect(u(FK_CONVERT, Access.Read, true)).toEqual([false, 0, UFFD_LOST_INVISIBLE]);
    expect(u(FK_READ, Access.Read, true)).toEqual([false, 0, UFFD_LOST_INVISIBLE]); // guest_memfd has no uffd
  });
  it('the decoded view puts the raw syndrome, the memory_fault and the uffd view side by side', () => {
    const b = new FaultRecordBuilder(ARCH_ARM64, RECORD_NEUTRAL, 4096);
    const d = decodeArchFault(b.build(FK_WALK, Access.Read, 1, 0x7000, 0x7008, VA_BASE + 0x3000, false), ARCH_ARM64, RECORD_NEUTRAL, RES_FETCH);
    expect(d.kind).toBe('walk');
    expect(d.hardware.registers.map((r) => r.name)).toEqual(['ESR_EL2', 'FAR_EL2', 'HPFAR_EL2']);
    expect(d.hardware.registers[2]!.value).toBe(0x7 << 4);
    expect(d.hardware.registers[1]!.value).toBe(VA_BASE + 0x3000);
    expect(d.kvm).toMatchObject({ exitReason: 39, flagNames: ['WRITE'], gpa: 0x7000, carriesSyndrome: false });
    expect(d.uffd).toMatchObject({ sees: true, flagNames: ['WRITE'], lost: expect.stringMatching(/walk lost/) });
    const x = decodeArchFault(
      new FaultRecordBuilder(ARCH_X86, RECORD_SYNDROME, 4096).build(FK_EXEC, Access.Exec, 3, 0x9000, 0x9000, 1, false),
      ARCH_X86,
      RECORD_SYNDROME,
      RES_FETCH,
    );
    expect(x.hardware.registers.map((r) => r.name)).toEqual(['exit reason', 'exit qualification', 'GUEST_LINEAR_ADDRESS', 'GUEST_PHYSICAL_ADDRESS']);
    expect(x.hardware.registers[0]!.value).toBe(48);
  });
});

describe('the stage-1 table in guest memory', () => {
  it('lives in the top pages: root highest, then level 1, 2, the leaves', () => {
    const t = new Stage1Table(4096); // 16 MiB: 8 leaves, one table at each level above
    expect(t.perLevel).toEqual([1, 1, 1, 8]);
    expect(t.tablePages).toBe(11);
    expect(t.tablePage(0, 0)).toBe(4095);
    expect(t.tablePage(1, 1234)).toBe(4094);
    expect(t.tablePage(2, 4000)).toBe(4093);
    expect(t.tablePage(3, 0)).toBe(4085);
    expect(t.tablePage(3, 511)).toBe(4085);
    expect(t.tablePage(3, 512)).toBe(4086);
    expect(t.firstTablePage).toBe(4085);
    expect(t.levelOf(4095)).toBe(0);
    expect(t.levelOf(4090)).toBe(3);
    expect(t.levelOf(100)).toBe(-1);
  });
  it('indexes descriptors by the VA bits of each level', () => {
    const t = new Stage1Table(4096);
    // VA_BASE = 0x7f00_0000_0000: level-0 index 254, the rest 0 at page 0.
    expect([0, 1, 2, 3].map((l) => t.entryIndex(l, 0))).toEqual([254, 0, 0, 0]);
    expect(t.entryIndex(3, 513)).toBe(1);
    expect(t.entryIndex(2, 513)).toBe(1);
  });
});

describe('the guest planner: one access, its obstacles in order', () => {
  const present = new Set<number>();
  const pages = { isPresent: (p: number) => present.has(p) };
  const opts = (o: Partial<{ faultRecord: 'neutral' | 'syndrome'; confidential: boolean; convertRatio: number }> = {}) => ({
    seed: 1,
    execRatio: 0,
    convertRatio: 0,
    faultRecord: 'neutral' as const,
    confidential: false,
    ...o,
  });

  it('walks root to leaf, then the data page; each resolution retried from the start', () => {
    present.clear();
    const t = new Stage1Table(4096),
      counters = new KindCounters();
    const g = new ArchGuest(opts(), 0, t, { attrs: null, tags: null }, counters);
    g.begin(100, Access.Read);
    const seen: Array<[number, number]> = [];
    while (g.obstacle(pages) !== FK_NONE) {
      seen.push([g.obKind, g.obPage]);
      expect(g.resolution()).toBe(RES_FETCH);
      g.noteAvoidable(g.obKind, RES_FETCH, true);
      present.add(g.obPage);
    }
    expect(seen).toEqual([
      [FK_WALK, 4095],
      [FK_WALK, 4094],
      [FK_WALK, 4093],
      [FK_WALK, 4085],
      [FK_READ, 100],
    ]);
    // A syndrome record would have taken one record and one round trip for all five pages.
    expect(counters.get(FK_WALK, KC_AVOID_RECORDS)).toBe(4);
    expect(counters.get(FK_WALK, KC_AVOID_ROUND_TRIPS)).toBe(4);
  });

  it('syndrome: the first walk fault brings the rest of the walk and the data page', () => {
    present.clear();
    present.add(4095); // the root is there
    const g = new ArchGuest(opts({ faultRecord: 'syndrome' }), 0, new Stage1Table(4096), { attrs: null, tags: null }, new KindCounters());
    g.begin(600, Access.Write);
    expect(g.obstacle(pages)).toBe(FK_WALK);
    expect(g.obLevel).toBe(1);
    expect(g.collectAhead(pages)).toBe(3);
    expect([...g.ahead.subarray(0, 3)]).toEqual([4093, 4086, 600]);
  });

  it('MTE: a tag fault on a present page; neutral re-enters once blind, syndrome restores at once', () => {
    const cfg = { mode: 'exit' as const, pages: 4096, pageSize: 4096, seed: 1, confidential: false, sharedFraction: 0, mteFraction: 1 };
    for (const [record, want] of [
      ['neutral', [RES_REENTER, RES_RESTORE_TAGS]],
      ['syndrome', [RES_RESTORE_TAGS]],
    ] as const) {
      present.clear();
      present.add(7);
      const state = initArchState(cfg, new ArrayBuffer(4096), null);
      const g = new ArchGuest(opts({ faultRecord: record }), 0, null, state, new KindCounters());
      g.begin(7, Access.Read);
      const got: number[] = [];
      while (g.obstacle(pages) !== FK_NONE) {
        expect(g.obKind).toBe(FK_MTE);
        const res = g.resolution();
        got.push(res);
        g.applyLocal(res);
      }
      expect(got).toEqual(want);
      expect(state.tags![7]).toBe(TAGS_OK);
      g.begin(7, Access.Exec); // instruction fetches are not tag-checked
    }
    expect(isTaggedPage(cfg, 0)).toBe(true);
  });

  it('confidential: a mismatch is a conversion (before the missing page), never a fetch', () => {
    present.clear();
    const cfg = { mode: 'exit' as const, pages: 4096, pageSize: 4096, seed: 1, confidential: true, sharedFraction: 0, mteFraction: 0 };
    const state = initArchState(cfg, new ArrayBuffer(4096), null);
    expect(state.attrs![9]).toBe(ATTR_PRIVATE);
    const g = new ArchGuest(opts({ confidential: true, convertRatio: 1 }), 0, null, state, new KindCounters());
    g.begin(9, Access.Read); // every access converts: the guest wants page 9 shared
    expect(g.obstacle(pages)).toBe(FK_CONVERT);
    expect(g.obPrivate).toBe(false);
    expect(g.resolution()).toBe(RES_CONVERT);
    g.applyLocal(RES_CONVERT);
    expect(state.attrs![9]).toBe(ATTR_SHARED);
    expect(g.obstacle(pages)).toBe(FK_READ); // then the page itself, a shared access
    expect(g.obPrivate).toBe(false);
  });

  it('the run summary adds the vCPUs up per kind', () => {
    const a = new KindCounters(),
      b = new KindCounters();
    a.record(FK_WALK, 3, true);
    b.record(FK_MTE, 0, true);
    b.record(FK_READ, 1, false);
    const s = summarizeKinds('arm64', 'syndrome', [a.c, b.c, undefined]);
    expect(s.byKind.walk).toMatchObject({ records: 1, roundTrips: 1, pagesFetched: 3, uffdLost: 1 });
    expect(s.byKind.mte).toMatchObject({ records: 1, roundTrips: 0, localResolved: 1 });
    expect(s).toMatchObject({ records: 3, roundTrips: 2, uffdLost: 2 });
  });
});
