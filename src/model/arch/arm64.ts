/**
 * arm64: the stage-2 abort a vCPU takes, as ESR_EL2, FAR_EL2 and HPFAR_EL2 report it to KVM.
 * Layout: Arm ARM (DDI 0487) ESR_EL2 / HPFAR_EL2; Linux names: arch/arm64/include/asm/esr.h.
 *
 *   ESR_EL2  [55:32] ISS2 (data aborts: bit 9 TagAccess, FEAT_MTE_PERM)
 *            [31:26] EC   0x24 data abort from a lower EL, 0x20 instruction abort from a lower EL
 *            [25]    IL   32-bit instruction
 *            [24:0]  ISS  [24] ISV, [7] S1PTW, [6] WnR, [5:0] DFSC / IFSC
 *   FSC      0b0001LL translation fault at level LL (the stage-2 entry is invalid: page missing)
 *            0b0011LL permission fault at level LL (mapped, but not for this access)
 *   HPFAR_EL2  FIPA, bits [43:4] = IPA[51:12]: the faulting IPA's page
 *   FAR_EL2    the virtual address the guest used
 *
 * S1PTW: the stage-2 fault happened while the hardware walked the guest's own stage-1 table, so
 * HPFAR holds the IPA of the *descriptor* (the page-table page) and FAR the VA being translated.
 * The walk writes the descriptor when the guest has the hardware update the access flag (TCR_EL1.HA,
 * as Linux sets it where FEAT_HAFDBS exists), and WnR then describes that update, not the
 * instruction: KVM checks S1PTW before it reads WnR.
 * Confidential (CCA realms): the top IPA bit marks an unprotected (shared) access; this model uses
 * a 48-bit IPA space, bit 47.
 */
import { FK_EXEC, FK_MTE, FK_READ, FK_WALK, FK_WRITE } from './fault-kind.js';
import type { BitField } from './x86.js';

export const ESR_ELx_EC_SHIFT = 26;
export const ESR_ELx_EC_IABT_LOW = 0x20;
export const ESR_ELx_EC_DABT_LOW = 0x24;
export const ESR_ELx_IL = 1 << 25;
export const ESR_ELx_ISV = 1 << 24;
export const ESR_ELx_S1PTW = 1 << 7;
export const ESR_ELx_WNR = 1 << 6;
export const ESR_ELx_FSC = 0x3f;
export const ESR_ELx_FSC_FAULT = 0x04; // translation fault, level in the low two bits
export const ESR_ELx_FSC_PERM = 0x0c; // permission fault, level in the low two bits
/** ISS2 bit 9 (ESR bit 41): the abort was a tag access to a page mapped NoTagAccess. */
export const ESR_ELx_TagAccess_SHIFT = 9;
export const ESR_ELx_TagAccess = 1 << ESR_ELx_TagAccess_SHIFT;
/** CCA: the unprotected (shared) IPA bit of a 48-bit IPA space. */
export const CCA_UNPROTECTED_BIT = 2 ** 47;
const TWO_32 = 2 ** 32;

/** The stage-2 level a missing page's fault is reported at: the last one (the tables above exist). */
export const STAGE2_FAULT_LEVEL = 3;

/**
 * ESR_EL2 of the abort, as a number (ISS2 above bit 31 is added by multiplication: JS bit operators
 * are 32-bit). `write` is the instruction's direction; for a walk, WnR is the descriptor update.
 */
export function esrOf(kind: number, exec: boolean, write: boolean): number {
  const ec = exec ? ESR_ELx_EC_IABT_LOW : ESR_ELx_EC_DABT_LOW;
  let iss: number;
  let iss2 = 0;
  if (kind === FK_WALK) {
    // An instruction abort's ISS has no WnR (bit 6 is RES0): only a data abort reports the update.
    iss = ESR_ELx_S1PTW | (exec ? 0 : ESR_ELx_WNR) | (ESR_ELx_FSC_FAULT + STAGE2_FAULT_LEVEL);
  } else if (kind === FK_MTE) {
    // The page is mapped (its data arrived) without tag access: a permission fault with TagAccess.
    iss = (write ? ESR_ELx_WNR : 0) | (ESR_ELx_FSC_PERM + STAGE2_FAULT_LEVEL);
    iss2 = ESR_ELx_TagAccess;
  } else {
    iss = (!exec && write ? ESR_ELx_WNR : 0) | (ESR_ELx_FSC_FAULT + STAGE2_FAULT_LEVEL);
  }
  return (((ec << ESR_ELx_EC_SHIFT) | ESR_ELx_IL | iss) >>> 0) + iss2 * TWO_32;
}

/** HPFAR_EL2 for a faulting IPA: FIPA [43:4] holds IPA[51:12]. */
export function hpfarOf(ipa: number): number {
  return Math.floor(ipa / 4096) * 16;
}

/** The IPA's page back from HPFAR_EL2 (what KVM's kvm_vcpu_get_fault_ipa computes). */
export function ipaOfHpfar(hpfar: number): number {
  return Math.floor(hpfar / 16) * 4096;
}

/** The IPA the hardware reports: with the unprotected bit for a shared realm access. */
export function armFaultIpa(gpa: number, sharedAccess: boolean): number {
  return sharedAccess ? gpa + CCA_UNPROTECTED_BIT : gpa;
}

export const esrLow = (esr: number): number => esr % TWO_32;
export const esrIss2 = (esr: number): number => Math.floor(esr / TWO_32);

const FSC_NAMES = new Map<number, string>([
  [0x04, 'translation fault'],
  [0x0c, 'permission fault'],
  [0x08, 'access flag fault'],
]);

/** ESR_EL2, field by field (the demo's decoder and the tests read it). */
export function decodeEsr(esr: number): BitField[] {
  const lo = esrLow(esr),
    iss2 = esrIss2(esr);
  const ec = lo >>> ESR_ELx_EC_SHIFT;
  const fsc = lo & ESR_ELx_FSC;
  const s1ptw = (lo >>> 7) & 1;
  const fscName = `${FSC_NAMES.get(fsc & 0x3c) ?? 'other'}, level ${fsc & 3}`;
  const out: BitField[] = [
    {
      bits: '31:26',
      name: 'EC',
      value: ec,
      meaning: ec === ESR_ELx_EC_DABT_LOW ? 'data abort from a lower EL' : ec === ESR_ELx_EC_IABT_LOW ? 'instruction abort from a lower EL' : 'other',
    },
    { bits: '25', name: 'IL', value: (lo >>> 25) & 1, meaning: '32-bit instruction' },
    { bits: '7', name: 'S1PTW', value: s1ptw, meaning: s1ptw ? "on the guest's stage-1 table walk: HPFAR is the descriptor's IPA" : 'not on a stage-1 walk' },
    { bits: '5:0', name: ec === ESR_ELx_EC_IABT_LOW ? 'IFSC' : 'DFSC', value: fsc, meaning: fscName },
  ];
  if (ec === ESR_ELx_EC_DABT_LOW) {
    out.splice(2, 0, { bits: '24', name: 'ISV', value: (lo >>> 24) & 1, meaning: 'no instruction syndrome given (KVM needs one only to emulate MMIO)' });
    out.splice(4, 0, {
      bits: '6',
      name: 'WnR',
      value: (lo >>> 6) & 1,
      meaning: s1ptw ? 'the walk writes the descriptor (hardware access flag)' : (lo >>> 6) & 1 ? 'a write' : 'a read',
    });
    out.push({
      bits: '41 (ISS2 9)',
      name: 'TagAccess',
      value: (iss2 >>> ESR_ELx_TagAccess_SHIFT) & 1,
      meaning: (iss2 >>> ESR_ELx_TagAccess_SHIFT) & 1 ? 'an MTE tag access to a page mapped NoTagAccess' : 'not a tag access',
    });
  }
  return out;
}

/** The fault kind the syndrome describes (the inverse of esrOf). */
export function kindOfEsr(esr: number): number {
  const lo = esrLow(esr);
  if (lo & ESR_ELx_S1PTW) return FK_WALK;
  if ((esrIss2(esr) & ESR_ELx_TagAccess) !== 0) return FK_MTE;
  if (lo >>> ESR_ELx_EC_SHIFT === ESR_ELx_EC_IABT_LOW) return FK_EXEC;
  return lo & ESR_ELx_WNR ? FK_WRITE : FK_READ;
}
