/**
 * Allocation of a run's shared memory (main thread) and the typed views every thread opens over it.
 */
import { realClock, type Clock } from './clock.js';
import { Doorbell } from './doorbell.js';
import { allocateMemslots, GuestMemory } from './guest-memory.js';
import {
  BELL_FETCHER,
  BELL_PREEMPT,
  BELL_SOURCE,
  bellWord,
  CTL_ABORT,
  CTL_GO,
  CTL_PRECOPY,
  CTL_STOP,
  CTL_BYTES,
  CTL_WORDS,
  TIME_OFFSET_BYTES,
  TIME_WORDS,
  VCPU_STRIDE,
} from './layout.js';
import type { ResolvedOptions } from '../options.js';
import type { DilationPlan, SharedState } from './protocol.js';
import { SourceImage } from '../model/image.js';
import { UffdQueue, uffdQueueBytes, Q_BELL, Q_READERS_SLEEPING } from './uffd-queue.js';
import { handlerCount, uffdCount } from '../model/memslots.js';
import { allocateWire, type WireLayout, wireLayout } from './wire.js';
import { CH_BULK, CH_HANDLER0 } from './protocol.js';
import { vcpuResolvesExits } from '../model/delivery.js';
import type { VcpuTrace } from '../trace/replay.js';
import { archStateBytes, initArchState } from '../model/arch/regions.js';
import { stage1Of } from '../model/arch/vcpu-faults.js';
import { strategyTraits } from '../model/strategies/index.js';

/**
 * The bulk ring's layout. It holds the send buffer (frames committed to the wire count against it),
 * what is in flight on the link (bandwidth-delay product), and room for the fetcher to fall behind
 * the link for a while without stopping the source: up to 4 ms of the link's pages, at most a send
 * buffer more. The engine checks it fits (MAX_PAGE_WIRE_BYTES) before allocating anything.
 */
export function bulkWireLayout(opts: ResolvedOptions): WireLayout {
  const bdp = Number.isFinite(opts.bandwidthBps) ? (opts.bandwidthBps / 8) * (opts.latencyUs / 1e6) : 0;
  const lag = Number.isFinite(opts.bandwidthBps) ? Math.min(opts.sendBufferBytes, (opts.bandwidthBps / 8) * 0.004) : opts.sendBufferBytes;
  return wireLayout(Math.max(opts.sendBufferBytes + bdp + lag + 8 * opts.pageSize, 1 << 20), opts.pageSize);
}

export function allocateShared(
  opts: ResolvedOptions,
  originEpochMs: number,
  dilation: DilationPlan,
  traces: VcpuTrace[] | null = null,
  liveLinkCuts = false,
): SharedState {
  const uffds = uffdCount(opts);
  const handlers = handlerCount(opts);
  // Channels: 0 bulk (the listen thread) and 1 urgent (the preempt thread), then one per uffd handler
  // (requests only: its pages come back on 0 or 1), then one per vCPU when vCPUs resolve their own
  // exits (src/model/delivery.ts decides who installs what).
  const link = opts.mode !== 'none' && opts.network === 'link';
  const vcpuChannels = link && vcpuResolvesExits(opts) ? opts.vcpus : 0;
  const channels = link ? 2 + handlers + vcpuChannels : 0;
  // The urgent and vCPUs' channels carry only demanded pages, at most one per vCPU in flight (a full
  // ring only makes the source retry); a handler's carries requests only.
  const bulk = bulkWireLayout(opts);
  const demandOnly = wireLayout((opts.vcpus + 8) * opts.pageSize, opts.pageSize);
  const ownPages = wireLayout(8 * opts.pageSize, opts.pageSize);
  const requests = wireLayout(0, 0, REQUEST_RECORDS);
  const layoutOf = (ch: number) => (ch === CH_BULK ? bulk : ch < CH_HANDLER0 ? demandOnly : ch < CH_HANDLER0 + handlers ? requests : ownPages);
  return {
    opts,
    originEpochMs,
    dilation,
    pageStateSab: new SharedArrayBuffer(opts.pages * 4),
    ctlSab: new SharedArrayBuffer(CTL_BYTES),
    vcpuStatsSab: new SharedArrayBuffer(opts.vcpus * VCPU_STRIDE * 8),
    memslotSabs: allocateMemslots(opts),
    writeCountSabs: opts.writeRatio > 0 ? Array.from({ length: opts.vcpus }, () => new SharedArrayBuffer(opts.pages)) : [],
    uffdSabs: Array.from({ length: uffds }, () => new SharedArrayBuffer(uffdQueueBytes(opts.vcpus))),
    wireToDest: Array.from({ length: channels }, (_, ch) => allocateWire(layoutOf(ch))),
    wireToSource: Array.from({ length: channels }, () => allocateWire(requests) as SharedArrayBuffer),
    versionSab: strategyTraits(opts.strategy).precopy && channels > 0 ? new SharedArrayBuffer(opts.pages) : null,
    arrivalMsSab: new SharedArrayBuffer(opts.pages * 4),
    traces,
    archSab: newArchSab(opts),
    liveLinkCuts: liveLinkCuts && channels > 0,
  };
}

/** Requests in flight on one channel at most: one per page, bounded in practice by one fault per vCPU. */
const REQUEST_RECORDS = 8192;

/** The guest's page attributes and tag state, initialised as they are at the switch (src/model/arch/regions.ts). */
function newArchSab(opts: ResolvedOptions): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(Math.max(1, archStateBytes(opts)));
  initArchState(opts, sab, stage1Of(opts));
  return sab;
}

export interface Views {
  opts: ResolvedOptions;
  clock: Clock;
  mem: GuestMemory;
  ctl: Int32Array;
  times: Float64Array;
  vstats: Float64Array;
  image: SourceImage;
  /** hybrid: each page's version on the source (see SharedState.versionSab); null: all version 0. */
  versions: Uint8Array | null;
  queues: UffdQueue[];
  fetcherBell: Doorbell;
  sourceBell: Doorbell;
  preemptBell: Doorbell;
}

export function openShared(s: SharedState): Views {
  const opts = s.opts;
  const clock = realClock(s.originEpochMs, s.dilation.factor);
  const ctl = new Int32Array(s.ctlSab, 0, CTL_WORDS);
  return {
    opts,
    clock,
    mem: GuestMemory.fromShared(s),
    ctl,
    times: new Float64Array(s.ctlSab, TIME_OFFSET_BYTES, TIME_WORDS),
    vstats: new Float64Array(s.vcpuStatsSab),
    image: new SourceImage(opts.seed, opts.pageSize, opts.zeroFraction),
    versions: s.versionSab ? new Uint8Array(s.versionSab) : null,
    // The queue lock's spin is the simulator's (wall); the waits it reports are modelled time.
    queues: s.uffdSabs.map((sab) => new UffdQueue(sab, opts.vcpus, opts.spinUs / clock.dilation, clock.nowUs)),
    fetcherBell: new Doorbell(ctl, bellWord(BELL_FETCHER), bellWord(BELL_FETCHER) + 1),
    sourceBell: new Doorbell(ctl, bellWord(BELL_SOURCE), bellWord(BELL_SOURCE) + 1),
    preemptBell: new Doorbell(ctl, bellWord(BELL_PREEMPT), bellWord(BELL_PREEMPT) + 1),
  };
}

/** The doorbell the handlers of one uffd sleep on (messages queued, or page frames arrived). */
export function handlerBell(q: UffdQueue): Doorbell {
  return new Doorbell(q.w, Q_BELL, Q_READERS_SLEEPING);
}

/**
 * Service threads wait for the start gun (or, hybrid, the start of precopy) too: before it, the
 * vCPUs are still prefaulting guest memory (writing to it). Returns false on abort.
 */
export function awaitStartGun(ctl: Int32Array): boolean {
  while (Atomics.load(ctl, CTL_GO) === 0 && Atomics.load(ctl, CTL_PRECOPY) === 0) {
    if (Atomics.load(ctl, CTL_ABORT) || Atomics.load(ctl, CTL_STOP)) return false;
    Atomics.wait(ctl, CTL_GO, 0, 50);
  }
  return true;
}
