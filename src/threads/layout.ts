/**
 * Names for every word of shared memory, so no thread indexes a SharedArrayBuffer with a bare number.
 *
 *  page-state table  Int32Array[pages]     MISSING/REQUESTED/INSTALLING/PRESENT (+ WAITERS bit)
 *  control block     Int32Array[CTL_WORDS] flags, counters, doorbells, the blocktime lock
 *  control times     Float64Array[TIME_WORDS] (a second view of the same buffer, after the ints)
 *  vCPU stats        Float64Array[vcpus * VCPU_STRIDE] live counters the main thread samples
 *  guest memory      one SharedArrayBuffer per memslot, the bytes the vCPUs really read and write
 *  page arrival      Float32Array[pages] ms after the start when the page arrived (0: not yet); how it
 *                    came (ARRIVED_* bits) is in the page-state word (PAGE_HOW_SHIFT)
 */

import { LATENCY_BUCKETS } from '../model/stats.js';

// ---- page states (the stage-2 mapping of one guest page on the destination) ----
// The states themselves are the model's (src/model/page-state.ts), numbered once for both engines.
export { PAGE_INSTALLING, PAGE_MISSING, PAGE_PRESENT, PAGE_REQUESTED, PAGE_STATE_MASK } from '../model/page-state.js';
/** Set by a thread that sleeps on the page's state word, so an installer knows to notify. */
export const PAGE_WAITERS = 0x10;
/**
 * How a present page arrived (ARRIVED_* bits, the memory map's) sits in its state word from this bit
 * on, published with the page by the installer's one atomic store: no separate byte per page (a
 * 16 GiB guest's tables must fit its RSS budget).
 */
export const PAGE_HOW_SHIFT = 8;

// ---- control block (Int32 words) ----
/**
 * Words that different threads write often each get their own 64-byte cache line, apart from the
 * flags every loop polls, so a per-page count or a doorbell does not drag those lines between cores.
 * (Measured at 10 Gbit/s, 4 vCPUs: no change in link utilisation, 66-72% either way; the limit there
 * is moving the page bytes themselves between cores. Kept because it costs nothing.)
 */
export const LINE_WORDS = 16;
// line 0: flags and barriers, written rarely, read by every loop
export const CTL_ABORT = 0; // non-zero: stop everything now (watchdog, worker death, error)
export const CTL_STOP = 1; // non-zero: the run is over, service threads should exit
export const CTL_MIGRATION_DONE = 2; // every page is present
export const CTL_VCPUS_DONE = 4; // vCPUs that finished their workload
export const CTL_VCPUS_STARTED = 8; // barrier: vCPUs that reached their start line
export const CTL_GO = 9; // the start gun: all threads ready, the guest runs on the destination
export const CTL_PRECOPY = 10; // hybrid: services start precopy while the guest still runs on the source
export const CTL_SWITCHED = 11; // hybrid: the destination processed the switch (discards): the guest may start
export const CTL_SERVICES_READY = 12; // service threads loaded and about to enter their loop
export const CTL_HANDLERS_CRASHED = 13; // an injected uffd handler crash, not restarted: nothing reads the uffd
export const CTL_RUN_STATE = 14; // the migration's state (RUN_STATES' index), written by the source on each change
export const CTL_LINK_CUT_US = 15; // a live link cut the main thread asks for (its outage, modelled us; 0: none), taken by the source
/** CTL_RUN_STATE's values: QEMU's postcopy-active, postcopy-paused and postcopy-recover. */
export const RUN_STATES = ['active', 'paused', 'recover'] as const;
// line 1: pages installed so far (every install)
export const CTL_PRESENT_PAGES = LINE_WORDS;
// line 2: the blocktime transition (every fault's start and end)
export const CTL_BLOCK_LOCK = 2 * LINE_WORDS; // guards the two counts below
export const CTL_BLOCKED_VCPUS = 2 * LINE_WORDS + 1; // vCPUs blocked on a fault right now
export const CTL_ACTIVE_VCPUS = 2 * LINE_WORDS + 2; // vCPUs still running their workload
// line 3: KiB of frames received on the destination so far (live "bytes moved")
export const CTL_RX_KIB = 3 * LINE_WORDS;
/** Doorbells (bell counter, sleepers count) for the fetcher and the source, a line each (uffd handlers ring their queue's own bell). */
export const CTL_BELLS = 4 * LINE_WORDS;
export const BELL_FETCHER = 0;
export const BELL_SOURCE = 1;
export const BELL_PREEMPT = 2;
export const MAX_BELLS = 3;
export function bellWord(bell: number): number {
  return CTL_BELLS + LINE_WORDS * bell;
}
/** Per vCPU, a line each: fault records posted to the fetcher (it polls only ports with news). */
export const CTL_POSTED = CTL_BELLS + LINE_WORDS * MAX_BELLS;
export const MAX_VCPUS_THREADS = 256;
export function postedWord(vcpu: number): number {
  return CTL_POSTED + LINE_WORDS * vcpu;
}
/** Live fault-latency histogram for the event stream: bucket N counts faults in [2^N us, 2^(N+1) us). */
export { LATENCY_BUCKETS };
export const CTL_LATENCY_BUCKETS = CTL_POSTED + LINE_WORDS * MAX_VCPUS_THREADS;
export const CTL_WORDS = CTL_LATENCY_BUCKETS + 2 * LINE_WORDS;

// ---- control times (Float64 words, after the Int32 area) ----
export const TIME_ALL_BLOCKED_SINCE_US = 0;
export const TIME_ALL_BLOCKED_TOTAL_US = 1;
export const TIME_MIGRATION_DONE_US = 2;
export const TIME_GO_US = 3;
export const TIME_MIGRATION_START_US = 4; // precopy start (hybrid) or the start gun
export const TIME_SWITCH_START_US = 5; // hybrid: the source stopped the guest and sent the discards
export const TIME_SWITCH_DONE_US = 6; // hybrid: the destination applied them
export const TIME_WORDS = 8;
export const CTL_BYTES = CTL_WORDS * 4 + TIME_WORDS * 8;
export const TIME_OFFSET_BYTES = CTL_WORDS * 4;

// ---- live per-vCPU stats (Float64 words, stride VCPU_STRIDE) ----
export const VS_ACCESSES = 0;
export const VS_FAULTS = 1;
export const VS_BLOCKED_US = 2;
export const VS_WAIT_PAGE = 3; // page index + 1 the vCPU waits on, 0 when running
export const VS_WAIT_SINCE_US = 4;
export const VS_STATE = 5; // VCPU_RUNNING / VCPU_FAULTED / VCPU_WAITING / VCPU_DONE
export const VS_BAD_READS = 6;
export const VS_LAST_FLAGS = 7; // flags of the vCPU's latest fault record (memory_fault or uffd_msg)
export const VS_LAST_PAGE = 8; // page of its latest fault
export const VS_LAST_FAULT_US = 9;
export const VS_LAST_KIND = 10; // its latest fault's kind, access, level... packed (src/model/arch/vcpu-faults.ts)
export const VS_LAST_DATA_PAGE = 11; // the page its latest faulting access was for (a walk's data page)
export const VCPU_STRIDE = 16; // 128 bytes: each vCPU's live stats on lines of their own
export const VCPU_RUNNING = 0;
export const VCPU_FAULTED = 1; // exited / queued its fault, not yet sleeping
export const VCPU_WAITING = 2; // sleeping until the page is present
export const VCPU_DONE = 3;

/** Guest words reserved in every page: word 1 + v is vCPU v's write slot; the last word is never
 *  written by the guest, so a read of it checks that the page arrived whole (not torn). */
export const WRITE_SLOT_BASE = 1;

if ((CTL_WORDS * 4) % 8 !== 0) throw new Error('control block: the Float64 area must be 8-byte aligned');

// ---- how a page arrived (page-arrival bytes) ----
export { ARRIVED_DEMAND, ARRIVED_PUSHED, ARRIVED_ZERO } from '../model/page-map.js';
