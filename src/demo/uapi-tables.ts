/**
 * The kernel names the record panel decodes with: bit numbers and names of memory_fault and uffd_msg
 * flags (the arch syndromes arrive decoded with each fault, src/model/arch/decode.ts).
 */
import * as uapi from '../model/uapi.js';

/** The kernel names the record panel decodes with. */
export function uapiTables() {
  const bit = (v: number) => Math.log2(v);
  return {
    KVM_EXIT_MEMORY_FAULT: uapi.KVM_EXIT_MEMORY_FAULT,
    UFFD_EVENT_PAGEFAULT: uapi.UFFD_EVENT_PAGEFAULT,
    MEMORY_FAULT_BYTES: uapi.MEMORY_FAULT_BYTES,
    UFFD_MSG_BYTES: uapi.UFFD_MSG_BYTES,
    memoryFaultFlags: [
      { bit: bit(uapi.KVM_MEMORY_EXIT_FLAG_READ), name: 'KVM_MEMORY_EXIT_FLAG_READ', note: 'proposed (stage-2 exits series, v7)' },
      { bit: bit(uapi.KVM_MEMORY_EXIT_FLAG_WRITE), name: 'KVM_MEMORY_EXIT_FLAG_WRITE', note: 'proposed (stage-2 exits series, v7)' },
      { bit: bit(uapi.KVM_MEMORY_EXIT_FLAG_EXEC), name: 'KVM_MEMORY_EXIT_FLAG_EXEC', note: 'proposed (stage-2 exits series, v7)' },
      { bit: bit(uapi.KVM_MEMORY_EXIT_FLAG_PRIVATE), name: 'KVM_MEMORY_EXIT_FLAG_PRIVATE', note: 'upstream (Linux 6.8)' },
      { bit: bit(uapi.KVM_MEMORY_EXIT_FLAG_USERFAULT), name: 'KVM_MEMORY_EXIT_FLAG_USERFAULT', note: 'proposed (KVM Userfault)' },
      {
        bit: bit(uapi.KVM_MEMORY_EXIT_FLAG_MTE),
        name: 'MTE',
        note: 'illustrative: the v7 thread proposed an MTE flag with no number; this simulator uses bit 5',
      },
    ],
    uffdFlags: [
      { bit: bit(uapi.UFFD_PAGEFAULT_FLAG_WRITE), name: 'UFFD_PAGEFAULT_FLAG_WRITE', note: 'the access was a write' },
      { bit: bit(uapi.UFFD_PAGEFAULT_FLAG_WP), name: 'UFFD_PAGEFAULT_FLAG_WP', note: 'write-protect fault' },
      { bit: bit(uapi.UFFD_PAGEFAULT_FLAG_MINOR), name: 'UFFD_PAGEFAULT_FLAG_MINOR', note: 'page in the page cache (MINOR mode)' },
    ],
  };
}
