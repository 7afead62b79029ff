/**
 * One virtual vCPU's state: where its workload is, what it waits on, and its counters. Plain data,
 * kept by the state (sim.ts) and moved by the vCPU actor (vcpu.ts, vcpu-faults.ts).
 */
import type { VcpuFaults } from '../model/arch/vcpu-faults.js';
import type { AccessStream } from '../model/workload.js';

export interface VcpuState {
  stream: AccessStream;
  limit: number;
  untilMigrated: boolean;
  tail: number;
  i: number;
  faults: number;
  faultsRead: number;
  faultsWrite: number;
  faultsExec: number;
  reads: number;
  writes: number;
  badReads: number;
  firstBadRead: string | null;
  faultStartUs: number;
  /** Page of the latest fault (for the event stream's decoded record). */
  lastPage: number;
  blockedUs: number;
  runUs: number;
  access: number;
  /** uffd entry: 0 none, 1 pending, 2 waiting (read by a handler). */
  entry: number;
  /** it took the uffd ctx's reference in handle_userfault (dropped on the retry) */
  queuedOnUffd: boolean;
  entryPage: number;
  /** fault-time breakdown: page installed -> running again; and exit resolver 'vcpu' installs */
  resumeLagUsTotal: number;
  selfInstalled: number;
  selfEexist: number;
  selfRequests: number;
  /** when the page this vCPU waits on was installed (-1: not yet) */
  installedUs: number;
  /** the stream's current access was drawn and its trace gap spent, but not yet run */
  held: boolean;
  /** The architectural fault path (records, per-kind counts, the guest planner), the current record's kind, and how far a syndrome walk's pages are. */
  arch: VcpuFaults;
  faultKind: number;
  aheadAt: number;
  /** uffd: mmap_read_lock uses left before handle_userfault queues the fault (src/virtual/vcpu.ts vcpuGup) */
  gupLeft: number;
}
