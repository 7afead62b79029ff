/**
 * Every message that crosses a thread boundary, on one page. Two kinds:
 *
 * - Fault records posted on a MessagePort are msgpackr-encoded arrays (compact, no key strings):
 *     MemoryFaultRecord  vCPU -> fetcher        KVM_EXIT_MEMORY_FAULT over the vCPU's MessagePort
 *   They are right-sized copies: msgpackr packs into a shared 8 KiB slab, and posting the view
 *   would structured-clone the whole slab (ecosystem.md P3).
 * - Wire frames are fixed binary records on a wire ring (src/threads/wire.ts), fields named below:
 *     request   destination -> source  [FRAME_REQUEST, page, vcpu, flags]  "send me this page"
 *     page      source -> destination  [FRAME_PAGE, page, flags, version]  + the page's bytes in a slot
 *     discard   source -> destination  [FRAME_DISCARD, final, 0, 0]        + the stale pages as words
 * - Control messages (startup data, final stats) are plain structured-cloned objects.
 *
 * One Packr configuration for every thread: `useRecords: false`, because record structures are
 * per-Packr state that another thread's Unpackr cannot decode (ecosystem.md P3).
 */
import { Packr } from 'msgpackr';
import type { RecordableHistogram } from 'node:perf_hooks';
import type { MessagePort } from 'node:worker_threads';
import type { ResolvedOptions } from '../options.js';
import type { VcpuTrace } from '../trace/replay.js';
import type { FetcherStats, SourceStats } from '../model/stats.js';
import type { VcpuTotals } from '../model/run-result.js';

export type { FetcherStats, SourceStats } from '../model/stats.js';

export const packr = new Packr({ useRecords: false });

export function encode(value: unknown): Uint8Array {
  return Uint8Array.prototype.slice.call(packr.pack(value));
}
export function decode<T>(bytes: Uint8Array): T {
  return packr.unpack(bytes) as T;
}

// ---- hot-path records (arrays; index constants name the fields) ----
/**
 * The exit a vCPU hands over: [vcpu, seq, flags, gpa, size, faultUs, exitReason], where `flags, gpa,
 * size` are kvm_run.memory_fault verbatim and exitReason is KVM_EXIT_MEMORY_FAULT (39). With
 * --fault-record syndrome the exit also carries the raw syndrome (src/model/arch/record.ts): ESR_EL2
 * or the exit qualification, the VA, the hardware's address, HPFAR_EL2 (arm64), and for a stage-1
 * walk the gpas of the pages the source's walk sends with it (-1: none), MF_AHEAD_SLOTS of them.
 */
export type MemoryFaultRecord = [
  vcpu: number,
  seq: number,
  flags: number,
  gpa: number,
  size: number,
  faultUs: number,
  exitReason: number,
  ...syndrome: number[],
];
export const MF_VCPU = 0,
  MF_SEQ = 1,
  MF_FLAGS = 2,
  MF_GPA = 3,
  MF_SIZE = 4,
  MF_TIME_US = 5,
  MF_EXIT_REASON = 6;
export const MF_SYNDROME = 7,
  MF_VA = 8,
  MF_HW_ADDRESS = 9,
  MF_HPFAR = 10,
  MF_AHEAD = 11,
  MF_AHEAD_SLOTS = 5;
export const MF_NEUTRAL_LENGTH = MF_EXIT_REASON + 1;
export const MF_SYNDROME_LENGTH = MF_AHEAD + MF_AHEAD_SLOTS;

/** Wire frame kinds (a wire ring record's `kind`; its fields a, b, c per kind in the header above). */
export const FRAME_REQUEST = 1; // QEMU's MIG_RP_MSG_REQ_PAGES, plus who faulted (for strategies)
export const FRAME_PAGE = 2; // a zero page (PAGE_FLAG_ZERO) carries no bytes
export const FRAME_DISCARD = 3; // at the switch to postcopy: pages whose destination copy is stale
export { PAGE_FLAG_DEMAND, PAGE_FLAG_PRECOPY, PAGE_FLAG_PREFETCH, PAGE_FLAG_RESENT, PAGE_FLAG_ZERO } from '../model/page-flags.js';
/** Channels (wire rings) to the destination: bulk and urgent to the fetcher, then one per uffd handler. */
export const CH_BULK = 0;
export const CH_URGENT = 1;
export const CH_HANDLER0 = 2;
/** Channel of vCPU `v` when vCPUs resolve their own exits over the link (after the handlers'). */
export function vcpuChannel(handlers: number, v: number): number {
  return CH_HANDLER0 + handlers + v;
}

/**
 * The run's time dilation (src/threads/dilation.ts decides it): `factor` D stretches every modelled
 * duration D-fold on the wall; with D > 1 each vCPU is paced to `accessUs` of modelled guest time
 * per access (its compute, measured on this host), plus --think.
 */
export interface DilationPlan {
  factor: number;
  accessUs: number;
}

// ---- shared state handed to every thread at startup ----
export interface SharedState {
  opts: ResolvedOptions;
  originEpochMs: number;
  dilation: DilationPlan;
  pageStateSab: SharedArrayBuffer;
  ctlSab: SharedArrayBuffer;
  vcpuStatsSab: SharedArrayBuffer;
  memslotSabs: SharedArrayBuffer[];
  /**
   * Per vCPU, how often it wrote each page (Uint8, 1..255 wrapping past 1; 0: never): its last write
   * tag is writeTag(seed, vcpu, page, count) (src/model/rng.ts). Absent when writeRatio is 0.
   */
  writeCountSabs: SharedArrayBuffer[];
  /** uffd mode: one shared fault queue, or one per vCPU slice. */
  uffdSabs: SharedArrayBuffer[];
  /** The network, one ring per channel and direction (src/threads/wire.ts): CH_BULK (the listen
   *  thread) and CH_URGENT (the preempt thread), CH_HANDLER0 + h uffd handler h's requests, then
   *  vcpuChannel(handlers, v) when vCPUs resolve their own exits. Rings that carry pages are shared
   *  WebAssembly memories (the source derives pages into them with SIMD); the rest plain SABs. */
  wireToDest: Array<WebAssembly.Memory | SharedArrayBuffer>;
  wireToSource: SharedArrayBuffer[];
  /**
   * hybrid: each page's version on the source (Uint8 per page; the guest's precopy writes raise it),
   * written by the source before the switch and read by the proof; null otherwise (every page is
   * at version 0).
   */
  versionSab: SharedArrayBuffer | null;
  /** When (ms after the start) each page arrived (how: in its page-state word): see layout.ts. */
  arrivalMsSab: SharedArrayBuffer;
  /** workload 'trace': each vCPU's recorded accesses. */
  traces: VcpuTrace[] | null;
  /** The guest's page attributes and MTE tag state, one byte per page each (src/model/arch/regions.ts). */
  archSab: SharedArrayBuffer;
  /**
   * The link may be cut while the run plays (the demo's button: SimulateHooks.linkCuts): the source
   * runs its recovery even with no injection planned, and publishes the migration's state.
   */
  liveLinkCuts: boolean;
}

/** Arguments of one vCPU task (piscina), like memstress_vcpu_args. */
export interface VcpuTask {
  kind: 'vcpu';
  vcpu: number;
  shared: SharedState;
  /** Exit mode: this vCPU's own port to the page fetcher. */
  port: MessagePort | null;
}

export interface VerifyTask {
  kind: 'verify';
  shared: SharedState;
  firstPage: number;
  endPage: number;
}

/** What a vCPU thread reports when its workload ends: the model's totals (src/model/run-result.ts) and more. */
export interface VcpuReport extends VcpuTotals {
  vcpu: number;
  reads: number;
  writes: number;
  latency: RecordableHistogram;
  noMemslot: string | null;
}

export interface VerifyReport {
  pagesChecked: number;
  pagesNotPresent: number;
  pagesWrong: number;
  firstProblem: string | null;
}

/** The two rigs a service thread warms up on (pipeline-probe.ts warmUpOptions): instant, then the run's link. */
export interface WarmUpPlan {
  rig: ResolvedOptions;
  linkRig: ResolvedOptions;
}

/** Startup data of the fetcher / source / handler threads (workerData). */
export interface ServiceStart {
  role: 'fetcher' | 'source' | 'handler' | 'preempt';
  shared: SharedState;
  /** fetcher: the vCPU ports (exit mode) */
  vcpuPorts: MessagePort[];
  /** handler: which uffd and which handler of it */
  uffd: number;
  handler: number;
  /**
   * The options of the pipeline rigs this thread runs before it reports ready (src/threads/warm-up.ts),
   * resolved on the main thread (a worker does not load the option schema); absent: no warm-up.
   */
  warmUp?: WarmUpPlan;
}

export type ServiceReport = FetcherStats | SourceStats | { role: 'error'; who: string; message: string };
