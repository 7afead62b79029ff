// Goal: the modelled userfaultfd keeps the kernel's semantics on one thread: read() returns the
// oldest pending uffd_msg once, the wake after a copy wakes every vCPU queued on that page (and
// only those), a vCPU that finds its page present takes itself off the queue, and the lock counts.
import { expect, it } from 'vitest';
import { decodeUffdMsg, UFFD_MSG_BYTES, UFFD_PAGEFAULT_FLAG_WRITE } from '../src/model/uapi.js';
import { UffdQueue, uffdQueueBytes } from '../src/threads/uffd-queue.js';

const now = () => performance.now() * 1000;

it('queues, reads oldest first, wakes by page', () => {
  const q = new UffdQueue(new SharedArrayBuffer(uffdQueueBytes(4)), 4, 5, now);
  q.enqueueFault(2, 10, UFFD_PAGEFAULT_FLAG_WRITE, 0xa000);
  q.enqueueFault(0, 11, 0, 0xb000);
  q.enqueueFault(3, 10, 0, 0xa000);
  const out = new Int32Array(UFFD_MSG_BYTES / 4);
  const view = new DataView(out.buffer);
  expect(q.read(out, 0)).toBe(2);
  expect(decodeUffdMsg(view)).toEqual({ event: 0x12, flags: 1, address: 0xa000, ptid: 2 });
  expect(q.read(out, 0)).toBe(0);
  expect(q.wake(10)).toBe(2); // vCPU 2 (read) and vCPU 3 (still pending) both wait on page 10
  expect(q.isWoken(2)).toBe(true);
  expect(q.isWoken(3)).toBe(true);
  expect(q.isWoken(0)).toBe(false);
  expect(q.read(out, 0)).toBe(-1); // vCPU 3's message left with its wake
  expect(q.wake(11)).toBe(1);
  expect(q.wake(11)).toBe(0);
  const s = q.stats();
  expect(s.reads).toBe(2);
  expect(s.acquires).toBeGreaterThanOrEqual(8);
  expect(s.contended).toBe(0);
});

it('cancel removes a pending fault', () => {
  const q = new UffdQueue(new SharedArrayBuffer(uffdQueueBytes(2)), 2, 5, now);
  q.enqueueFault(1, 3, 0, 0x3000);
  expect(q.hasPending()).toBe(true);
  q.cancel(1);
  expect(q.hasPending()).toBe(false);
  expect(q.read(new Int32Array(8), 0)).toBe(-1);
  expect(q.wake(3)).toBe(0);
});
