/**
 * The virtual-time engine: one migration as a single-threaded discrete-event simulation. vCPUs, the
 * page fetcher, uffd handlers and the source host are actors on a virtual clock; every step of a
 * fault costs what src/virtual/costs.ts says, on a core of `costs.cores`, under the locks it takes.
 * It reuses the threaded engine's pure parts: AccessStream (so seeded workloads touch the same
 * pages), the strategies, and the Link model.
 *
 *   vCPU ──fault──▶ [exit]  post ──▶ fetcher ──▶ (local copy | request ─Link─▶ source ─Link─▶) install
 *                   [uffd]  queue lock: enqueue, poll-wake readers ──▶ handler: read() ──▶ … copy
 *        ◀── wake (page waiters | the queue's wake walk) ◀──────────────────────────────────┘
 *
 * Memory holds page *versions*, not bytes: per page a state (missing / requested / present) and the
 * version its copy holds; the oracle keeps the version the guest expects (every guest write bumps
 * both). A read that sees another version than expected, or a page that ends up missing or stale,
 * fails `verified`. 5 bytes per page: a 1 TiB guest with 2 MiB pages is 512 Ki pages (2.5 MiB of
 * state); with 4 KiB pages it would be 256 Mi pages (1.25 GiB), so use 2 MiB pages there.
 *
 * Determinism: the event queue is ordered by (time, sequence number), the workload by its seed, and
 * nothing reads the host clock except wallMs and peakRssBytes.
 *
 * The event stream (src/events.ts, `hooks.onEvent`): the same start / tick / fault / end / error
 * messages as the threaded engine, on the virtual clock (every tMs is virtual time). A tick
 * describes the state at a tick boundary, built between two events from what the engine already
 * keeps; it reads state and never schedules anything, so a run with onEvent is the same run as
 * without. `hooks.playback` paces the run against the wall clock (slow motion for the live demo).
 */
import type { SimulateHooks } from '../hooks.js';
import { peakRssBytes } from '../rss.js';
import { createHistogram } from 'node:perf_hooks';
import { Errors, SimError } from '../errors.js';
import type { DecodedFault, SimEvent, VcpuSnapshot } from '../events.js';
import { cdfPoints, latencyDist, summarizeNs } from '../model/histogram.js';
import { Link } from '../model/link.js';
import { mapGeometry } from '../threads/observe.js';
import type { ResolvedOptions } from '../options.js';
import type { FetcherStats, SourceStats } from '../threads/protocol.js';
import { PAGE_FLAG_DEMAND, PAGE_FLAG_PREFETCH, PAGE_FLAG_ZERO } from '../threads/protocol.js';
import type { RunResult, TimelineSample } from '../model/result.js';
import { isZeroPage } from '../model/rng.js';
import { createStrategy, type Strategy } from '../model/strategies/index.js';
import { loadTrace } from '../model/trace.js';
import { Access, describeMemoryFaultFlags, describeUffdFlags, KVM_EXIT_MEMORY_FAULT, memoryFaultFlags, UFFD_EVENT_PAGEFAULT, uffdPagefaultFlags } from '../model/uapi.js';
import type { UffdLockStats } from '../threads/uffd-queue.js';
import { AccessStream, vcpuRange } from '../model/workload.js';
import { defaultCostProfile, loadCostProfile, perPage, type CostModel } from './costs.js';
import { EventQueue } from './event-queue.js';

/** What the virtual engine adds to the run's options (see INTEGRATION.md for the option names). */
export interface VirtualOptions {
  /** A cost profile file (`--costs FILE`); default: the built-in profile. */
  costs?: string;
  /** Use these costs directly (tests, the bench); wins over `costs`. */
  costModel?: CostModel;
  /** Override the profile's core count (the published bench models 256 cores). */
  cores?: number;
  /**
   * Who resolves a memory-fault exit: the page fetcher (QEMU-style, as the threaded engine does) or
   * the vCPU thread itself (demand_paging_test: the vCPU copies the page and re-enters). 'vcpu'
   * needs network 'none'. @default 'fetcher'
   */
  exitResolver?: 'fetcher' | 'vcpu';
}

/** The virtual engine takes the same hooks as simulate() (src/hooks.ts). */
export type VirtualHooks = SimulateHooks;

export type VirtualRunResult = Omit<RunResult, 'engine'> & { engine: 'virtual' };

// ---- page states and versions ----
const MISSING = 0, REQUESTED = 1, PRESENT = 2;
/** Version of a page whose bytes have not landed yet (publish-before-copy). Versions wrap below it. */
const GARBAGE = 0xffff;
/** Thread-local flag: this install published its page before the copy (the broken variant). */
const EARLY = 64;
const bump = (v: number): number => (v + 1) % GARBAGE;

// ---- thread kinds and states ----
const VCPU = 0, FETCHER = 1, HANDLER = 2;
const BUSY = 0, SPIN = 1, SLEEP = 2, WAKING = 3, DONE = 4;

// ---- event phases ----
const enum Ph {
  Woken, SpinEnd, Arrive, Preempt,
  VRun, VFaultDone, VUffdHeld, VUffdRel, VUffdCancelRel, VResume,
  FLoop, FFault, FSent,
  HLoop, HReadHeld, HReadRel, HGot, HEmpty, HSent,
  InstStart, InstMmHeld, InstMmRel, InstPublish, InstWakeHeld, InstWakeRel,
  SrcReq, SrcTx,
}

interface Lock {
  name: string;
  holder: number;
  waiters: number[];
  waitHead: number;
  acquires: number;
  contended: number;
  lockWaitUs: number;
}

interface Thread {
  id: number;
  kind: number;
  state: number;
  hasCore: boolean;
  coreSinceUs: number;
  /** Pending core request (when queued for a core). */
  wantUs: number;
  wantPhase: number;
  /** Where a notify resumes it. */
  resumePhase: number;
  spinToken: number;
  /** Phase to run when a lock it waits for is handed over. */
  lockPhase: number;
  lockWaitSinceUs: number;
  /** The page being worked on (fault, install) and its frame flags. */
  page: number;
  flags: number;
  /** Phase to continue at after an install. */
  afterInstall: number;
  /** Arrived frames waiting for this thread: page * 64 + flags. */
  arrivals: number[];
  arrivalHead: number;
}

interface VcpuState {
  stream: AccessStream;
  limit: number;
  untilMigrated: boolean;
  tail: number;
  i: number;
  faults: number; faultsRead: number; faultsWrite: number; faultsExec: number;
  reads: number; writes: number; badReads: number; firstBadRead: string | null;
  faultStartUs: number;
  /** Page of the latest fault (for the event stream's decoded record). */
  lastPage: number;
  blockedUs: number;
  runUs: number;
  access: number;
  /** uffd entry: 0 none, 1 pending, 2 waiting (read by a handler). */
  entry: number;
  entryPage: number;
}

interface UffdQ {
  lock: Lock;
  /** Pending vCPUs in fault order (lazily cleaned: entries no longer pending are skipped). */
  pending: number[];
  pendingHead: number;
  pendingCount: number;
  waitingCount: number;
  /** vCPUs queued per page (pending or waiting). */
  byPage: Map<number, number[]>;
  handlers: number[];
  slots: number;
  reads: number;
  wakeWalks: number;
  wakeWalkEntries: number;
}

const SAMPLE_US = 10_000;
/** Buckets of the live latency histogram in tick events: [2^N us, 2^(N+1) us), as src/layout.ts. */
const LATENCY_BUCKETS = 24;
/** Playback: yield to the event loop at least this often (wall ms), even when behind. */
const YIELD_MS = 20;
/** Playback: when the run falls behind the wall clock by more than this, it slides instead of rushing. */
const MAX_LAG_MS = 250;
const MAX_SAMPLES = 4000;
/** Accesses a vCPU runs per event at most (a bound on one loop; the horizon bounds it first). */
const BATCH = 4096;
/** Frame header bytes of a page frame and of a request (msgpack'd tuples in the threaded engine). */
const PAGE_HEADER_BYTES = 16;
const REQUEST_BYTES = 12;

export function resolveCosts(v: VirtualOptions): CostModel {
  const base = v.costModel ?? (v.costs ? loadCostProfile(v.costs).costs : defaultCostProfile().costs);
  return v.cores !== undefined ? { ...base, cores: v.cores } : base;
}

/**
 * One run. With `hooks.playback` it is paced against the wall clock and yields between events;
 * otherwise it runs synchronously to the end (as runVirtual).
 */
export async function simulateVirtual(opts: ResolvedOptions & VirtualOptions, hooks: VirtualHooks = {}): Promise<VirtualRunResult> {
  if (!hooks.playback) return runVirtual(opts, resolveCosts(opts), hooks);
  const rate = hooks.playback.virtualUsPerRealMs;
  if (!(rate > 0) || !Number.isFinite(rate)) throw Errors.badInput('playback', 'virtualUsPerRealMs must be a positive number');
  const wallStart = performance.now();
  return guarded(hooks, async () => {
    const sim = newSim(opts, resolveCosts(opts), hooks);
    await sim.runPaced(rate);
    return sim.finish(performance.now() - wallStart);
  });
}

/** One run, synchronously. */
export function runVirtual(opts: ResolvedOptions & VirtualOptions, costs: CostModel, hooks: VirtualHooks = {}): VirtualRunResult {
  const wallStart = performance.now();
  return guarded(hooks, () => {
    const sim = newSim(opts, costs, hooks);
    sim.run();
    return sim.finish(performance.now() - wallStart);
  });
}

function newSim(opts: ResolvedOptions & VirtualOptions, costs: CostModel, hooks: VirtualHooks): VirtualSim {
  if (opts.strategy === 'hybrid' && opts.mode !== 'none') throw Errors.badInput('strategy', 'the virtual engine does not model hybrid\'s precopy rounds yet (use --engine threads)');
  if (opts.injectFault !== 'none') throw Errors.badInput('injectFault', 'fault injection kills threads; the virtual engine has none (use --engine threads)');
  const exitByVcpu = opts.exitResolver === 'vcpu';
  if (exitByVcpu && opts.network !== 'none') throw Errors.badInput('exitResolver', "'vcpu' resolves from a local copy: it needs network 'none'");
  return new VirtualSim(opts, costs, exitByVcpu, hooks);
}

/** Runs `body`; a SimError it throws also goes to the event stream as an `error` event. */
function guarded<T>(hooks: VirtualHooks, body: () => T): T {
  const report = (e: unknown): never => {
    if (hooks.onEvent && e instanceof SimError) hooks.onEvent({ type: 'error', code: e.code, message: e.message });
    throw e;
  };
  try {
    const r = body();
    return (r instanceof Promise ? r.catch(report) : r) as T;
  } catch (e) { return report(e); }
}

class VirtualSim {
  readonly q = new EventQueue();
  now = 0;
  readonly pages: number;
  readonly state: Uint8Array;
  readonly memVer: Uint16Array;
  readonly expVer: Uint16Array;
  readonly threads: Thread[] = [];
  readonly vcpus: VcpuState[] = [];
  readonly fetcher: number;
  readonly handlerIds: number[] = [];
  readonly uffds: UffdQ[] = [];
  readonly pagesPerQueue: number;
  readonly mm: Lock = newLock('mm');
  // cores
  freeCores: number;
  readonly runQ: number[] = [];
  runHead = 0;
  // exit mode: vCPUs waiting on a page
  readonly pageWaiters = new Map<number, number[]>();
  // fetcher inbox: faulting vCPU ids
  readonly faultInbox: number[] = [];
  faultHead = 0;
  // network
  readonly outbound: Link | null;
  readonly inbound: Link | null;
  readonly strategy: Strategy;
  readonly sent: Uint8Array | null;
  unsent: number;
  readonly bulk: number[] = []; // page * 64 + flags, then channel thread id in bulkTo
  readonly bulkTo: number[] = [];
  bulkHead = 0;
  txScheduled = false;
  readonly reqPage: number[] = [];
  readonly reqVcpu: number[] = [];
  readonly reqTo: number[] = [];
  reqHead = 0;
  readonly sourceId: number;
  sweepCursor = 0;
  // progress
  presentPages = 0;
  vcpusDone = 0;
  migrationStartUs = 0;
  migrationDoneUs = -1;
  blocked = 0;
  allBlockedSinceUs = -1;
  allBlockedUs = 0;
  totalAccesses = 0;
  totalFaults = 0;
  readonly latency = createHistogram();
  readonly timeline: TimelineSample[] = [];
  nextSampleUs = 0;
  sampleEveryUs = SAMPLE_US;
  nextProgressUs = 0;
  // stats
  readonly fstats: FetcherStats[];
  readonly sstats: SourceStats;
  readonly cellSumMs: Float64Array;
  readonly cellDemand: Float64Array;
  readonly cellZero: Float64Array;
  readonly geometry: { cells: number; pagesPerCell: number };
  duplicatePages = 0;
  // the event stream (src/events.ts): state kept always (cheap), published only with onEvent
  readonly latencyBuckets = new Array<number>(LATENCY_BUCKETS).fill(0);
  readonly cellPresent: Int32Array;
  readonly emit: ((e: SimEvent) => void) | null;
  readonly eventEveryUs: number;
  nextEventUs = Infinity;
  readonly dirtyCells: number[] = [];
  readonly cellDirty: Uint8Array;
  readonly faultsSeen: Float64Array;
  lastTick = { tUs: 0, faults: 0, accesses: 0 };

  readonly copyUs: number;
  readonly installUs: number;
  readonly spinUs: number;
  readonly serviceSpinUs: number;
  readonly sliceUs = 3000;

  constructor(readonly opts: ResolvedOptions, readonly c: CostModel, readonly exitByVcpu: boolean, readonly hooks: VirtualHooks) {
    const o = opts;
    this.pages = o.pages;
    this.state = new Uint8Array(o.pages);
    this.memVer = new Uint16Array(o.pages);
    this.expVer = new Uint16Array(o.pages);
    this.freeCores = c.cores;
    this.copyUs = perPage(c.copyUs, o.pageSize);
    this.installUs = perPage(c.installUs, o.pageSize);
    this.spinUs = c.spin ? o.spinUs : 0;
    this.serviceSpinUs = c.spin ? o.serviceSpinUs : 0;
    this.pagesPerQueue = Math.max(1, vcpuRange({ ...o, partition: true }, 0).count);
    this.geometry = mapGeometry(o.pages);
    this.cellSumMs = new Float64Array(this.geometry.cells);
    this.cellDemand = new Float64Array(this.geometry.cells);
    this.cellZero = new Float64Array(this.geometry.cells);
    this.cellPresent = new Int32Array(this.geometry.cells);
    this.emit = hooks.onEvent ?? null;
    this.eventEveryUs = hooks.eventIntervalUs ?? (hooks.eventIntervalMs ?? 100) * (hooks.playback ? hooks.playback.virtualUsPerRealMs : 1000);
    if (this.emit && !(this.eventEveryUs > 0)) throw Errors.badInput('eventIntervalUs', 'the tick interval must be positive');
    this.cellDirty = new Uint8Array(this.emit ? this.geometry.cells : 0);
    this.faultsSeen = new Float64Array(this.emit ? o.vcpus : 0);
    this.strategy = createStrategy(o.strategy, { pages: o.pages, vcpus: o.vcpus, precopyRounds: o.precopyRounds });

    // vCPUs
    const traces = o.workload === 'trace' ? loadTraceViews(o.trace!, o.vcpus) : null;
    for (let v = 0; v < o.vcpus; v++) {
      this.addThread(VCPU);
      const trace = traces?.[v] ?? null;
      const limit = o.accesses ?? (trace ? trace.accesses.length : Infinity);
      const untilMigrated = o.accesses === undefined && !trace;
      this.vcpus.push({
        stream: new AccessStream(o.workload, vcpuRange(o, v), o, v, trace), limit, untilMigrated, tail: untilMigrated ? o.tailAccesses : 0, i: 0,
        faults: 0, faultsRead: 0, faultsWrite: 0, faultsExec: 0, reads: 0, writes: 0, badReads: 0, firstBadRead: null,
        faultStartUs: 0, lastPage: -1, blockedUs: 0, runUs: 0, access: 0, entry: 0, entryPage: -1,
      });
    }
    // service threads
    this.fetcher = o.mode === 'none' ? -1 : this.addThread(FETCHER).id;
    if (o.mode === 'uffd') {
      const nq = o.uffdPerVcpu ? o.vcpus : 1;
      for (let k = 0; k < nq; k++) {
        this.uffds.push({
          lock: newLock(`uffd ${k}`), pending: [], pendingHead: 0, pendingCount: 0, waitingCount: 0, byPage: new Map(), handlers: [],
          slots: o.uffdPerVcpu ? 1 : o.vcpus, reads: 0, wakeWalks: 0, wakeWalkEntries: 0,
        });
      }
      const nh = o.uffdPerVcpu ? o.vcpus : o.handlers;
      for (let h = 0; h < nh; h++) {
        const t = this.addThread(HANDLER);
        this.handlerIds.push(t.id);
        this.uffds[o.uffdPerVcpu ? h : 0]!.handlers.push(t.id);
      }
    }
    this.sourceId = this.threads.length;
    const fs = (role: 'fetcher' | 'handler'): FetcherStats => ({
      role, faultRecords: 0, requestsSent: 0, mergedFaults: 0, alreadyPresent: 0, installedDemand: 0, installedPushed: 0, installedZero: 0,
      eexist: 0, framesReceived: 0, bytesReceived: 0, requestBytesSent: 0, uffdReads: 0, sleeps: 0, discarded: 0, overwritten: 0,
      recordLagUsTotal: 0, installLagUsTotal: 0,
    });
    this.fstats = this.threads.slice(o.vcpus).map((t) => fs(t.kind === HANDLER ? 'handler' : 'fetcher'));
    this.sstats = {
      role: 'source', pagesSent: 0, pagesDemand: 0, pagesPushed: 0, zeroPages: 0, requestsReceived: 0, requestsForSentPages: 0,
      bytesToDest: 0, bytesToSource: 0, framesSent: 0, demandQueueUsTotal: 0, demandQueueUsMax: 0, pagesPrefetched: 0, pagesUrgent: 0,
      precopyRounds: 0, precopyPagesSent: 0, pagesResent: 0, pagesDiscarded: 0, lastArriveUs: 0, sleeps: 0, ringFullStalls: 0, loops: 0, requestLagUsTotal: 0,
    };
    const link = o.mode !== 'none' && o.network === 'link';
    const cfg = { bandwidthBps: o.bandwidthBps, latencyUs: o.latencyUs, overheadBytes: o.msgOverheadBytes };
    this.outbound = link ? new Link(cfg) : null;
    this.inbound = link ? new Link(cfg) : null;
    this.sent = link ? new Uint8Array(o.pages) : null;
    this.unsent = o.pages;
    if (o.mode === 'none') {
      this.state.fill(PRESENT);
      this.presentPages = o.pages;
      this.migrationDoneUs = 0;
      for (let c = 0; c < this.geometry.cells; c++) {
        this.cellPresent[c] = Math.min(this.geometry.pagesPerCell, o.pages - c * this.geometry.pagesPerCell);
        this.markCell(c);
      }
    }
  }

  private addThread(kind: number): Thread {
    const t: Thread = {
      id: this.threads.length, kind, state: kind === VCPU ? BUSY : SLEEP, hasCore: false, coreSinceUs: 0, wantUs: 0, wantPhase: 0,
      resumePhase: kind === FETCHER ? Ph.FLoop : Ph.HLoop, spinToken: 0, lockPhase: 0, lockWaitSinceUs: 0, page: -1, flags: 0, afterInstall: 0,
      arrivals: [], arrivalHead: 0,
    };
    this.threads.push(t);
    return t;
  }

  // ---------------------------------------------------------------- the loop
  run(): void {
    this.begin();
    let n = 0;
    while (this.step()) {
      if ((++n & 0xffff) === 0 && this.hooks.signal?.aborted) throw new SimError('ABORTED', 'the run was stopped');
    }
    this.end();
  }

  /**
   * The same run, paced: the next thing to happen (an event, or a tick boundary) waits until the
   * wall clock reaches its virtual time / rate. Falling behind by more than MAX_LAG_MS slides the
   * schedule rather than rushing to catch up; the loop yields at least every YIELD_MS regardless.
   */
  async runPaced(virtualUsPerRealMs: number): Promise<void> {
    const signal = this.hooks.signal;
    const stopped = () => { if (signal?.aborted) throw new SimError('ABORTED', 'the run was stopped'); };
    stopped();
    this.begin();
    let wall0 = performance.now();
    let lastYield = wall0;
    let n = 0;
    for (;;) {
      const next = this.q.peekTimeUs();
      if (next === Infinity) break;
      const target = Math.min(next, this.nextEventUs);
      const now = performance.now();
      const lag = wall0 + target / virtualUsPerRealMs - now;
      if (lag < -MAX_LAG_MS) wall0 += -lag - MAX_LAG_MS;
      if (lag > 1 || now - lastYield >= YIELD_MS) {
        await pause(lag > 1 ? Math.min(lag, 100) : 0, signal);
        lastYield = performance.now();
        stopped();
        continue;
      }
      if (this.nextEventUs < next) { this.tick(this.nextEventUs); this.nextEventUs += this.eventEveryUs; stopped(); continue; }
      this.step();
      if ((++n & 0x3ff) === 0) stopped();
    }
    stopped();
    this.end();
  }

  private begin(): void {
    for (let v = 0; v < this.opts.vcpus; v++) this.cpu(this.threads[v]!, 0, Ph.VRun);
    if (this.outbound) this.kickSource();
    if (this.emit) {
      const o = this.opts, g = this.geometry;
      this.emit({
        type: 'start', mode: o.mode, strategy: o.strategy, vcpus: o.vcpus, pages: o.pages, pageSize: o.pageSize,
        memslots: o.memslots.map((m) => ({ baseGpa: m.baseGpa, sizeBytes: m.sizeBytes })), cells: g.cells, pagesPerCell: g.pagesPerCell,
        engine: 'virtual', playback: this.hooks.playback ? { virtualUsPerRealMs: this.hooks.playback.virtualUsPerRealMs } : null,
      });
      this.nextEventUs = this.eventEveryUs;
    }
  }

  /** Runs the next event; false when the queue is empty. */
  private step(): boolean {
    const q = this.q;
    if (!q.pop()) return false;
    const t = q.popTimeUs;
    if (t < this.now) throw new Error(`assertion failed: time went back from ${this.now} to ${t}`);
    if (t >= this.nextSampleUs) this.sample(t);
    if (t >= this.nextEventUs) { // the state at the last boundary <= t is the state now, before t's events
      const boundary = this.nextEventUs + Math.floor((t - this.nextEventUs) / this.eventEveryUs) * this.eventEveryUs;
      this.tick(boundary);
      this.nextEventUs = boundary + this.eventEveryUs;
    }
    this.now = t;
    this.dispatch(q.popActor, q.popPhase, q.popArg);
    return true;
  }

  /** The checks at the end of a run, the last timeline sample and the last tick. */
  private end(): void {
    if (this.vcpusDone !== this.opts.vcpus) {
      const v = this.vcpus.findIndex((s, i) => this.threads[i]!.state !== DONE && s.entryPage >= 0);
      const page = v >= 0 ? this.vcpus[v]!.entryPage : -1;
      throw new SimError('PAGE_NEVER_ARRIVED', `virtual run deadlocked: ${this.opts.vcpus - this.vcpusDone} vCPUs never finished` +
        (page >= 0 ? `; vCPU ${v} waits on page ${page}` : ''));
    }
    if (this.presentPages !== this.pages && this.opts.mode !== 'none') {
      throw new SimError('PAGE_NEVER_ARRIVED', `virtual run stalled: ${this.pages - this.presentPages} pages never arrived`);
    }
    this.sample(this.now, true);
    if (this.emit) this.tick(this.now);
  }

  finish(wallMs: number): VirtualRunResult {
    const r = this.result(wallMs);
    this.emit?.({ type: 'end', result: r });
    return r;
  }

  private dispatch(id: number, ph: number, arg: number): void {
    if (id === this.sourceId) { if (ph === Ph.SrcReq) this.onRequest(); else this.onTx(); return; }
    const t = this.threads[id]!;
    switch (ph) {
      case Ph.Woken: t.state = BUSY; this.cpu(t, 0, t.resumePhase); return;
      case Ph.SpinEnd:
        if (t.state === SPIN && t.spinToken === arg) { t.state = SLEEP; this.releaseCore(t); if (t.kind !== VCPU) this.fstats[t.id - this.opts.vcpus]!.sleeps++; }
        return;
      case Ph.Arrive: this.onArrive(t, arg); return;
      case Ph.Preempt: this.releaseCore(t); this.cpu(t, 0, Ph.VRun); return;
      case Ph.VRun: this.vcpuRun(t); return;
      case Ph.VFaultDone: this.vcpuFaultDone(t); return;
      case Ph.VUffdHeld: this.vcpuUffdHeld(t); return;
      case Ph.VUffdRel: this.vcpuUffdRel(t); return;
      case Ph.VUffdCancelRel: this.unlock(this.uffdOf(t.page).lock); this.vcpuResume(t); return;
      case Ph.VResume: this.vcpuResume(t); return;
      case Ph.FLoop: this.fetcherLoop(t); return;
      case Ph.FFault: this.fetcherFault(t); return;
      case Ph.FSent: case Ph.HSent: this.sendRequest(t); this.cpu(t, 0, ph === Ph.FSent ? Ph.FLoop : Ph.HLoop); return;
      case Ph.HLoop: this.handlerLoop(t); return;
      case Ph.HReadHeld: this.handlerReadHeld(t); return;
      case Ph.HReadRel: this.handlerReadRel(t); return;
      case Ph.HGot: this.handlerGot(t); return;
      case Ph.HEmpty: this.idle(t); return;
      case Ph.InstStart: this.installCopy(t, false); return;
      case Ph.InstMmHeld: this.schedule(this.now + this.c.mmHoldUs, t, Ph.InstMmRel); return;
      case Ph.InstMmRel: this.installCopy(t, true); return;
      case Ph.InstPublish: this.installPublish(t); return;
      case Ph.InstWakeHeld: this.installWakeHeld(t); return;
      case Ph.InstWakeRel: this.installWakeRel(t); return;
      default: throw new Error(`assertion failed: unknown phase ${ph}`);
    }
  }

  private schedule(atUs: number, t: Thread, ph: number, arg = 0): void { this.q.push(atUs, t.id, ph, arg); }

  // ---------------------------------------------------------------- cores
  /** `t` needs a core for `us`, then runs `ph`. */
  private cpu(t: Thread, us: number, ph: number): void {
    if (t.hasCore) { this.schedule(this.now + us, t, ph); return; }
    if (this.freeCores > 0) {
      this.freeCores--;
      t.hasCore = true;
      t.coreSinceUs = this.now;
      this.schedule(this.now + us, t, ph);
      return;
    }
    t.wantUs = us;
    t.wantPhase = ph;
    this.runQ.push(t.id);
  }

  private releaseCore(t: Thread): void {
    if (!t.hasCore) throw new Error(`assertion failed: thread ${t.id} releases a core it does not hold`);
    t.hasCore = false;
    if (this.runHead < this.runQ.length) {
      const u = this.threads[this.runQ[this.runHead++]!]!;
      if (this.runHead > 1024 && this.runHead * 2 > this.runQ.length) { this.runQ.splice(0, this.runHead); this.runHead = 0; }
      u.hasCore = true;
      u.coreSinceUs = this.now;
      this.schedule(this.now + u.wantUs, u, u.wantPhase);
    } else this.freeCores++;
  }

  private get coresWanted(): boolean { return this.runHead < this.runQ.length; }

  // ---------------------------------------------------------------- locks (spinning: waiters keep their core)
  private lock(t: Thread, l: Lock, ph: number): void {
    l.acquires++;
    if (l.holder < 0) { l.holder = t.id; this.schedule(this.now, t, ph); return; }
    l.contended++;
    t.lockPhase = ph;
    t.lockWaitSinceUs = this.now;
    l.waiters.push(t.id);
  }

  private unlock(l: Lock): void {
    if (l.waitHead < l.waiters.length) {
      const u = this.threads[l.waiters[l.waitHead++]!]!;
      if (l.waitHead > 1024 && l.waitHead * 2 > l.waiters.length) { l.waiters.splice(0, l.waitHead); l.waitHead = 0; }
      l.holder = u.id;
      const at = this.now + this.c.lockHandoverUs;
      l.lockWaitUs += at - u.lockWaitSinceUs;
      this.schedule(at, u, u.lockPhase);
    } else l.holder = -1;
  }

  // ---------------------------------------------------------------- sleeping and waking
  /** `t` has nothing to do: spin (keeping its core) then sleep; notify() resumes it at resumePhase. */
  private park(t: Thread, spinUs: number, resumePhase: number): void {
    t.resumePhase = resumePhase;
    if (spinUs > 0) {
      t.state = SPIN;
      this.schedule(this.now + spinUs, t, Ph.SpinEnd, ++t.spinToken);
    } else {
      t.state = SLEEP;
      this.releaseCore(t);
      if (t.kind !== VCPU) this.fstats[t.id - this.opts.vcpus]!.sleeps++;
    }
  }

  private notify(t: Thread): void {
    if (t.state === SPIN) { t.state = BUSY; t.spinToken++; this.schedule(this.now, t, t.resumePhase); } else if (t.state === SLEEP) {
      t.state = WAKING;
      this.schedule(this.now + this.c.wakeupUs, t, Ph.Woken);
    }
  }

  /** A service thread with nothing to do: re-check for work (a notify while busy is not kept), then park. */
  private idle(t: Thread): void {
    if (this.hasWork(t)) { this.cpu(t, 0, t.kind === FETCHER ? Ph.FLoop : Ph.HLoop); return; }
    this.park(t, this.serviceSpinUs, t.kind === FETCHER ? Ph.FLoop : Ph.HLoop);
  }

  private hasWork(t: Thread): boolean {
    if (t.arrivalHead < t.arrivals.length) return true;
    if (t.kind === FETCHER) return this.faultHead < this.faultInbox.length || this.sweepDue();
    return this.uffdOfHandler(t).pendingCount > 0;
  }

  private sweepDue(): boolean {
    return this.opts.network === 'none' && this.vcpusDone === this.opts.vcpus && this.sweepCursor < this.pages;
  }

  // ---------------------------------------------------------------- vCPUs
  private vcpuRun(t: Thread): void {
    const o = this.opts, s = this.vcpus[t.id]!, st = this.state;
    let horizon = this.q.peekTimeUs();
    if (this.coresWanted) horizon = Math.min(horizon, t.coreSinceUs + this.sliceUs);
    const stepUs = this.c.accessUs + o.thinkUs;
    let at = this.now;
    for (let n = 0; n < BATCH; n++) {
      if (n > 0 && at >= horizon) {
        if (this.coresWanted && at >= t.coreSinceUs + this.sliceUs) this.schedule(at, t, Ph.Preempt);
        else this.schedule(at, t, Ph.VRun);
        return;
      }
      if (s.i >= s.limit || (s.untilMigrated && this.migrationDoneUs >= 0 && s.tail-- <= 0)) { this.now = at; this.vcpuFinish(t); return; }
      const stream = s.stream;
      stream.next();
      let page = stream.page;
      if (page < 0) {
        page = pageOfGpa(o, stream.gpa);
        if (page < 0) throw Errors.noMemslot(t.id, stream.gpa);
      }
      s.i++;
      if (st[page] !== PRESENT) { this.now = at; this.vcpuFault(t, s, page, stream.access); return; }
      this.access(t.id, s, page, stream.write);
      at += stepUs;
    }
    this.schedule(at, t, Ph.VRun);
  }

  /** One guest access to a present page, checked by the oracle. */
  private access(v: number, s: VcpuState, page: number, write: boolean): void {
    this.totalAccesses++;
    if (write) {
      s.writes++;
      if (this.memVer[page] !== GARBAGE) this.memVer[page] = bump(this.memVer[page]!);
      this.expVer[page] = bump(this.expVer[page]!);
      return;
    }
    s.reads++;
    const got = this.memVer[page]!, want = this.expVer[page]!;
    if (got !== want) {
      s.badReads++;
      s.firstBadRead ??= `vCPU ${v} read page ${page} at ${this.now.toFixed(2)} us: version ${got === GARBAGE ? 'garbage (bytes not copied yet)' : got}, expected ${want}`;
    }
  }

  private vcpuFault(t: Thread, s: VcpuState, page: number, access: Access): void {
    s.faults++;
    this.totalFaults++;
    if (access === Access.Write) s.faultsWrite++; else if (access === Access.Exec) s.faultsExec++; else s.faultsRead++;
    s.faultStartUs = this.now;
    s.access = access;
    s.entryPage = page;
    s.lastPage = page;
    t.page = page;
    this.blockBegin();
    const c = this.c;
    if (this.opts.mode === 'exit') this.cpu(t, c.faultUs + c.exitUs + (this.exitByVcpu ? 0 : c.postUs), Ph.VFaultDone);
    else this.cpu(t, c.faultUs, Ph.VFaultDone);
  }

  private vcpuFaultDone(t: Thread): void {
    const page = t.page;
    if (this.opts.mode === 'uffd') { this.lock(t, this.uffdOf(page).lock, Ph.VUffdHeld); return; }
    if (this.exitByVcpu) {
      if (this.state[page] === MISSING) { this.state[page] = REQUESTED; this.beginInstall(t, page, PAGE_FLAG_DEMAND | this.zeroFlag(page), Ph.VResume); return; }
      if (this.state[page] === PRESENT) { this.vcpuResume(t); return; }
      this.waitOnPage(t, page);
      return;
    }
    // Post the memory_fault record to the fetcher, then wait for the page.
    this.faultInbox.push(t.id);
    this.notify(this.threads[this.fetcher]!);
    if (this.state[page] === PRESENT) { this.vcpuResume(t); return; }
    this.waitOnPage(t, page);
  }

  private waitOnPage(t: Thread, page: number): void {
    let w = this.pageWaiters.get(page);
    if (!w) { w = []; this.pageWaiters.set(page, w); }
    w.push(t.id);
    this.park(t, this.spinUs, Ph.VResume);
  }

  /** handle_userfault under the queue lock: re-check, else queue the message and poll-wake the readers. */
  private vcpuUffdHeld(t: Thread): void {
    const page = t.page, uq = this.uffdOf(page), s = this.vcpus[t.id]!, c = this.c;
    if (this.state[page] === PRESENT) { this.schedule(this.now + c.lockHoldUs, t, Ph.VUffdCancelRel); return; }
    s.entry = 1;
    uq.pending.push(t.id);
    uq.pendingCount++;
    let w = uq.byPage.get(page);
    if (!w) { w = []; uq.byPage.set(page, w); }
    w.push(t.id);
    let polling = 0;
    for (const h of uq.handlers) if (this.threads[h]!.state === SLEEP) polling++;
    this.schedule(this.now + c.lockHoldUs + c.enqueueUs + polling * c.wakePerEntryUs, t, Ph.VUffdRel);
  }

  private vcpuUffdRel(t: Thread): void {
    const uq = this.uffdOf(t.page);
    this.unlock(uq.lock);
    for (const h of uq.handlers) this.notify(this.threads[h]!); // wake_up_poll: every reader polling the fd
    this.park(t, this.spinUs, Ph.VResume);
  }

  private vcpuResume(t: Thread): void {
    const s = this.vcpus[t.id]!;
    if (this.state[t.page] !== PRESENT) throw new Error(`assertion failed: vCPU ${t.id} resumed with page ${t.page} missing`);
    const dUs = this.now - s.faultStartUs;
    s.blockedUs += dUs;
    this.latency.record(dUs >= 0.001 ? Math.round(dUs * 1000) : 1);
    this.latencyBuckets[dUs < 2 ? 0 : Math.min(LATENCY_BUCKETS - 1, Math.floor(Math.log2(dUs)))]!++;
    s.entryPage = -1;
    this.blockEnd();
    t.state = BUSY;
    this.access(t.id, s, t.page, s.access === Access.Write); // the access that faulted, now retried
    this.cpu(t, this.c.accessUs + this.opts.thinkUs, Ph.VRun);
  }

  private vcpuFinish(t: Thread): void {
    const s = this.vcpus[t.id]!;
    s.runUs = this.now;
    t.state = DONE;
    this.vcpusDone++;
    this.blockRetire();
    this.releaseCore(t);
    if (this.vcpusDone === this.opts.vcpus) {
      if (this.outbound) this.kickSource();
      if (this.fetcher >= 0) this.notify(this.threads[this.fetcher]!);
    }
  }

  // ---------------------------------------------------------------- blocktime
  private blockBegin(): void {
    this.blocked++;
    if (this.blocked === this.opts.vcpus - this.vcpusDone) this.allBlockedSinceUs = this.now;
  }
  private blockEnd(): void {
    if (this.allBlockedSinceUs >= 0) { this.allBlockedUs += this.now - this.allBlockedSinceUs; this.allBlockedSinceUs = -1; }
    this.blocked--;
  }
  private blockRetire(): void {
    const active = this.opts.vcpus - this.vcpusDone;
    if (active > 0 && this.blocked === active && this.allBlockedSinceUs < 0) this.allBlockedSinceUs = this.now;
  }

  // ---------------------------------------------------------------- the page fetcher
  private fetcherLoop(t: Thread): void {
    const st = this.fstats[t.id - this.opts.vcpus]!;
    if (this.faultHead < this.faultInbox.length) {
      const v = this.faultInbox[this.faultHead++]!;
      if (this.faultHead > 4096 && this.faultHead * 2 > this.faultInbox.length) { this.faultInbox.splice(0, this.faultHead); this.faultHead = 0; }
      st.faultRecords++;
      t.page = this.threads[v]!.page;
      t.flags = v; // the faulting vCPU, for the request
      this.cpu(t, this.c.receiveUs, Ph.FFault);
      return;
    }
    if (this.takeArrival(t)) { this.cpu(t, this.c.receiveUs, Ph.InstStart); return; }
    if (this.sweepDue()) {
      while (this.sweepCursor < this.pages && this.state[this.sweepCursor] !== MISSING) this.sweepCursor++;
      if (this.sweepCursor < this.pages) {
        const p = this.sweepCursor++;
        this.state[p] = REQUESTED;
        this.beginInstall(t, p, this.zeroFlag(p), Ph.FLoop);
        return;
      }
    }
    this.idle(t);
  }

  private fetcherFault(t: Thread): void {
    const st = this.fstats[t.id - this.opts.vcpus]!, page = t.page;
    if (this.state[page] === MISSING) {
      this.state[page] = REQUESTED;
      if (!this.outbound) { this.beginInstall(t, page, PAGE_FLAG_DEMAND | this.zeroFlag(page), Ph.FLoop); return; }
      this.cpu(t, this.c.postUs, Ph.FSent);
      return;
    }
    if (this.state[page] === PRESENT) st.alreadyPresent++; else st.mergedFaults++;
    this.cpu(t, 0, Ph.FLoop);
  }

  // ---------------------------------------------------------------- uffd handlers
  private uffdOf(page: number): UffdQ {
    const n = this.uffds.length;
    return this.uffds[n <= 1 ? 0 : Math.min(n - 1, Math.floor(page / this.pagesPerQueue))]!;
  }
  private uffdOfHandler(t: Thread): UffdQ {
    return this.uffds[this.opts.uffdPerVcpu ? t.id - this.opts.vcpus - 1 : 0]!;
  }

  private handlerLoop(t: Thread): void {
    if (this.takeArrival(t)) { this.installCopy(t, false); return; }
    this.lock(t, this.uffdOfHandler(t).lock, Ph.HReadHeld); // read(): every call takes the queue lock
  }

  private handlerReadHeld(t: Thread): void {
    const uq = this.uffdOfHandler(t), c = this.c;
    t.page = -1;
    while (uq.pendingHead < uq.pending.length) {
      const v = uq.pending[uq.pendingHead++]!;
      const s = this.vcpus[v]!;
      if (s.entry !== 1) continue; // woken while pending (a pushed page)
      s.entry = 2;
      uq.pendingCount--;
      uq.waitingCount++;
      uq.reads++;
      t.page = this.threads[v]!.page;
      t.flags = v;
      break;
    }
    if (uq.pendingHead > 4096 && uq.pendingHead * 2 > uq.pending.length) { uq.pending.splice(0, uq.pendingHead); uq.pendingHead = 0; }
    this.schedule(this.now + c.lockHoldUs + uq.slots * c.scanPerEntryUs, t, Ph.HReadRel);
  }

  private handlerReadRel(t: Thread): void {
    this.unlock(this.uffdOfHandler(t).lock);
    this.cpu(t, this.c.readUs, t.page >= 0 ? Ph.HGot : Ph.HEmpty);
  }

  private handlerGot(t: Thread): void {
    const st = this.fstats[t.id - this.opts.vcpus]!, page = t.page;
    st.uffdReads++;
    st.faultRecords++;
    if (this.state[page] === MISSING) {
      this.state[page] = REQUESTED;
      if (!this.outbound) { this.beginInstall(t, page, PAGE_FLAG_DEMAND | this.zeroFlag(page), Ph.HLoop); return; }
      this.cpu(t, this.c.postUs, Ph.HSent);
      return;
    }
    if (this.state[page] === PRESENT) st.alreadyPresent++; else st.mergedFaults++;
    this.cpu(t, 0, Ph.HLoop);
  }

  // ---------------------------------------------------------------- install: mm line, copy, publish, wake
  private beginInstall(t: Thread, page: number, flags: number, after: number): void {
    t.page = page;
    t.flags = flags;
    t.afterInstall = after;
    this.installCopy(t, false);
  }

  /** Step 1 (mmDone false): take the mm line; step 2: the copy itself. */
  private installCopy(t: Thread, mmDone: boolean): void {
    if (!mmDone && this.c.mmHoldUs > 0) { this.lock(t, this.mm, Ph.InstMmHeld); return; }
    if (mmDone && this.c.mmHoldUs > 0) this.unlock(this.mm);
    const zero = (t.flags & PAGE_FLAG_ZERO) !== 0;
    const cost = t.kind === HANDLER || (t.kind === VCPU) ? this.copyUs : this.installUs;
    const gapUs = this.state[t.page] === PRESENT ? 0 : this.opts.unsafePublishBeforeCopyUs;
    if (gapUs > 0) { t.flags |= EARLY; this.publish(t, true); } // the deliberate bug: visible before its bytes
    this.cpu(t, (zero ? cost / 4 : cost) + gapUs, Ph.InstPublish);
  }

  private installPublish(t: Thread): void {
    const page = t.page;
    if (t.flags & EARLY) {
      t.flags &= ~EARLY;
      this.memVer[page] = 0; // the bytes land now: the source's version (guest writes in the gap are lost)
      this.installWake(t);
      return;
    }
    if (this.state[page] === PRESENT) { // EEXIST: someone installed it first
      this.duplicatePages++;
      if (t.kind !== VCPU) this.fstats[t.id - this.opts.vcpus]!.eexist++;
      this.cpu(t, 0, t.afterInstall);
      return;
    }
    this.publish(t, false);
    this.installWake(t);
  }

  /** The page becomes present (with `garbage`: before its bytes, the broken variant). */
  private publish(t: Thread, garbage: boolean): void {
    const page = t.page;
    this.state[page] = PRESENT;
    this.memVer[page] = garbage ? GARBAGE : 0;
    this.presentPages++;
    const ms = this.now / 1000;
    const cell = Math.floor(page / this.geometry.pagesPerCell);
    this.cellSumMs[cell] += Math.max(0.001, ms);
    this.cellPresent[cell]++;
    this.markCell(cell);
    if (t.flags & PAGE_FLAG_DEMAND) this.cellDemand[cell]++;
    if (t.flags & PAGE_FLAG_ZERO) this.cellZero[cell]++;
    if (t.kind !== VCPU) {
      const st = this.fstats[t.id - this.opts.vcpus]!;
      if (t.flags & PAGE_FLAG_ZERO) st.installedZero++;
      if (t.flags & PAGE_FLAG_DEMAND) st.installedDemand++; else st.installedPushed++;
    }
    if (this.presentPages === this.pages && this.migrationDoneUs < 0) this.migrationDoneUs = this.now;
    const w = this.pageWaiters.get(page);
    if (w) {
      this.pageWaiters.delete(page);
      for (const v of w) this.notify(this.threads[v]!);
    }
  }

  /** The wake after UFFDIO_COPY: under the queue lock, walk every queued entry (skipped when none). */
  private installWake(t: Thread): void {
    if (this.uffds.length) {
      const uq = this.uffdOf(t.page);
      if (uq.pendingCount + uq.waitingCount > 0) { this.lock(t, uq.lock, Ph.InstWakeHeld); return; }
    }
    this.cpu(t, 0, t.afterInstall);
  }

  private installWakeHeld(t: Thread): void {
    const uq = this.uffdOf(t.page), c = this.c;
    const entries = uq.pendingCount + uq.waitingCount;
    uq.wakeWalks++;
    uq.wakeWalkEntries += entries;
    this.schedule(this.now + c.lockHoldUs + entries * c.wakePerEntryUs, t, Ph.InstWakeRel);
  }

  private installWakeRel(t: Thread): void {
    const uq = this.uffdOf(t.page);
    const w = uq.byPage.get(t.page);
    if (w) {
      uq.byPage.delete(t.page);
      for (const v of w) {
        const s = this.vcpus[v]!;
        if (s.entry === 1) uq.pendingCount--; else if (s.entry === 2) uq.waitingCount--;
        s.entry = 0;
        this.notify(this.threads[v]!);
      }
    }
    this.unlock(uq.lock);
    this.cpu(t, 0, t.afterInstall);
  }

  private zeroFlag(page: number): number {
    return isZeroPage(this.opts.seed, page, this.opts.zeroFraction) ? PAGE_FLAG_ZERO : 0;
  }

  // ---------------------------------------------------------------- network: arrivals at the destination
  private onArrive(t: Thread, arg: number): void {
    t.arrivals.push(arg);
    const st = this.fstats[t.id - this.opts.vcpus]!;
    st.framesReceived++;
    st.bytesReceived += PAGE_HEADER_BYTES + ((arg % 64) & PAGE_FLAG_ZERO ? 0 : this.opts.pageSize);
    this.notify(t);
  }

  private takeArrival(t: Thread): boolean {
    if (t.arrivalHead >= t.arrivals.length) return false;
    const a = t.arrivals[t.arrivalHead++]!;
    if (t.arrivalHead === t.arrivals.length) { t.arrivals.length = 0; t.arrivalHead = 0; }
    t.page = Math.floor(a / 64);
    t.flags = a % 64;
    t.afterInstall = t.kind === FETCHER ? Ph.FLoop : Ph.HLoop;
    return true;
  }

  // ---------------------------------------------------------------- the source host
  private sendRequest(t: Thread): void {
    const st = this.fstats[t.id - this.opts.vcpus]!;
    st.requestsSent++;
    st.requestBytesSent += REQUEST_BYTES;
    const arrive = this.inbound!.send(REQUEST_BYTES, this.now);
    this.reqPage.push(t.page);
    this.reqVcpu.push(t.flags);
    this.reqTo.push(t.kind === HANDLER ? t.id : this.fetcher);
    this.q.push(arrive, this.sourceId, Ph.SrcReq);
  }

  private onRequest(): void {
    const i = this.reqHead++;
    const page = this.reqPage[i]!, to = this.reqTo[i]!;
    this.sstats.requestsReceived++;
    const prefetch: number[] = [];
    this.strategy.onRequest(page, this.reqVcpu[i]!, this.now, prefetch);
    if (this.sent![page]) this.sstats.requestsForSentPages++;
    else if (this.strategy.urgentChannel) this.transmit(page, PAGE_FLAG_DEMAND, this.fetcher, true);
    else this.queueBulk(page, PAGE_FLAG_DEMAND, to);
    for (const p of prefetch) if (p >= 0 && p < this.pages) this.queueBulk(p, PAGE_FLAG_PREFETCH, this.fetcher);
    if (this.reqHead === this.reqPage.length) { this.reqPage.length = this.reqVcpu.length = this.reqTo.length = 0; this.reqHead = 0; }
    this.kickSource();
  }

  private queueBulk(page: number, flags: number, to: number): void {
    if (this.sent![page]) return;
    this.sent![page] = 1;
    this.unsent--;
    this.bulk.push(page * 64 + flags);
    this.bulkTo.push(to);
  }

  /** Fills the send buffer from the strategy's push order and puts the head frame on an idle wire. */
  private kickSource(): void {
    const o = this.opts;
    const pushing = this.strategy.pushWhileGuestRuns || this.vcpusDone === o.vcpus;
    const frameBytes = o.pageSize + PAGE_HEADER_BYTES;
    if (pushing) {
      while ((this.bulk.length - this.bulkHead) * frameBytes < o.sendBufferBytes && this.unsent > 0) {
        const p = this.strategy.nextPush(this.sent!);
        if (p < 0) break;
        this.queueBulk(p, 0, this.fetcher);
      }
    }
    if (this.txScheduled || this.bulkHead >= this.bulk.length) return;
    const out = this.outbound!;
    if (out.backlogUs(this.now) > 0) { this.txScheduled = true; this.q.push(this.now + out.backlogUs(this.now), this.sourceId, Ph.SrcTx); return; }
    const a = this.bulk[this.bulkHead]!, to = this.bulkTo[this.bulkHead]!;
    this.bulkHead++;
    if (this.bulkHead === this.bulk.length) { this.bulk.length = this.bulkTo.length = 0; this.bulkHead = 0; }
    this.transmit(Math.floor(a / 64), a % 64, to, false);
    this.txScheduled = true;
    this.q.push(this.now + out.backlogUs(this.now), this.sourceId, Ph.SrcTx);
  }

  private onTx(): void {
    this.txScheduled = false;
    this.kickSource();
  }

  private transmit(page: number, flags: number, to: number, urgent: boolean): void {
    const out = this.outbound!, st = this.sstats;
    const zero = isZeroPage(this.opts.seed, page, this.opts.zeroFraction);
    if (zero) flags |= PAGE_FLAG_ZERO;
    if (urgent && !this.sent![page]) { this.sent![page] = 1; this.unsent--; }
    const bytes = PAGE_HEADER_BYTES + (zero ? 0 : this.opts.pageSize);
    const arrive = urgent ? out.sendUrgent(bytes, this.now) : out.send(bytes, this.now);
    st.pagesSent++;
    if (flags & PAGE_FLAG_DEMAND) {
      st.pagesDemand++;
      if (urgent) st.pagesUrgent++;
    } else st.pagesPushed++;
    if (flags & PAGE_FLAG_PREFETCH) st.pagesPrefetched++;
    if (zero) st.zeroPages++;
    if (arrive > st.lastArriveUs) st.lastArriveUs = arrive;
    this.q.push(arrive, to, Ph.Arrive, page * 64 + flags);
  }

  // ---------------------------------------------------------------- timeline, progress
  private sample(tUs: number, final = false): void {
    while (this.nextSampleUs <= tUs || final) {
      let faults = 0;
      for (const s of this.vcpus) faults += s.faults;
      this.timeline.push({
        tMs: Math.round(Math.min(tUs, this.nextSampleUs) / 10) / 100, accesses: this.totalAccesses, faults, presentPages: this.presentPages, blockedVcpus: this.blocked,
      });
      if (this.timeline.length >= MAX_SAMPLES) {
        for (let i = 0; i < this.timeline.length / 2; i++) this.timeline[i] = this.timeline[2 * i]!;
        this.timeline.length = Math.floor(this.timeline.length / 2);
        this.sampleEveryUs *= 2;
      }
      this.nextSampleUs += this.sampleEveryUs;
      if (final) break;
    }
    if (this.hooks.onProgress && tUs >= this.nextProgressUs) {
      this.nextProgressUs = tUs + (this.hooks.progressMs ?? 100) * 1000;
      this.hooks.onProgress({ tMs: tUs / 1000, presentPages: this.presentPages, pages: this.pages, faults: this.totalFaults, accesses: this.totalAccesses });
    }
  }

  // ---------------------------------------------------------------- the event stream
  private markCell(c: number): void {
    if (this.cellDirty.length && !this.cellDirty[c]) { this.cellDirty[c] = 1; this.dirtyCells.push(c); }
  }

  /** Publishes the state at virtual time tUs: each vCPU's latest new fault, then a tick. Reads only. */
  private tick(tUs: number): void {
    const emit = this.emit!, o = this.opts;
    const vcpus: VcpuSnapshot[] = [];
    let accesses = 0;
    for (let v = 0; v < o.vcpus; v++) {
      const s = this.vcpus[v]!, t = this.threads[v]!;
      const blocked = s.entryPage >= 0 && t.state !== DONE;
      const n = s.reads + s.writes;
      accesses += n;
      vcpus.push({
        state: t.state === DONE ? 'done' : !blocked ? 'running' : t.state === SLEEP || t.state === WAKING ? 'waiting' : 'faulted',
        waitGpa: blocked ? gpaOfPage(o, s.entryPage) : null,
        waitMs: blocked ? Math.round(Math.max(0, tUs - s.faultStartUs)) / 1000 : 0,
        faults: s.faults,
        accesses: n,
      });
      if (s.faults !== this.faultsSeen[v] && s.lastPage >= 0) {
        this.faultsSeen[v] = s.faults;
        emit({ type: 'fault', tMs: Math.round(s.faultStartUs) / 1000, vcpu: v, page: s.lastPage, record: this.decode(v, s.lastPage, s.access) });
      }
    }
    const faults = this.totalFaults;
    const dt = (tUs - this.lastTick.tUs) / 1e6;
    const rate = (d: number) => (dt > 0 ? Math.round(d / dt) : 0);
    const cells: Array<[number, number, number, number]> = [];
    const ppc = this.geometry.pagesPerCell, r2 = (x: number) => Math.round(x * 100) / 100;
    for (const c of this.dirtyCells) {
      this.cellDirty[c] = 0;
      const n = Math.min(ppc, this.pages - c * ppc), present = this.cellPresent[c]!;
      cells.push([c, r2(present / n), present ? r2(this.cellDemand[c]! / present) : 0, present ? r2(this.cellZero[c]! / present) : 0]);
    }
    this.dirtyCells.length = 0;
    let queued = this.faultInbox.length - this.faultHead;
    for (const q of this.uffds) queued += q.pendingCount + q.waitingCount;
    const blockUs = this.allBlockedUs + (this.allBlockedSinceUs >= 0 ? Math.max(0, tUs - this.allBlockedSinceUs) : 0);
    emit({
      type: 'tick', tMs: Math.round(tUs) / 1000, presentPages: this.presentPages, faults, accesses,
      faultsPerSec: rate(faults - this.lastTick.faults), accessesPerSec: rate(accesses - this.lastTick.accesses),
      bytesReceived: this.fstats.reduce((a, st) => a + st.bytesReceived, 0), blockedVcpus: this.blocked,
      blocktimeMs: Math.round(blockUs) / 1000, vcpus, latencyBuckets: this.latencyBuckets.slice(), cells, queuedFaults: queued,
    });
    this.lastTick = { tUs, faults, accesses };
  }

  private decode(v: number, page: number, access: Access): DecodedFault {
    const o = this.opts, gpa = gpaOfPage(o, page);
    if (o.mode === 'uffd') {
      const flags = uffdPagefaultFlags(access);
      return { kind: 'uffd_msg', event: UFFD_EVENT_PAGEFAULT, flags, flagNames: describeUffdFlags(flags), address: gpa, ptid: v };
    }
    const flags = memoryFaultFlags(access);
    return { kind: 'memory_fault', exitReason: KVM_EXIT_MEMORY_FAULT, flags, flagNames: describeMemoryFaultFlags(flags), gpa, size: o.pageSize };
  }

  // ---------------------------------------------------------------- the result
  result(wallMs: number): VirtualRunResult {
    const o = this.opts, vs = this.vcpus;
    const verifyErrors: string[] = [];
    for (const s of vs) if (s.firstBadRead) verifyErrors.push(`${s.firstBadRead} (${s.badReads} bad reads on this vCPU)`);
    let notPresent = 0, wrong = 0, firstProblem = '';
    for (let p = 0; p < this.pages; p++) {
      if (this.state[p] !== PRESENT) { if (!notPresent++ && !firstProblem) firstProblem = `page ${p} is missing`; } else if (this.memVer[p] !== this.expVer[p]) {
        if (!wrong++ && !firstProblem) firstProblem = `page ${p} holds version ${this.memVer[p] === GARBAGE ? 'garbage' : this.memVer[p]}, the guest wrote ${this.expVer[p]}`;
      }
    }
    if (notPresent) verifyErrors.push(`${notPresent} pages never arrived; ${firstProblem}`);
    if (wrong) verifyErrors.push(`${wrong} pages differ from the expected version; ${firstProblem}`);
    const faults = vs.reduce((a, s) => a + s.faults, 0);
    const guestUs = Math.max(...vs.map((s) => s.runUs));
    const r2 = (x: number) => Math.round(x * 100) / 100;
    const migrationMs = o.mode === 'none' ? 0 : (this.migrationDoneUs - this.migrationStartUs) / 1000;
    const src = this.outbound ? this.sstats : null;
    if (src) { src.bytesToDest = this.outbound!.bytes; src.bytesToSource = this.inbound!.bytes; src.framesSent = this.outbound!.frames; }
    const fetchers = this.fstats;
    const sum = (f: (s: FetcherStats) => number) => fetchers.reduce((a, s) => a + f(s), 0);
    const bytesToDest = src?.bytesToDest ?? 0, bytesToSource = src?.bytesToSource ?? 0;
    const wireUs = this.outbound && Number.isFinite(o.bandwidthBps) ? this.outbound.busyUs : 0;
    const uffd: UffdLockStats | null = this.uffds.length ? this.uffds.reduce((a, q) => ({
      acquires: a.acquires + q.lock.acquires, contended: a.contended + q.lock.contended, lockWaitUs: r2(a.lockWaitUs + q.lock.lockWaitUs),
      sleeps: 0, reads: a.reads + q.reads, wakeWalks: a.wakeWalks + q.wakeWalks, wakeWalkEntries: a.wakeWalkEntries + q.wakeWalkEntries,
    }), { acquires: 0, contended: 0, lockWaitUs: 0, sleeps: 0, reads: 0, wakeWalks: 0, wakeWalkEntries: 0 }) : null;
    const g = this.geometry;
    const demandPages = src ? src.pagesDemand : sum((s) => s.installedDemand) + (this.exitByVcpu ? faults : 0);
    return {
      engine: 'virtual',
      mode: o.mode, strategy: o.strategy, vcpus: o.vcpus,
      handlers: o.mode !== 'uffd' ? 0 : o.uffdPerVcpu ? o.vcpus : o.handlers,
      uffdQueues: this.uffds.length,
      workload: o.workload, writeRatio: o.writeRatio, partition: o.partition, pageSize: o.pageSize, pages: o.pages, memoryBytes: o.memoryBytes,
      memslots: o.memslots.length, bandwidthBps: Number.isFinite(o.bandwidthBps) ? o.bandwidthBps : null, latencyUs: o.latencyUs, seed: o.seed,
      accesses: this.totalAccesses,
      faults,
      faultsByFlags: { read: vs.reduce((a, s) => a + s.faultsRead, 0), write: vs.reduce((a, s) => a + s.faultsWrite, 0), exec: vs.reduce((a, s) => a + s.faultsExec, 0) },
      faultsPerSec: guestUs > 0 ? Math.round(faults / (guestUs / 1e6)) : 0,
      guestMs: r2(guestUs / 1000),
      perVcpuPagesPerSec: Math.round(vs.reduce((a, s) => a + (s.runUs > 0 ? s.faults / (s.runUs / 1e6) : 0), 0) / vs.length),
      faultLatencyUs: summarizeNs(this.latency),
      blocktimeMs: r2(this.allBlockedUs / 1000),
      vcpuBlocktimeMs: vs.map((s) => r2(s.blockedUs / 1000)),
      migrationMs: r2(migrationMs),
      precopyMs: 0, downtimeMs: 0, precopyRounds: 0, pagesResent: 0, pagesDiscarded: 0,
      pagesPrefetched: src?.pagesPrefetched ?? 0,
      pagesUrgent: src?.pagesUrgent ?? 0,
      pagesDemand: demandPages,
      pagesPushed: src ? src.pagesPushed : sum((s) => s.installedPushed),
      zeroPages: src ? src.zeroPages : sum((s) => s.installedZero),
      mergedFaults: sum((s) => s.mergedFaults),
      duplicatePages: this.duplicatePages,
      requests: sum((s) => s.requestsSent),
      requestsForSentPages: src?.requestsForSentPages ?? 0,
      faultBreakdownUs: null,
      demandQueueUs: { mean: 0, max: 0 },
      bytesOnWire: bytesToDest + bytesToSource, bytesToDest, bytesToSource,
      linkUtilisation: wireUs > 0 && migrationMs > 0 ? Math.round(Math.min(1, wireUs / 1000 / migrationMs) * 1000) / 1000 : null,
      peakRssBytes: peakRssBytes(),
      wallMs: Math.round(wallMs),
      uffd,
      verified: verifyErrors.length === 0,
      verifyErrors,
      latencyCdf: cdfPoints(this.latency),
      latencyDist: latencyDist(this.latency),
      timeline: this.timeline,
      baselineAccessesPerSec: null,
      degradation: null,
      pageMap: {
        cells: g.cells, pagesPerCell: g.pagesPerCell,
        arrivalMs: Array.from(this.cellSumMs, (s, c) => Math.round((s / Math.min(g.pagesPerCell, this.pages - c * g.pagesPerCell)) * 10) / 10),
        demand: Array.from(this.cellDemand, (d, c) => Math.round((d / Math.min(g.pagesPerCell, this.pages - c * g.pagesPerCell)) * 100) / 100),
        zero: Array.from(this.cellZero, (z, c) => Math.round((z / Math.min(g.pagesPerCell, this.pages - c * g.pagesPerCell)) * 100) / 100),
      },
      services: [...(src ? [src] : []), ...fetchers],
    };
  }
}

function newLock(name: string): Lock {
  return { name, holder: -1, waiters: [], waitHead: 0, acquires: 0, contended: 0, lockWaitUs: 0 };
}

function gpaOfPage(o: ResolvedOptions, page: number): number {
  for (const m of o.memslots) if (page >= m.firstPage && page < m.firstPage + m.pages) return m.baseGpa + (page - m.firstPage) * o.pageSize;
  return -1;
}

/** Waits `ms` (0: one event-loop turn), cut short by `signal`. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal?.aborted) { resolve(); return; }
    const done = () => { clearTimeout(timer); signal?.removeEventListener('abort', done); resolve(); };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

function pageOfGpa(o: ResolvedOptions, gpa: number): number {
  for (const m of o.memslots) if (gpa >= m.baseGpa && gpa < m.baseGpa + m.sizeBytes) return m.firstPage + Math.floor((gpa - m.baseGpa) / o.pageSize);
  return -1;
}

function loadTraceViews(file: string, vcpus: number): Array<{ gpas: Float64Array; accesses: Uint8Array }> {
  return loadTrace(file, vcpus).map((t) => ({ gpas: new Float64Array(t.gpasSab, 0, t.length), accesses: new Uint8Array(t.accessesSab, 0, t.length) }));
}

