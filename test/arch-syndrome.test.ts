// Goal: every fault kind is encoded with its architecture's real bit layout: the x86 EPT violation's
// exit qualification (Intel SDM, "Exit Qualification for EPT Violations") and arm64's ESR_EL2 /
// HPFAR_EL2 (Arm ARM; Linux arch/arm64/include/asm/esr.h), and each decodes back to its kind.
// Method: the encoders are pure; each kind's value is written out here bit by bit from the
// documented layout (not from the encoder) and compared, then decoded field by field.
import { describe, expect, it } from 'vitest';
import { CCA_UNPROTECTED_BIT, decodeEsr, esrIss2, esrLow, esrOf, hpfarOf, ipaOfHpfar, kindOfEsr } from '../src/model/arch/arm64.js';
import { FK_CONVERT, FK_EXEC, FK_MTE, FK_READ, FK_WALK, FK_WRITE } from '../src/model/arch/fault-kind.js';
import {
  decodeExitQualification,
  eptExitQualification,
  eptGuestPhysical,
  EXIT_REASON_EPT_VIOLATION,
  kindOfExitQualification,
  TDX_SHARED_BIT,
} from '../src/model/arch/x86.js';

const bit = (n: number) => 2 ** n;

describe('x86: EPT violation exit qualification', () => {
  // bit 0 read, 1 write, 2 fetch, 3-5 EPT entry RWX (0: not present), 7 GLA valid, 8 translated (0: paging-structure access)
  const cases: Array<[string, number, boolean, boolean, number]> = [
    ['data read', FK_READ, false, false, bit(0) + bit(7) + bit(8)],
    ['data write', FK_WRITE, false, true, bit(1) + bit(7) + bit(8)],
    ['instruction fetch', FK_EXEC, true, false, bit(2) + bit(7) + bit(8)],
    ['page walk (EPT A/D on: a write to the paging-structure entry)', FK_WALK, false, false, bit(1) + bit(7)],
    ['page walk of an instruction fetch', FK_WALK, true, false, bit(1) + bit(7)],
    ['private/shared mismatch on a read', FK_CONVERT, false, false, bit(0) + bit(7) + bit(8)],
  ];
  for (const [name, kind, exec, write, want] of cases) {
    it(name, () => {
      const q = eptExitQualification(kind, exec, write);
      expect(q).toBe(want);
      expect(q & 0b111000).toBe(0); // not present: the entry allowed nothing
      expect(kindOfExitQualification(q)).toBe(kind === FK_CONVERT ? FK_READ : kind);
    });
  }
  it('decodes field by field, bit 8 telling a walk from a data access', () => {
    const walk = decodeExitQualification(eptExitQualification(FK_WALK, false, false));
    expect(walk.find((f) => f.name === 'GVA_TRANSLATED')).toMatchObject({ value: 0, meaning: expect.stringMatching(/paging-structure/) });
    expect(walk.find((f) => f.name === 'ACC_WRITE')!.value).toBe(1);
    const read = decodeExitQualification(eptExitQualification(FK_READ, false, false));
    expect(read.find((f) => f.name === 'GVA_TRANSLATED')!.value).toBe(1);
    expect(read.find((f) => f.name === 'RWX')!.meaning).toMatch(/not present/);
  });
  it('uses VM-exit reason 48 and the TDX shared bit (GPA bit 47)', () => {
    expect(EXIT_REASON_EPT_VIOLATION).toBe(48);
    expect(eptGuestPhysical(0x1000, true)).toBe(0x1000 + 2 ** 47);
    expect(TDX_SHARED_BIT).toBe(2 ** 47);
    expect(eptGuestPhysical(0x1000, false)).toBe(0x1000);
  });
  it('has no MTE', () => {
    expect(() => eptExitQualification(FK_MTE, false, false)).toThrow(/arm64 only/);
  });
});

describe('arm64: ESR_EL2, HPFAR_EL2', () => {
  // ESR: EC [31:26] (0x24 DABT_LOW, 0x20 IABT_LOW), IL [25], ISS: S1PTW [7], WnR [6], FSC [5:0]
  // (0b0001LL translation, 0b0011LL permission); ISS2 [55:32], TagAccess = ISS2 bit 9 = ESR bit 41.
  const DABT = 0x24 * bit(26),
    IABT = 0x20 * bit(26),
    IL = bit(25),
    S1PTW = bit(7),
    WNR = bit(6);
  const TRANS_L3 = 0b000111,
    PERM_L3 = 0b001111;
  const cases: Array<[string, number, boolean, boolean, number]> = [
    ['data read: translation fault, level 3', FK_READ, false, false, DABT + IL + TRANS_L3],
    ['data write: WnR set', FK_WRITE, false, true, DABT + IL + WNR + TRANS_L3],
    ['instruction fetch: an instruction abort', FK_EXEC, true, false, IABT + IL + TRANS_L3],
    ['S1PTW on a data access: S1PTW, WnR for the access-flag update', FK_WALK, false, false, DABT + IL + S1PTW + WNR + TRANS_L3],
    ['S1PTW on an instruction fetch: no WnR in an instruction abort', FK_WALK, true, false, IABT + IL + S1PTW + TRANS_L3],
    ['MTE NoTagAccess on a read: permission fault plus ISS2.TagAccess', FK_MTE, false, false, DABT + IL + PERM_L3 + bit(41)],
    ['MTE NoTagAccess on a write', FK_MTE, false, true, DABT + IL + WNR + PERM_L3 + bit(41)],
  ];
  for (const [name, kind, exec, write, want] of cases) {
    it(name, () => {
      const esr = esrOf(kind, exec, write);
      expect(esr).toBe(want);
      expect(kindOfEsr(esr)).toBe(kind);
    });
  }
  it('the known values: 0x92000007, 0x920000c7, 0x82000007', () => {
    expect(esrOf(FK_READ, false, false)).toBe(0x92000007);
    expect(esrOf(FK_WALK, false, false)).toBe(0x920000c7);
    expect(esrOf(FK_EXEC, true, false)).toBe(0x82000007);
    expect(esrIss2(esrOf(FK_MTE, false, false))).toBe(1 << 9);
    expect(esrLow(esrOf(FK_MTE, false, false))).toBe(0x9200000f);
  });
  it('HPFAR_EL2 holds IPA[51:12] in FIPA [43:4]', () => {
    expect(hpfarOf(0x1234_5678)).toBe(0x12345 << 4);
    expect(ipaOfHpfar(hpfarOf(0x7_1234_5000))).toBe(0x7_1234_5000);
    expect(hpfarOf(0x1000 + CCA_UNPROTECTED_BIT)).toBe((2 ** 35 + 1) * 16);
  });
  it('decodes ESR_EL2 field by field', () => {
    const f = Object.fromEntries(decodeEsr(esrOf(FK_WALK, false, false)).map((x) => [x.name, x]));
    expect(f.EC).toMatchObject({ value: 0x24, meaning: 'data abort from a lower EL' });
    expect(f.S1PTW!.value).toBe(1);
    expect(f.DFSC).toMatchObject({ value: 7, meaning: 'translation fault, level 3' });
    expect(f.TagAccess!.value).toBe(0);
    const mte = Object.fromEntries(decodeEsr(esrOf(FK_MTE, false, true)).map((x) => [x.name, x]));
    expect(mte.DFSC!.meaning).toBe('permission fault, level 3');
    expect(mte.TagAccess!.value).toBe(1);
    const i = decodeEsr(esrOf(FK_EXEC, true, false)).map((x) => x.name);
    expect(i).toContain('IFSC');
    expect(i).not.toContain('WnR');
  });
});
