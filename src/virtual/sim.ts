/**
 * One virtual run's state and its event loop. The state is the model's (page states, the oracle's
 * versions, the send policy, statistics, the blocktime ledger, the page map); the kernel (kernel.ts)
 * runs the threads; each actor file moves one kind of thread through its steps. dispatch() is the
 * only place that maps an event to an actor.
 */
import { createHistogram } from 'node:perf_hooks';
import { SimError } from '../errors.js';
import type { SimulateHooks } from '../hooks.js';
import { newBlockLedger } from '../model/blocktime.js';
import { Link } from '../model/link.js';
import { handlerCount, pagesPerUffd, uffdCount, uffdOfHandler } from '../model/memslots.js';
import { PageMapBuilder } from '../model/page-map.js';
import { PAGE_MISSING, PAGE_PRESENT, PAGE_REQUESTED, type PageStates } from '../model/page-state.js';
import { SendPolicy } from '../model/send-policy.js';
import { newFetcherStats, newSourceStats, type FetcherStats } from '../model/stats.js';
import { createStrategy, type Strategy } from '../model/strategies/index.js';
import { loadTrace } from '../model/trace.js';
import type { TimelineSample } from '../model/result.js';
import { AccessStream, vcpuRange } from '../model/workload.js';
import { archStateBytes, initArchState } from '../model/arch/regions.js';
import { stage1Of, VcpuFaults } from '../model/arch/vcpu-faults.js';
import type { ResolvedOptions } from '../options.js';
import { perPage, type CostModel } from './costs.js';
import { applyDiscards, fetcherFault, fetcherLoop } from './fetcher.js';
import { installCopy, installPublish, installWakeHeld, installWakeRel } from './installer.js';
import { DONE, FETCHER, HANDLER, Kernel, VCPU, type Lock, newLock, type Thread } from './kernel.js';
import { EventStream } from './observer.js';
import { Ph } from './phases.js';
import { onPrecopyRoundEnd, onRequest, onTx, sendRequest, SourceState, startSource } from './source.js';
import { idle, onArrive } from './service.js';
import { handlerGot, handlerLoop, handlerReadHeld, handlerReadRel, newUffd, uffdOf, type Uffd } from './uffd-handler.js';
import { vcpuFaultDone, vcpuResume, vcpuRun, vcpuUffdHeld, vcpuUffdRel, type VcpuState } from './vcpu.js';

/** Timeline sampling interval (virtual us) before any halving. */
const SAMPLE_US = 10_000;

export class VirtualSim extends Kernel implements PageStates {
  readonly pages: number;
  /** Page states, numbered as the model numbers them (src/model/page-state.ts). */
  readonly state: Uint8Array;
  /** The oracle: the version each page's copy holds, and the version the guest must see. */
  readonly memVer: Uint16Array;
  readonly expVer: Uint16Array;
  readonly vcpus: VcpuState[] = [];
  readonly fetcher: number;
  readonly uffds: Uffd[] = [];
  readonly pagesPerQueue: number;
  readonly mm: Lock = newLock('mm');
  /** exit mode: vCPUs waiting on a page */
  readonly pageWaiters = new Map<number, number[]>();
  /**
   * fetcher inbox: faulting vCPU ids, and when each record was posted; -1 - page for a page riding
   * with the record before it (a syndrome record's walk, src/virtual/vcpu-faults.ts)
   */
  readonly faultInbox: number[] = [];
  readonly faultPostedUs: number[] = [];
  faultHead = 0;
  readonly outbound: Link | null;
  readonly inbound: Link | null;
  readonly strategy: Strategy;
  readonly policy: SendPolicy | null;
  readonly sourceId: number;
  readonly source = new SourceState();
  sweepCursor = 0;
  presentPages = 0;
  vcpusDone = 0;
  /** hybrid: the guest still runs on the source (precopy); vCPUs start at the switch */
  precopy = false;
  migrationStartUs = 0;
  migrationDoneUs = -1;
  switchStartUs = 0;
  goUs = 0;
  readonly blocks = newBlockLedger(0);
  totalAccesses = 0;
  totalFaults = 0;
  readonly latency = createHistogram();
  readonly timeline: TimelineSample[] = [];
  nextSampleUs = 0;
  sampleEveryUs = SAMPLE_US;
  nextProgressUs = 0;
  readonly fstats: FetcherStats[];
  readonly sstats = newSourceStats();
  readonly map: PageMapBuilder;
  /** hybrid: when (ms) and how (ARRIVED_* bits) each present page arrived, to forget it on a discard */
  readonly arrivalMs: Float64Array | null;
  readonly arrivalHow: Uint8Array | null;
  readonly events: EventStream;
  readonly copyUs: number;
  readonly installUs: number;
  readonly spinUs: number;
  readonly serviceSpinUs: number;

  constructor(readonly opts: ResolvedOptions, c: CostModel, readonly exitByVcpu: boolean, readonly hooks: SimulateHooks) {
    super(c);
    const o = opts;
    this.pages = o.pages;
    this.state = new Uint8Array(o.pages);
    this.memVer = new Uint16Array(o.pages);
    this.expVer = new Uint16Array(o.pages);
    this.copyUs = perPage(c.copyUs, o.pageSize);
    this.installUs = perPage(c.installUs, o.pageSize);
    this.spinUs = c.spin ? o.spinUs : 0;
    this.serviceSpinUs = c.spin ? o.serviceSpinUs : 0;
    this.pagesPerQueue = pagesPerUffd(o);
    this.map = new PageMapBuilder(o.pages);
    this.events = new EventStream(this);
    this.strategy = createStrategy(o.strategy, { pages: o.pages, vcpus: o.vcpus, precopyRounds: o.precopyRounds });
    this.addVcpus();
    this.fetcher = o.mode === 'none' ? -1 : this.addThread(FETCHER, Ph.FLoop).id;
    this.addUffds();
    this.sourceId = this.threads.length;
    this.fstats = this.threads.slice(o.vcpus).map((t) => newFetcherStats(t.kind === HANDLER ? 'handler' : 'fetcher'));
    const link = o.mode !== 'none' && o.network === 'link';
    const cfg = { bandwidthBps: o.bandwidthBps, latencyUs: o.latencyUs, overheadBytes: o.msgOverheadBytes };
    this.outbound = link ? new Link(cfg) : null;
    this.inbound = link ? new Link(cfg) : null;
    this.policy = link ? new SendPolicy(o.pages, this.strategy, this.sstats, o.recordSendOrder) : null;
    const hybrid = link && o.strategy === 'hybrid';
    this.arrivalMs = hybrid ? new Float64Array(o.pages) : null;
    this.arrivalHow = hybrid ? new Uint8Array(o.pages) : null;
    if (o.mode === 'none') {
      this.state.fill(PAGE_PRESENT);
      this.presentPages = o.pages;
      this.migrationDoneUs = 0;
      this.map.recordAllPresent();
      for (let c = 0; c < this.map.cells; c++) this.events.markCell(c);
    }
  }

  private addVcpus(): void {
    const o = this.opts;
    const traces = o.workload === 'trace' ? loadTraceViews(o.trace!, o.vcpus) : null;
    // The guest's architectural state (src/model/arch/): its stage-1 table, page attributes and tags.
    const tables = stage1Of(o);
    const archState = initArchState(o, new ArrayBuffer(archStateBytes(o)), tables);
    for (let v = 0; v < o.vcpus; v++) {
      this.addThread(VCPU, Ph.VRun);
      const trace = traces?.[v] ?? null;
      const limit = o.accesses ?? (trace ? trace.accesses.length : Infinity);
      const untilMigrated = o.accesses === undefined && !trace;
      this.vcpus.push({
        stream: new AccessStream(o.workload, vcpuRange(o, v), o, v, trace), limit, untilMigrated, tail: untilMigrated ? o.tailAccesses : 0, i: 0,
        faults: 0, faultsRead: 0, faultsWrite: 0, faultsExec: 0, reads: 0, writes: 0, badReads: 0, firstBadRead: null,
        faultStartUs: 0, lastPage: -1, blockedUs: 0, runUs: 0, access: 0, entry: 0, entryPage: -1,
        resumeLagUsTotal: 0, selfInstalled: 0, selfEexist: 0, installedUs: -1,
        arch: new VcpuFaults(o, v, tables, archState), faultKind: 0, aheadAt: 0,
      });
    }
  }

  private addUffds(): void {
    const o = this.opts;
    for (let k = 0; k < uffdCount(o); k++) this.uffds.push(newUffd(k, o.uffdPerVcpu ? 1 : o.vcpus));
    for (let h = 0; h < handlerCount(o); h++) {
      const t = this.addThread(HANDLER, Ph.HLoop);
      this.uffds[uffdOfHandler(o, h)]!.handlers.push(t.id);
    }
  }

  // ---- the model's PageStates, over this engine's page-state array
  claim(page: number): boolean {
    if (this.state[page] !== PAGE_MISSING) return false;
    this.state[page] = PAGE_REQUESTED;
    return true;
  }
  isPresent(page: number): boolean { return this.state[page] === PAGE_PRESENT; }

  statsOf(t: Thread): FetcherStats { return this.fstats[t.id - this.opts.vcpus]!; }

  protected override onSleep(t: Thread): void {
    if (t.kind !== VCPU) this.statsOf(t).sleeps++;
  }

  // ---- the loop
  /** Starts the run: the source (precopy for hybrid), or the vCPUs at once. */
  begin(): void {
    this.precopy = this.opts.strategy === 'hybrid' && this.outbound !== null;
    if (!this.precopy) this.startGuest();
    startSource(this);
    this.events.start();
  }

  /** The guest starts on the destination (at once, or at hybrid's switch). */
  startGuest(): void {
    this.goUs = this.now;
    this.blocks.active = this.opts.vcpus;
    for (let v = 0; v < this.opts.vcpus; v++) this.cpu(this.threads[v]!, 0, Ph.VRun);
  }

  /** Runs the next event; false when the queue is empty. */
  step(): boolean {
    const q = this.q;
    if (!q.pop()) return false;
    const t = q.popTimeUs;
    if (t < this.now) throw new Error(`assertion failed: time went back from ${this.now} to ${t}`);
    if (t >= this.nextSampleUs) this.events.sample(t);
    this.events.tickUpTo(t);
    this.now = t;
    this.dispatch(q.popActor, q.popPhase, q.popArg);
    return true;
  }

  /** The checks at the end of a run, the last timeline sample and the last tick. */
  end(): void {
    if (this.vcpusDone !== this.opts.vcpus) {
      const v = this.vcpus.findIndex((s, i) => this.threads[i]!.state !== DONE && s.entryPage >= 0);
      const page = v >= 0 ? this.vcpus[v]!.entryPage : -1;
      throw new SimError('PAGE_NEVER_ARRIVED', `virtual run deadlocked: ${this.opts.vcpus - this.vcpusDone} vCPUs never finished` +
        (page >= 0 ? `; vCPU ${v} waits on page ${page}` : ''));
    }
    if (this.presentPages !== this.pages && this.opts.mode !== 'none') {
      throw new SimError('PAGE_NEVER_ARRIVED', `virtual run stalled: ${this.pages - this.presentPages} pages never arrived`);
    }
    this.events.sample(this.now, true);
    this.events.finalTick();
  }

  private dispatch(id: number, ph: number, arg: number): void {
    if (id === this.sourceId) {
      if (ph === Ph.SrcReq) onRequest(this); else if (ph === Ph.SrcTx) onTx(this); else onPrecopyRoundEnd(this);
      return;
    }
    const t = this.threads[id]!;
    switch (ph) {
      case Ph.Woken: this.woken(t); return;
      case Ph.SpinEnd: this.spinEnd(t, arg); return;
      case Ph.Arrive: onArrive(this, t, arg); return;
      case Ph.Preempt: this.releaseCore(t); this.cpu(t, 0, Ph.VRun); return;
      case Ph.VRun: vcpuRun(this, t); return;
      case Ph.VFaultDone: vcpuFaultDone(this, t); return;
      case Ph.VUffdHeld: vcpuUffdHeld(this, t); return;
      case Ph.VUffdRel: vcpuUffdRel(this, t); return;
      case Ph.VUffdCancelRel: this.unlock(uffdOf(this, t.page).lock); vcpuResume(this, t); return;
      case Ph.VResume: vcpuResume(this, t); return;
      case Ph.FLoop: fetcherLoop(this, t); return;
      case Ph.FFault: fetcherFault(this, t); return;
      case Ph.FDiscard: applyDiscards(this, t); return;
      case Ph.FSent: case Ph.HSent: sendRequest(this, t); this.cpu(t, 0, ph === Ph.FSent ? Ph.FLoop : Ph.HLoop); return;
      case Ph.HLoop: handlerLoop(this, t); return;
      case Ph.HReadHeld: handlerReadHeld(this, t); return;
      case Ph.HReadRel: handlerReadRel(this, t); return;
      case Ph.HGot: handlerGot(this, t); return;
      case Ph.HEmpty: idle(this, t); return;
      case Ph.InstStart: installCopy(this, t, false); return;
      case Ph.InstMmHeld: this.schedule(this.now + this.c.mmHoldUs, t, Ph.InstMmRel); return;
      case Ph.InstMmRel: installCopy(this, t, true); return;
      case Ph.InstPublish: installPublish(this, t); return;
      case Ph.InstWakeHeld: installWakeHeld(this, t); return;
      case Ph.InstWakeRel: installWakeRel(this, t); return;
      default: throw new Error(`assertion failed: unknown phase ${ph}`);
    }
  }
}

function loadTraceViews(file: string, vcpus: number): Array<{ gpas: Float64Array; accesses: Uint8Array }> {
  return loadTrace(file, vcpus).map((t) => ({ gpas: new Float64Array(t.gpasSab, 0, t.length), accesses: new Uint8Array(t.accessesSab, 0, t.length) }));
}
