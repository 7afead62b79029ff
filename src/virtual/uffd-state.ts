/**
 * One userfaultfd's state in the virtual engine: its wait queues, locks and counters (what
 * fs/userfaultfd.c's userfaultfd_ctx holds). Kept by the state (sim.ts); uffd.ts moves it.
 */
import { Serial } from './kernel.js';
import { newUffdLines, type UffdLines } from './shared-lines.js';

/** A vCPU's entry: not queued, pending (not read yet), waiting (read, not resolved). */
export const ENTRY_NONE = 0,
  ENTRY_PENDING = 1,
  ENTRY_WAITING = 2;

export interface Uffd {
  /** fault_pending_wqh.lock (with fault_wqh.lock nested inside, held together) and fd_wqh.lock */
  pend: Serial;
  fd: Serial;
  /** Pending vCPUs in fault order (lazily cleaned: entries no longer pending are skipped). */
  pending: number[];
  pendingHead: number;
  pendingCount: number;
  waitingCount: number;
  /**
   * vCPUs queued per page (pending or waiting), in fault order: the first one's id per page, then
   * a chain through queueNext (a vCPU is queued on one page at a time), so a fault allocates nothing.
   */
  byPage: Map<number, number>;
  /** per vCPU: the next vCPU queued on the same page (-1: last), and at a page's first vCPU its last */
  queueNext: Int32Array;
  queueTail: Int32Array;
  /** the vCPU the latest read() took, or -1 (EAGAIN) */
  readVcpu: number;
  handlers: number[];
  /** readers registered in poll() on fd_wqh (asleep, or woken and not yet run) */
  polling: Set<number>;
  /** of those, the ones a wake_up_poll already triggered */
  pollWoken: Set<number>;
  /** the uffd file's f_count, the ctx refcount, map_changing_lock */
  lines: UffdLines;
  /** the thread that walked the queues last (-1: nobody yet) */
  lastWalker: number;
  /** queued entries written by another thread since lastWalker's walk (cold for it) */
  coldEntries: number;
  walkColdEntries: number;
  reads: number;
  emptyReads: number;
  wakeWalks: number;
  wakeWalkEntries: number;
}

export function newUffd(k: number, vcpus: number): Uffd {
  return {
    pend: new Serial(`uffd ${k} fault_pending_wqh`),
    fd: new Serial(`uffd ${k} fd_wqh`),
    pending: [],
    pendingHead: 0,
    pendingCount: 0,
    waitingCount: 0,
    byPage: new Map(),
    queueNext: new Int32Array(vcpus),
    queueTail: new Int32Array(vcpus),
    readVcpu: -1,
    handlers: [],
    polling: new Set(),
    pollWoken: new Set(),
    lines: newUffdLines(`uffd ${k}`),
    lastWalker: -1,
    coldEntries: 0,
    walkColdEntries: 0,
    reads: 0,
    emptyReads: 0,
    wakeWalks: 0,
    wakeWalkEntries: 0,
  };
}
