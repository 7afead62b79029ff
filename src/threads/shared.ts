/**
 * Allocation of a run's shared memory (main thread) and the typed views every thread opens over it.
 */
import { realClock, type Clock } from './clock.js';
import { Doorbell } from './doorbell.js';
import { allocateMemslots, GuestMemory } from './guest-memory.js';
import {
  BELL_FETCHER, BELL_PREEMPT, BELL_SOURCE, bellWord, CTL_ABORT, CTL_GO, CTL_PRECOPY, CTL_STOP, CTL_BYTES, CTL_WORDS, TIME_OFFSET_BYTES, TIME_WORDS, VCPU_STRIDE,
} from './layout.js';
import type { ResolvedOptions } from '../options.js';
import type { SharedState } from './protocol.js';
import { SourceImage } from '../model/image.js';
import { UffdQueue, uffdQueueBytes, Q_BELL, Q_READERS_SLEEPING } from './uffd-queue.js';
import { handlerCount, uffdCount } from '../model/memslots.js';
import { vcpuResolvesExits } from '../model/delivery.js';
import { wireBytes } from './wire.js';
import type { VcpuTrace } from '../model/trace.js';
import { archStateBytes, initArchState } from '../model/arch/regions.js';
import { stage1Of } from '../model/arch/vcpu-faults.js';

export function allocateShared(opts: ResolvedOptions, originEpochMs: number, traces: VcpuTrace[] | null = null): SharedState {
  const uffds = uffdCount(opts);
  const handlers = handlerCount(opts);
  // Channels: 0 bulk (the listen thread) and 1 urgent (the preempt thread), then one per uffd handler
  // (requests only: its pages come back on 0 or 1), then one per vCPU when vCPUs resolve their own
  // exits (src/model/delivery.ts decides who installs what).
  const link = opts.mode !== 'none' && opts.network === 'link';
  const vcpuChannels = link && vcpuResolvesExits(opts) ? opts.vcpus : 0;
  const channels = link ? 2 + handlers + vcpuChannels : 0;
  // A ring holds the send buffer plus what is in flight on the link (bandwidth-delay product), and
  // at least a few huge pages. A handler's ring carries nothing to it; a vCPU's, its own pages.
  const bdp = Number.isFinite(opts.bandwidthBps) ? (opts.bandwidthBps / 8) * (opts.latencyUs / 1e6) : 0;
  const destRing = align8(Math.max(opts.sendBufferBytes + bdp + 8 * (opts.pageSize + 64), 1 << 20));
  const destRingOf = (ch: number) => (ch < 2 ? destRing : ch < 2 + handlers ? 4096 : align8(Math.max(4 * (opts.pageSize + 64), 64 * 1024)));
  return {
    opts,
    originEpochMs,
    pageStateSab: new SharedArrayBuffer(opts.pages * 4),
    ctlSab: new SharedArrayBuffer(CTL_BYTES),
    vcpuStatsSab: new SharedArrayBuffer(opts.vcpus * VCPU_STRIDE * 8),
    memslotSabs: allocateMemslots(opts),
    lastWriteSabs: opts.writeRatio > 0 ? Array.from({ length: opts.vcpus }, () => new SharedArrayBuffer(opts.pages * 4)) : [],
    uffdSabs: Array.from({ length: uffds }, () => new SharedArrayBuffer(uffdQueueBytes(opts.vcpus))),
    wireToDestSabs: Array.from({ length: channels }, (_, ch) => new SharedArrayBuffer(wireBytes(destRingOf(ch)))),
    wireToSourceSabs: Array.from({ length: channels }, () => new SharedArrayBuffer(wireBytes(REQUEST_RING_BYTES))),
    arrivalMsSab: new SharedArrayBuffer(opts.pages * 4),
    arrivalHowSab: new SharedArrayBuffer(opts.pages),
    traces,
    archSab: newArchSab(opts),
  };
}

/** The guest's page attributes and tag state, initialised as they are at the switch (src/model/arch/regions.ts). */
function newArchSab(opts: ResolvedOptions): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(Math.max(1, archStateBytes(opts)));
  initArchState(opts, sab, stage1Of(opts));
  return sab;
}

const REQUEST_RING_BYTES = 256 * 1024;
function align8(n: number): number { return Math.ceil(n / 8) * 8; }


export interface Views {
  opts: ResolvedOptions;
  clock: Clock;
  mem: GuestMemory;
  ctl: Int32Array;
  times: Float64Array;
  vstats: Float64Array;
  image: SourceImage;
  queues: UffdQueue[];
  fetcherBell: Doorbell;
  sourceBell: Doorbell;
  preemptBell: Doorbell;
}

export function openShared(s: SharedState): Views {
  const opts = s.opts;
  const clock = realClock(s.originEpochMs);
  const ctl = new Int32Array(s.ctlSab, 0, CTL_WORDS);
  return {
    opts,
    clock,
    mem: GuestMemory.fromShared(s),
    ctl,
    times: new Float64Array(s.ctlSab, TIME_OFFSET_BYTES, TIME_WORDS),
    vstats: new Float64Array(s.vcpuStatsSab),
    image: new SourceImage(opts.seed, opts.pageSize, opts.zeroFraction),
    queues: s.uffdSabs.map((sab) => new UffdQueue(sab, opts.vcpus, opts.spinUs, clock.nowUs)),
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
