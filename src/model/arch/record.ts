/**
 * From the hardware fault to what userspace is told: the fault-record builder both engines' vCPU
 * actors call on every fault (never per access), filling one reused FaultRecord per vCPU.
 *
 *   hardware syndrome  ──KVM──▶  exit_reason 39 + memory_fault {flags, gpa, size}   (exit mode)
 *   (ESR_EL2/FAR/HPFAR,          what a userfaultfd handler would read instead:      (uffd mode)
 *    or EPT exit qualification)  uffd_msg {flags: WRITE / 0, address}, or nothing at all
 *
 * Two records, the two sides of the v7 thread's debate (--fault-record):
 *  - neutral: the series' arch-neutral flags, exactly one of READ / WRITE / EXEC (write wins, then
 *    exec, then read), plus the upstream PRIVATE bit. A stage-1 walk is a WRITE on the page-table
 *    page (the walk writes the descriptor's access flag); an MTE tag fault is the access's READ or
 *    WRITE on a page that is already there.
 *  - syndrome: the same memory_fault plus the raw syndrome (ESR_EL2, FAR_EL2, HPFAR_EL2 or the exit
 *    qualification, linear and physical address), and the flags the thread proposed for arm64:
 *    an MTE tag fault as READ = WRITE = EXEC = 0 plus an MTE flag.
 */
import {
  Access,
  KVM_EXIT_MEMORY_FAULT,
  KVM_MEMORY_EXIT_FLAG_MTE,
  KVM_MEMORY_EXIT_FLAG_PRIVATE,
  KVM_MEMORY_EXIT_FLAG_WRITE,
  memoryFaultFlags,
  UFFD_PAGEFAULT_FLAG_WRITE,
} from '../uapi.js';
import { armFaultIpa, esrLow, esrOf, hpfarOf } from './arm64.js';
import { FK_EXEC, FK_MTE, FK_WALK, FK_WRITE, isFetchKind } from './fault-kind.js';
import { eptExitQualification, eptGuestPhysical, EXIT_REASON_EPT_VIOLATION } from './x86.js';

export const ARCH_X86 = 0;
export const ARCH_ARM64 = 1;
export const ARCH_NAMES = ['x86', 'arm64'] as const;
export type ArchName = (typeof ARCH_NAMES)[number];
export const RECORD_NEUTRAL = 0;
export const RECORD_SYNDROME = 1;
export const RECORD_NAMES = ['neutral', 'syndrome'] as const;
export type RecordName = (typeof RECORD_NAMES)[number];

/** Why a uffd handler could not see a fault as it was (UFFD_LOST_NONE: nothing lost). */
export const UFFD_LOST_NONE = 0;
export const UFFD_LOST_EXEC = 1; // an instruction fetch reads as a plain read
export const UFFD_LOST_WALK = 2; // a walk reads as a WRITE on the page-table page; the VA is gone
export const UFFD_LOST_INVISIBLE = 3; // not a userfaultfd event at all (MTE, conversion, guest_memfd)
export const UFFD_LOST_REASONS = [
  'nothing lost',
  'EXEC lost: reads as a read',
  'walk lost: a WRITE on the page-table page, no VA',
  'not a userfaultfd event',
] as const;

/** One fault, every view of it. Reused: build() overwrites every field. */
export class FaultRecord {
  kind = 0;
  access: Access = Access.Read;
  /** Walk level (0 = root) for FK_WALK; 3 otherwise. */
  level = 3;
  isPrivate = false;
  // ---- what KVM_RUN hands back: exit_reason and kvm_run.memory_fault
  exitReason = KVM_EXIT_MEMORY_FAULT;
  flags = 0;
  /** The arch-neutral flags, whatever this run's record is (the decoder shows both). */
  neutralFlags = 0;
  gpa = 0;
  size = 0;
  // ---- the hardware's view
  /** x86: the VM-exit reason (48); arm64: ESR_EL2's exception class. */
  hwReason = 0;
  /** ESR_EL2 (ISS2 above bit 31) or the EPT violation's exit qualification. */
  syndrome = 0;
  /** FAR_EL2 or GUEST_LINEAR_ADDRESS. */
  va = 0;
  /** The address the hardware reports (shared bit included): GUEST_PHYSICAL_ADDRESS or HPFAR's IPA. */
  hwAddress = 0;
  /** arm64 HPFAR_EL2 (0 on x86). */
  hpfar = 0;
  // ---- what a userfaultfd handler would read instead
  uffdSees = true;
  uffdFlags = 0;
  uffdLost = UFFD_LOST_NONE;
}

export class FaultRecordBuilder {
  readonly rec = new FaultRecord();
  /** `confidential`: shared accesses carry the shared bit (TDX GPA bit 47, CCA's unprotected IPA bit). */
  constructor(
    readonly arch: number,
    readonly record: number,
    readonly pageSize: number,
    readonly confidential = false,
  ) {}

  /**
   * Fills the record of a fault of `kind` by an `access` on page `gpa`. `address` is the byte the
   * hardware saw (for a walk: the descriptor's IPA), `va` the guest virtual address, `isPrivate`
   * whether the access was private in a confidential guest.
   */
  build(kind: number, access: Access, level: number, gpa: number, address: number, va: number, isPrivate: boolean): FaultRecord {
    const r = this.rec;
    const exec = access === Access.Exec,
      write = access === Access.Write;
    r.kind = kind;
    r.access = access;
    r.level = level;
    r.isPrivate = isPrivate;
    const neutral = kind === FK_WALK ? KVM_MEMORY_EXIT_FLAG_WRITE | (isPrivate ? KVM_MEMORY_EXIT_FLAG_PRIVATE : 0) : memoryFaultFlags(access, isPrivate);
    r.neutralFlags = neutral;
    r.flags = kind === FK_MTE && this.record === RECORD_SYNDROME ? KVM_MEMORY_EXIT_FLAG_MTE : neutral;
    r.exitReason = KVM_EXIT_MEMORY_FAULT;
    r.gpa = gpa;
    r.size = this.pageSize;
    r.va = va;
    const shared = this.confidential && !isPrivate;
    if (this.arch === ARCH_ARM64) {
      r.syndrome = esrOf(kind, exec, write);
      r.hwReason = esrLow(r.syndrome) >>> 26;
      r.hwAddress = armFaultIpa(address, shared);
      r.hpfar = hpfarOf(r.hwAddress);
    } else {
      r.syndrome = eptExitQualification(kind, exec, write);
      r.hwReason = EXIT_REASON_EPT_VIOLATION;
      r.hwAddress = eptGuestPhysical(address, shared);
      r.hpfar = 0;
    }
    this.uffdView(r);
    return r;
  }

  private uffdView(r: FaultRecord): void {
    // userfaultfd cannot register guest_memfd (private memory), and MTE tag faults and attribute
    // mismatches are KVM's own business: none of them reach a uffd.
    r.uffdSees = isFetchKind(r.kind) && !r.isPrivate;
    // KVM faults a walk's table page in for write (the walk sets the access flag), so GUP's
    // handle_userfault reports WRITE; an instruction fetch faults the page in for read.
    r.uffdFlags = r.uffdSees && (r.kind === FK_WRITE || r.kind === FK_WALK) ? UFFD_PAGEFAULT_FLAG_WRITE : 0;
    r.uffdLost = !r.uffdSees ? UFFD_LOST_INVISIBLE : r.kind === FK_EXEC ? UFFD_LOST_EXEC : r.kind === FK_WALK ? UFFD_LOST_WALK : UFFD_LOST_NONE;
  }
}
