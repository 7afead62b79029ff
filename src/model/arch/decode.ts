/**
 * One fault, decoded for people: the raw hardware syndrome field by field, the memory_fault KVM
 * makes of it, and what a userfaultfd handler would read instead, side by side. The demo's record
 * panel renders this; the event stream carries it (src/events.ts). Built off the hot path, from the
 * same FaultRecord the vCPU built.
 */
import { describeMemoryFaultFlags, describeUffdFlags, KVM_EXIT_MEMORY_FAULT, UFFD_EVENT_PAGEFAULT } from '../uapi.js';
import { decodeEsr, ESR_ELx_EC_DABT_LOW, esrLow } from './arm64.js';
import { FAULT_KIND_LABELS, FAULT_KIND_NAMES, type FaultKindName } from './fault-kind.js';
import { RES_CONVERT, RES_FETCH, RES_REENTER, RES_RESTORE_TAGS } from './guest.js';
import { ARCH_ARM64, ARCH_NAMES, RECORD_NAMES, UFFD_LOST_REASONS, type ArchName, type FaultRecord, type RecordName } from './record.js';
import { decodeExitQualification, type BitField } from './x86.js';

export interface DecodedRegister {
  name: string;
  value: number;
  fields: BitField[];
  note: string;
}

export interface DecodedArchFault {
  arch: ArchName;
  record: RecordName;
  kind: FaultKindName;
  kindLabel: string;
  /** Walk level (0 = root) of a page-table fault; 3 otherwise. */
  level: number;
  isPrivate: boolean;
  /** The hardware's report: ESR_EL2, FAR_EL2, HPFAR_EL2, or the exit reason, qualification and addresses. */
  hardware: { title: string; registers: DecodedRegister[] };
  /** What KVM_RUN returns: exit_reason 39 and kvm_run.memory_fault (plus the syndrome, if this record carries it). */
  kvm: {
    exitReason: number;
    flags: number;
    flagNames: string[];
    neutralFlags: number;
    neutralNames: string[];
    gpa: number;
    size: number;
    carriesSyndrome: boolean;
  };
  /** What a userfaultfd handler would read for the same fault (sees: false, it reads nothing). */
  uffd: { sees: boolean; event: number; flags: number; flagNames: string[]; address: number; lost: string };
  /** What the VMM does with the record. */
  resolution: string;
}

const RESOLUTIONS: Record<number, string> = {
  [RES_FETCH]: 'fetch the page from the source, install it, re-enter KVM_RUN',
  [RES_CONVERT]: 'convert the page (KVM_SET_MEMORY_ATTRIBUTES), no fetch, re-enter',
  [RES_RESTORE_TAGS]: "restore the page's MTE tags (KVM_ARM_MTE_COPY_TAGS), re-enter",
  [RES_REENTER]: 'nothing to fetch: the page is here, so re-enter as after a race (and fault again)',
};

export function decodeArchFault(r: FaultRecord, arch: number, record: number, resolution: number, aheadPages = 0): DecodedArchFault {
  const arm = arch === ARCH_ARM64;
  const registers: DecodedRegister[] = arm
    ? [
        {
          name: 'ESR_EL2',
          value: r.syndrome,
          fields: decodeEsr(r.syndrome),
          note: esrLow(r.syndrome) >>> 26 === ESR_ELx_EC_DABT_LOW ? 'data abort' : 'instruction abort',
        },
        { name: 'FAR_EL2', value: r.va, fields: [], note: 'the virtual address the guest used' },
        {
          name: 'HPFAR_EL2',
          value: r.hpfar,
          fields: [{ bits: '43:4', name: 'FIPA', value: Math.floor(r.hpfar / 16), meaning: `IPA ${hex(r.hwAddress - (r.hwAddress % 4096))}` }],
          note: r.kind === 3 ? "the page-table page's IPA, not the data page's" : 'the faulting IPA',
        },
      ]
    : [
        { name: 'exit reason', value: r.hwReason, fields: [], note: 'EXIT_REASON_EPT_VIOLATION' },
        { name: 'exit qualification', value: r.syndrome, fields: decodeExitQualification(r.syndrome), note: 'EPT violation' },
        { name: 'GUEST_LINEAR_ADDRESS', value: r.va, fields: [], note: 'the virtual address the guest used' },
        {
          name: 'GUEST_PHYSICAL_ADDRESS',
          value: r.hwAddress,
          fields: [],
          note: r.kind === 3 ? 'the paging-structure entry, not the data' : 'the faulting guest-physical address',
        },
      ];
  const syndrome = record === 1;
  return {
    arch: ARCH_NAMES[arch]!,
    record: RECORD_NAMES[record]!,
    kind: FAULT_KIND_NAMES[r.kind]!,
    kindLabel: FAULT_KIND_LABELS[FAULT_KIND_NAMES[r.kind]!],
    level: r.level,
    isPrivate: r.isPrivate,
    hardware: { title: arm ? 'ESR_EL2 · FAR_EL2 · HPFAR_EL2' : 'VM exit: EPT violation', registers },
    kvm: {
      exitReason: KVM_EXIT_MEMORY_FAULT,
      flags: r.flags,
      flagNames: describeMemoryFaultFlags(r.flags),
      neutralFlags: r.neutralFlags,
      neutralNames: describeMemoryFaultFlags(r.neutralFlags),
      gpa: r.gpa,
      size: r.size,
      carriesSyndrome: syndrome,
    },
    uffd: {
      sees: r.uffdSees,
      event: UFFD_EVENT_PAGEFAULT,
      flags: r.uffdFlags,
      flagNames: describeUffdFlags(r.uffdFlags),
      address: r.gpa,
      lost: UFFD_LOST_REASONS[r.uffdLost]!,
    },
    resolution:
      RESOLUTIONS[resolution]! + (aheadPages > 0 ? `; the source's walk sends ${aheadPages} more page${aheadPages > 1 ? 's' : ''} in the same round trip` : ''),
  };
}

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}
