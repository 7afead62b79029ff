// Goal: the kernel baseline (native/uffd_paging.c) says where each fault's wakes landed, and says it
// right: with the reader pinned to the faulting thread's CPU every wake stays on one CPU, pinned to
// the other CPU none does. The cross-check prices wakes by these shares, so a wrong share would be
// a wrong prediction. It also says what each side of a fault costs on a CPU.
// Method: two 1-thread, 1-reader runs of 1 MiB (256 faults each), --pin same and --pin other; a host
// without userfaultfd, a C compiler or two CPUs must give a one-line skip reason instead.
import { availableParallelism } from 'node:os';
import { expect, it } from 'vitest';
import { runNative, type NativeOutcome, type NativeResult } from '../native/index.js';

function resultOrSkip(m: NativeOutcome): NativeResult | null {
  if (m.skipped) {
    expect(m.reason.length).toBeGreaterThan(0);
    expect(m.reason).not.toMatch(/\n/);
    return null;
  }
  return m;
}

it('counts every wake on one CPU when the reader shares the faulting CPU, and none when it does not', () => {
  const same = resultOrSkip(runNative({ queue: 'single', threads: 1, readers: 1, mibPerThread: 1, pin: 'same' }));
  if (!same) return;
  expect(same.verified).toBe(true);
  expect(same.readerOnFaulterCpu).toBe(1);
  expect(same.vcpuOnReaderCpu).toBe(1);
  // Both sides ran on one CPU, so their CPU time fits in the run's wall time (the reader's few
  // microseconds before and after the guest are the slack).
  expect(same.vcpuCpuUsPerFault).toBeGreaterThan(0);
  expect(same.readerCpuUsPerFault).toBeGreaterThan(0);
  const wallUsPerFault = (same.totalGuestSec * 1e6) / same.pages;
  expect(same.vcpuCpuUsPerFault + same.readerCpuUsPerFault).toBeLessThan(1.5 * wallUsPerFault);
  if (availableParallelism() < 2) return;
  const other = resultOrSkip(runNative({ queue: 'single', threads: 1, readers: 1, mibPerThread: 1, pin: 'other' }));
  if (!other) return;
  expect(other.verified).toBe(true);
  expect(other.readerOnFaulterCpu).toBe(0);
  expect(other.vcpuOnReaderCpu).toBe(0);
});
