import type { DecodedArchFault } from './decode.js';

/**
 * A decoded fault record, field by field, as KVM or userfaultfd would hand it to userspace, and
 * beside it (`arch`) the hardware's raw syndrome, the memory_fault and the uffd view of the same fault.
 */
export type DecodedFault =
  | { kind: 'memory_fault'; exitReason: 39; flags: number; flagNames: string[]; gpa: number; size: number; arch?: DecodedArchFault }
  | { kind: 'uffd_msg'; event: number; flags: number; flagNames: string[]; address: number; ptid: number; arch?: DecodedArchFault };
