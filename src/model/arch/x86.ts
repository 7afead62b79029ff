/**
 * x86 (Intel VMX): the EPT violation a vCPU takes on a guest-physical page with no EPT mapping.
 * The hardware leaves VM-exit reason 48 and three VMCS fields KVM reads: the exit qualification,
 * the guest-physical address and the guest linear address. Bit layout: Intel SDM vol. 3C, "Exit
 * Qualification for EPT Violations"; KVM decodes it in handle_ept_violation (arch/x86/kvm/vmx/).
 *
 *   bit 0 data read   1 data write   2 instruction fetch
 *   bits 3-5  the EPT entry was readable / writable / executable (all 0: not present, our case)
 *   bit 7  the guest linear address field is valid
 *   bit 8  (bit 7 set) 1: the access was to the linear address's translation (the data page);
 *          0: to a paging-structure entry during the guest's own page walk
 *
 * With EPT accessed/dirty flags enabled (KVM's default where supported), the CPU's accesses to
 * guest paging-structure entries count as writes: a walk that faults reports bit 1.
 * Confidential (TDX): the shared bit of the GPA (bit 47 with a 48-bit GPA width) marks a shared
 * access; KVM strips it and reports PRIVATE when it is clear.
 */
import { FK_EXEC, FK_MTE, FK_READ, FK_WALK, FK_WRITE } from './fault-kind.js';

export const EXIT_REASON_EPT_VIOLATION = 48;
export const EPT_VIOLATION_ACC_READ = 1 << 0;
export const EPT_VIOLATION_ACC_WRITE = 1 << 1;
export const EPT_VIOLATION_ACC_INSTR = 1 << 2;
export const EPT_VIOLATION_READABLE = 1 << 3;
export const EPT_VIOLATION_WRITABLE = 1 << 4;
export const EPT_VIOLATION_EXECUTABLE = 1 << 5;
export const EPT_VIOLATION_GVA_IS_VALID = 1 << 7;
export const EPT_VIOLATION_GVA_TRANSLATED = 1 << 8;
/** TDX: GPA bit 47 set = a shared access (GPAW 48). 2^47 stays exact in a double. */
export const TDX_SHARED_BIT = 2 ** 47;

/**
 * The exit qualification of an EPT violation on a not-present EPT entry (bits 3-5 clear).
 * `kind` FK_WALK: a paging-structure access (bit 8 clear), a write with EPT A/D flags on.
 */
export function eptExitQualification(kind: number, exec: boolean, write: boolean): number {
  if (kind === FK_MTE) throw new Error('assertion failed: MTE is arm64 only');
  if (kind === FK_WALK) return EPT_VIOLATION_ACC_WRITE | EPT_VIOLATION_GVA_IS_VALID;
  const acc = exec ? EPT_VIOLATION_ACC_INSTR : write ? EPT_VIOLATION_ACC_WRITE : EPT_VIOLATION_ACC_READ;
  return acc | EPT_VIOLATION_GVA_IS_VALID | EPT_VIOLATION_GVA_TRANSLATED;
}

/** GUEST_PHYSICAL_ADDRESS as the CPU reports it: with the shared bit for a shared TDX access. */
export function eptGuestPhysical(gpa: number, sharedAccess: boolean): number {
  return sharedAccess ? gpa + TDX_SHARED_BIT : gpa;
}

export interface BitField {
  bits: string;
  name: string;
  value: number;
  meaning: string;
}

/** The exit qualification, field by field (the demo's decoder and the tests read it). */
export function decodeExitQualification(q: number): BitField[] {
  const bit = (b: number) => (q >>> b) & 1;
  const gvaValid = bit(7) === 1;
  return [
    { bits: '0', name: 'ACC_READ', value: bit(0), meaning: 'the access was a data read' },
    { bits: '1', name: 'ACC_WRITE', value: bit(1), meaning: 'the access was a data write (a page walk with EPT A/D flags counts as one)' },
    { bits: '2', name: 'ACC_INSTR', value: bit(2), meaning: 'the access was an instruction fetch' },
    {
      bits: '5:3',
      name: 'RWX',
      value: (q >>> 3) & 7,
      meaning: (q >>> 3) & 7 ? 'the EPT entry allowed some access' : 'EPT entry not present: the page is missing',
    },
    { bits: '7', name: 'GVA_IS_VALID', value: bit(7), meaning: 'the guest linear address field is valid' },
    {
      bits: '8',
      name: 'GVA_TRANSLATED',
      value: bit(8),
      meaning: !gvaValid
        ? '(meaningless without bit 7)'
        : bit(8)
          ? 'the access was to the translated address (the data page)'
          : 'the access was to a guest paging-structure entry (page walk)',
    },
  ];
}

/** The fault kind the hardware syndrome describes (the inverse of eptExitQualification). */
export function kindOfExitQualification(q: number): number {
  if (q & EPT_VIOLATION_GVA_IS_VALID && !(q & EPT_VIOLATION_GVA_TRANSLATED)) return FK_WALK;
  if (q & EPT_VIOLATION_ACC_INSTR) return FK_EXEC;
  return q & EPT_VIOLATION_ACC_WRITE ? FK_WRITE : FK_READ;
}
