/**
 * Guest-physical layout shared by both engines: memslots number pages densely (page 0 is the first
 * page of memslot 0), and in uffd mode each uffd covers a slice of pages and has its handlers.
 */
import type { Memslot, ResolvedOptions } from './config.js';
import { vcpuRange } from './workload.js';

/** The guest-physical address of dense page `page`, or -1 when no memslot holds it. */
export function gpaOfPage(memslots: readonly Memslot[], pageSize: number, page: number): number {
  for (const m of memslots) if (page >= m.firstPage && page < m.firstPage + m.pages) return m.baseGpa + (page - m.firstPage) * pageSize;
  return -1;
}

/** The dense page index of `gpa`, or -1 when no memslot covers it (KVM: no memslot). */
export function pageOfGpa(memslots: readonly Memslot[], pageSize: number, gpa: number): number {
  for (const m of memslots) {
    if (gpa >= m.baseGpa && gpa < m.baseGpa + m.sizeBytes) return m.firstPage + Math.floor((gpa - m.baseGpa) / pageSize);
  }
  return -1;
}

/** uffds in a run: none outside uffd mode, one shared, or one per vCPU slice. */
export function uffdCount(opts: ResolvedOptions): number {
  return opts.mode !== 'uffd' ? 0 : opts.uffdPerVcpu ? opts.vcpus : 1;
}

/** uffd handler threads: one per uffd with --uffd-per-vcpu, else --handlers on the shared one. */
export function handlerCount(opts: ResolvedOptions): number {
  return opts.mode !== 'uffd' ? 0 : opts.uffdPerVcpu ? opts.vcpus : opts.handlers;
}

/** Which uffd handler `h` reads. */
export function uffdOfHandler(opts: ResolvedOptions, h: number): number {
  return opts.uffdPerVcpu ? h : 0;
}

/** Pages per uffd when there is one per vCPU slice (the partition's slice size). */
export function pagesPerUffd(opts: ResolvedOptions): number {
  return Math.max(1, vcpuRange({ ...opts, partition: true }, 0).count);
}

/** Which uffd covers `page`. */
export function uffdOfPage(page: number, uffds: number, pagesPerQueue: number): number {
  return uffds <= 1 ? 0 : Math.min(uffds - 1, Math.floor(page / pagesPerQueue));
}
