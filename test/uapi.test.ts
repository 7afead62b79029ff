// Goal: the records we hand around have the kernel's layout and numbers.
import { describe, expect, it } from 'vitest';
import * as uapi from '../src/model/uapi.js';

describe('KVM_EXIT_MEMORY_FAULT', () => {
  it('uses the upstream numbers', () => {
    expect(uapi.KVM_EXIT_MEMORY_FAULT).toBe(39);
    expect(uapi.KVM_CAP_MEMORY_FAULT_INFO).toBe(232);
    expect(uapi.KVM_MEMORY_EXIT_FLAG_PRIVATE).toBe(8);
  });
  it('sets exactly one of READ/WRITE/EXEC', () => {
    expect(uapi.memoryFaultFlags(uapi.Access.Read)).toBe(uapi.KVM_MEMORY_EXIT_FLAG_READ);
    expect(uapi.memoryFaultFlags(uapi.Access.Write)).toBe(uapi.KVM_MEMORY_EXIT_FLAG_WRITE);
    expect(uapi.memoryFaultFlags(uapi.Access.Exec)).toBe(uapi.KVM_MEMORY_EXIT_FLAG_EXEC);
    expect(uapi.memoryFaultFlags(uapi.Access.Write, true)).toBe(uapi.KVM_MEMORY_EXIT_FLAG_WRITE | uapi.KVM_MEMORY_EXIT_FLAG_PRIVATE);
    expect(uapi.describeMemoryFaultFlags(0b1010)).toEqual(['WRITE', 'PRIVATE']);
  });
  it('round-trips kvm_run.memory_fault as three little-endian u64', () => {
    const v = uapi.encodeMemoryFault({ flags: 2, gpa: 0x1_2345_6000, size: 4096 });
    expect(v.byteLength).toBe(24);
    expect(v.getUint32(8, true)).toBe(0x23456000);
    expect(v.getUint32(12, true)).toBe(0x1);
    expect(uapi.decodeMemoryFault(v)).toEqual({ flags: 2, gpa: 0x1_2345_6000, size: 4096 });
  });
});

describe('uffd_msg', () => {
  it('is 32 packed bytes with event 0x12 and the pagefault fields where the kernel puts them', () => {
    const buf = new DataView(new ArrayBuffer(uapi.UFFD_MSG_BYTES));
    uapi.writeUffdMsg(buf, 0, uapi.UFFD_PAGEFAULT_FLAG_WRITE, 0x2_0000_3000, 7);
    expect(buf.getUint8(0)).toBe(0x12);
    expect(buf.getBigUint64(8, true)).toBe(1n);
    expect(buf.getBigUint64(16, true)).toBe(0x2_0000_3000n);
    expect(buf.getUint32(24, true)).toBe(7);
    expect(uapi.decodeUffdMsg(buf)).toEqual({ event: 0x12, flags: 1, address: 0x2_0000_3000, ptid: 7 });
    expect(uapi.describeUffdFlags(uapi.uffdPagefaultFlags(uapi.Access.Write, true))).toEqual(['WRITE', 'MINOR']);
  });
});
