/**
 * The shared kernel lines a fault resolution touches beyond the wait-queue locks (src/virtual/uffd.ts)
 * and mmap_lock / kvm->mmu_lock (sim.mm, sim.mmu): one counter or rwsem count each, written twice
 * per use (take and drop) by an atomic, so each use by a core that did not write the line last is
 * two transfers (src/virtual/cache-line.ts). docs/kernel-model.md lists every line with the kernel
 * function that touches it.
 *
 *   mm_users            mmget_not_zero / mmput around UFFDIO_COPY and _CONTINUE (fs/userfaultfd.c)
 *   the VMA's lock      uffd_mfill_lock -> lock_vma_under_rcu / vma_end_read in mfill_atomic (mm/userfaultfd.c):
 *                       the guest's memory is one VMA, so every copier shares it
 *   per uffd (UffdLines, one set per userfaultfd context):
 *   f_count             fdget / fdput of the uffd file on every poll(), read() and ioctl() of a
 *                       multi-threaded process (fs/file.c: the fast path without the count is for
 *                       single-threaded ones only)
 *   ctx->refcount       userfaultfd_ctx_get / _put in handle_userfault, around the sleep
 *   map_changing_lock   down_read / up_read(&ctx->map_changing_lock) in mfill_atomic
 */
import type { CostModel } from './costs.js';
import { Serial } from './kernel.js';

/** Atomics per use of a counter or an rwsem read side: the take and the drop. */
export const OPS_PER_USE = 2;

export interface UffdLines {
  file: Serial;
  ctxRef: Serial;
  mapChanging: Serial;
}

export function newUffdLines(name: string): UffdLines {
  return { file: new Serial(`${name} f_count`), ctxRef: new Serial(`${name} ctx refcount`), mapChanging: new Serial(`${name} map_changing_lock`) };
}

/** The mm-wide lines of the destination's address space, and the uffd exits resolve through. */
export class SharedLines {
  readonly mmUsers = new Serial('mm_users');
  readonly vma = new Serial('guest VMA lock');
  /** exit mode: the one uffd the vCPUs' own UFFDIO_CONTINUE goes through (demand_paging_test -a) */
  readonly exitUffd = newUffdLines('exit uffd');
}

/** fdget ... fdput of the uffd file around one syscall by thread `id` at `atUs`: when the count is taken. */
export function fileRef(u: UffdLines, id: number, atUs: number, c: CostModel): number {
  return u.file.line(id, atUs, OPS_PER_USE, c);
}

/**
 * UFFDIO_COPY / _CONTINUE beyond the fdget: mmget, the VMA's read lock, map_changing_lock (the
 * page-table work itself is the ioctl's measured cost). When the filling can start.
 */
export function mfillLines(sim: { lines: SharedLines }, u: UffdLines, id: number, atUs: number, c: CostModel): number {
  const l = sim.lines;
  let at = l.mmUsers.line(id, atUs, OPS_PER_USE, c);
  at = l.vma.line(id, at, OPS_PER_USE, c);
  return u.mapChanging.line(id, at, OPS_PER_USE, c);
}
