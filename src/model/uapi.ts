/**
 * The kernel interfaces this simulator models, with their real names and numbers.
 *
 * - KVM_EXIT_MEMORY_FAULT (Linux 6.8+): KVM_RUN returns -1/EFAULT and fills
 *   `kvm_run.memory_fault = { __u64 flags; __u64 gpa; __u64 size; }`; the fault covers [gpa, gpa+size).
 *   PRIVATE (bit 3) is upstream; READ/WRITE/EXEC (bits 0..2) come from the proposed
 *   "KVM_EXIT_MEMORY_FAULTs on stage-2 faults" series (v7, Feb 2024): exactly one of them is set.
 * - userfaultfd: `struct uffd_msg` is 32 packed bytes; a PAGEFAULT message carries flags
 *   (WRITE/WP/MINOR) and the faulting address.
 */

export const KVM_EXIT_MEMORY_FAULT = 39;
export const KVM_CAP_MEMORY_FAULT_INFO = 232;
export const KVM_MEMORY_EXIT_FLAG_READ = 1 << 0; // proposed
export const KVM_MEMORY_EXIT_FLAG_WRITE = 1 << 1; // proposed
export const KVM_MEMORY_EXIT_FLAG_EXEC = 1 << 2; // proposed
export const KVM_MEMORY_EXIT_FLAG_PRIVATE = 1 << 3; // upstream
export const KVM_MEMORY_EXIT_FLAG_USERFAULT = 1 << 4; // proposed (KVM Userfault)
/**
 * Illustrative, not in any posted patch: the v7 thread proposed that an arm64 MTE NoTagAccess abort
 * exit with READ, WRITE and EXEC all clear "plus an MTE flag", without giving it a number; this
 * simulator uses the next free bit. Only the syndrome-carrying record (--fault-record syndrome) sets it.
 */
export const KVM_MEMORY_EXIT_FLAG_MTE = 1 << 5;
export const KVM_MEM_EXIT_ON_MISSING = 1 << 3; // proposed memslot flag
/** Size of `kvm_run.memory_fault` on the wire: three __u64. */
export const MEMORY_FAULT_BYTES = 24;

export const UFFD_EVENT_PAGEFAULT = 0x12;
export const UFFD_PAGEFAULT_FLAG_WRITE = 1 << 0;
export const UFFD_PAGEFAULT_FLAG_WP = 1 << 1;
export const UFFD_PAGEFAULT_FLAG_MINOR = 1 << 2;
export const UFFDIO_COPY_MODE_DONTWAKE = 1 << 0;
/** sizeof(struct uffd_msg): packed, 32 bytes. */
export const UFFD_MSG_BYTES = 32;

/** How a guest access touched memory: what KVM would encode in the exit flags. */
export const enum Access {
  Read = 0,
  Write = 1,
  Exec = 2,
}

/** The exit flags for an access: exactly one of READ/WRITE/EXEC (write wins, then exec, then read). */
export function memoryFaultFlags(access: Access, isPrivate = false): number {
  const rwx = access === Access.Write ? KVM_MEMORY_EXIT_FLAG_WRITE : access === Access.Exec ? KVM_MEMORY_EXIT_FLAG_EXEC : KVM_MEMORY_EXIT_FLAG_READ;
  return isPrivate ? rwx | KVM_MEMORY_EXIT_FLAG_PRIVATE : rwx;
}

/** What `kvm_run` holds after KVM_RUN returned -1/EFAULT with exit reason KVM_EXIT_MEMORY_FAULT. */
export interface MemoryFault {
  flags: number;
  gpa: number;
  size: number;
}

/** Little-endian `kvm_run.memory_fault` bytes, as userspace would read them from the mmap'd kvm_run. */
export function encodeMemoryFault(f: MemoryFault, out = new DataView(new ArrayBuffer(MEMORY_FAULT_BYTES)), at = 0): DataView {
  out.setBigUint64(at, BigInt(f.flags), true);
  out.setBigUint64(at + 8, BigInt(f.gpa), true);
  out.setBigUint64(at + 16, BigInt(f.size), true);
  return out;
}

export function decodeMemoryFault(v: DataView, at = 0): MemoryFault {
  return { flags: Number(v.getBigUint64(at, true)), gpa: Number(v.getBigUint64(at + 8, true)), size: Number(v.getBigUint64(at + 16, true)) };
}

/** Names of the set bits of a memory_fault `flags` word, for reports and the teaching demo. */
export function describeMemoryFaultFlags(flags: number): string[] {
  const out: string[] = [];
  if (flags & KVM_MEMORY_EXIT_FLAG_READ) out.push('READ');
  if (flags & KVM_MEMORY_EXIT_FLAG_WRITE) out.push('WRITE');
  if (flags & KVM_MEMORY_EXIT_FLAG_EXEC) out.push('EXEC');
  if (flags & KVM_MEMORY_EXIT_FLAG_PRIVATE) out.push('PRIVATE');
  if (flags & KVM_MEMORY_EXIT_FLAG_USERFAULT) out.push('USERFAULT');
  if (flags & KVM_MEMORY_EXIT_FLAG_MTE) out.push('MTE');
  return out;
}

/** A decoded `struct uffd_msg` carrying a PAGEFAULT event. */
export interface UffdPagefault {
  event: number;
  flags: number;
  address: number;
  ptid: number;
}

/**
 * Byte offsets inside the packed 32-byte `struct uffd_msg`:
 *   0 event(u8) 1 reserved1(u8) 2 reserved2(u16) 4 reserved3(u32)
 *   8 arg.pagefault.flags(u64) 16 arg.pagefault.address(u64) 24 arg.pagefault.feat.ptid(u32) 28 pad
 */
export const UFFD_MSG_EVENT = 0;
export const UFFD_MSG_PF_FLAGS = 8;
export const UFFD_MSG_PF_ADDRESS = 16;
export const UFFD_MSG_PF_PTID = 24;

/** uffd PAGEFAULT flags for an access: WRITE for writes; MINOR when the page is in the page cache. */
export function uffdPagefaultFlags(access: Access, minor = false): number {
  return (access === Access.Write ? UFFD_PAGEFAULT_FLAG_WRITE : 0) | (minor ? UFFD_PAGEFAULT_FLAG_MINOR : 0);
}

/**
 * Writes a PAGEFAULT uffd_msg into `bytes` at `at` without allocating (the vCPU's fault path uses it
 * on the shared queue). Addresses stay below 2^53, so two 32-bit halves are exact.
 */
export function writeUffdMsg(bytes: DataView, at: number, flags: number, address: number, ptid: number): void {
  bytes.setUint8(at + UFFD_MSG_EVENT, UFFD_EVENT_PAGEFAULT);
  bytes.setUint8(at + 1, 0);
  bytes.setUint16(at + 2, 0, true);
  bytes.setUint32(at + 4, 0, true);
  bytes.setUint32(at + UFFD_MSG_PF_FLAGS, flags >>> 0, true);
  bytes.setUint32(at + UFFD_MSG_PF_FLAGS + 4, 0, true);
  bytes.setUint32(at + UFFD_MSG_PF_ADDRESS, address % 4294967296, true);
  bytes.setUint32(at + UFFD_MSG_PF_ADDRESS + 4, Math.floor(address / 4294967296), true);
  bytes.setUint32(at + UFFD_MSG_PF_PTID, ptid >>> 0, true);
  bytes.setUint32(at + 28, 0, true);
}

export function readUffdAddress(bytes: DataView, at: number): number {
  return bytes.getUint32(at + UFFD_MSG_PF_ADDRESS, true) + bytes.getUint32(at + UFFD_MSG_PF_ADDRESS + 4, true) * 4294967296;
}

export function decodeUffdMsg(bytes: DataView, at = 0): UffdPagefault {
  return {
    event: bytes.getUint8(at + UFFD_MSG_EVENT),
    flags: bytes.getUint32(at + UFFD_MSG_PF_FLAGS, true),
    address: readUffdAddress(bytes, at),
    ptid: bytes.getUint32(at + UFFD_MSG_PF_PTID, true),
  };
}

export function describeUffdFlags(flags: number): string[] {
  const out: string[] = [];
  if (flags & UFFD_PAGEFAULT_FLAG_WRITE) out.push('WRITE');
  if (flags & UFFD_PAGEFAULT_FLAG_WP) out.push('WP');
  if (flags & UFFD_PAGEFAULT_FLAG_MINOR) out.push('MINOR');
  return out;
}
