/**
 * One virtual run's state. The state is the model's (page states, the oracle's versions, the send
 * policy, statistics, the blocktime ledger, the page map) and each thread's (vcpu-state.ts,
 * uffd-state.ts, source-state.ts); the kernel (kernel.ts) runs the threads; each actor file moves
 * one kind of thread through its steps. The state imports no actor: the event loop and the dispatch
 * to the actors live above it (loop.ts, dispatch.ts), and an actor's next step at `now` goes there
 * through dispatch(), which the loop implements.
 */
import { createHistogram } from 'node:perf_hooks';
import type { SimulateHooks } from '../hooks.js';
import { accessBudget } from '../model/access-budget.js';
import { newBlockLedger } from '../model/blocktime.js';
import { Link } from '../model/link.js';
import { handlerCount, pagesPerUffd, uffdCount, uffdOfHandler } from '../model/memslots.js';
import { PageMapBuilder } from '../model/page-map.js';
import { PAGE_MISSING, PAGE_PRESENT, PAGE_REQUESTED, type PageStates } from '../model/page-state.js';
import { SendPolicy } from '../model/send-policy.js';
import { newFetcherStats, newSourceStats, type FetcherStats } from '../model/stats.js';
import { createStrategy, strategyTraits, type Strategy } from '../model/strategies/index.js';
import { loadTrace, openTrace } from '../trace/replay.js';
import type { TimelineSample } from '../model/result.js';
import { AccessStream, vcpuRange } from '../model/workload.js';
import { archStateBytes, initArchState } from '../model/arch/regions.js';
import { stage1Of, VcpuFaults } from '../model/arch/vcpu-faults.js';
import type { ResolvedOptions } from '../options.js';
import type { CostModel } from './costs.js';
import { hasPreemptThread } from '../model/delivery.js';
import { SharedLines } from './shared-lines.js';
import { BUSY, DONE, FETCHER, HANDLER, Kernel, PREEMPT, Serial, VCPU, type Thread } from './kernel.js';
import { Impairments } from '../model/impairments.js';
import { RecoveryLedger } from '../model/recovery.js';
import { EventMarks } from './event-marks.js';
import { Ph } from './phases.js';
import { SourceState } from './source-state.js';
import { newUffd, type Uffd } from './uffd-state.js';
import type { VcpuState } from './vcpu-state.js';

/** Timeline sampling interval (virtual us) before any halving. */
const SAMPLE_US = 10_000;

export abstract class VirtualSim extends Kernel implements PageStates {
  readonly pages: number;
  /** Page states, numbered as the model numbers them (src/model/page-state.ts). */
  readonly state: Uint8Array;
  /** The oracle: the version each page's copy holds, and the version the guest must see. */
  readonly memVer: Uint16Array;
  readonly expVer: Uint16Array;
  readonly vcpus: VcpuState[] = [];
  readonly fetcher: number;
  /** the preempt-channel thread, or -1 */
  readonly preempt: number;
  readonly uffds: Uffd[] = [];
  /** which uffd each handler thread reads, by thread id */
  readonly handlerUffd: number[] = [];
  readonly pagesPerQueue: number;
  /** mm-wide lines every fault resolution touches: mmap_lock's count, kvm->mmu_lock's */
  readonly mm = new Serial('mmap_lock');
  readonly mmu = new Serial('kvm mmu_lock');
  /** mm_users, the guest VMA's lock, the exit path's uffd lines (src/virtual/shared-lines.ts) */
  readonly lines = new SharedLines();
  /** threads inside a copy ioctl right now (its cost grows with them) */
  copiers = 0;
  /** exit mode: vCPUs waiting on a page */
  readonly pageWaiters = new Map<number, number[]>();
  /**
   * fetcher inbox: faulting vCPU ids, and when each record was posted; -1 - page for a page riding
   * with the record before it (a syndrome record's walk, src/virtual/vcpu-faults.ts)
   */
  readonly faultInbox: number[] = [];
  readonly faultPostedUs: number[] = [];
  /** the page each record is for */
  readonly faultPage: number[] = [];
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
  /** what the actors mark for the event stream (changed cells, fault latencies) */
  readonly marks: EventMarks;
  /** injections (null: none) and the recovery they cause */
  readonly imp: Impairments | null;
  readonly recovery: RecoveryLedger | null;
  /** pages a destination thread has received (the bitmap sent on recovery), with injections only */
  readonly received: Uint8Array | null;
  readonly pauses: Array<{ pausedUs: number; recoverUs: number; cause: string }> = [];
  handlersDead = false;
  readonly spinUs: number;
  readonly serviceSpinUs: number;
  /** What a write fault pays before handle_userfault: uffd MISSING on anonymous memory only (CostModel.missingWriteUs), resolved once per run. */
  readonly missingWriteUs: number;

  /**
   * @param noUserfault no userfaultfd at all: a missing page is filled by the vCPU's own stage-2
   * fault (src/virtual/first-touch.ts), the KVM Userfault cover's "no userfault" column
   */
  constructor(
    readonly opts: ResolvedOptions,
    c: CostModel,
    readonly exitByVcpu: boolean,
    readonly hooks: SimulateHooks,
    readonly noUserfault = false,
  ) {
    super(c);
    const o = opts;
    this.pages = o.pages;
    this.state = new Uint8Array(o.pages);
    this.memVer = new Uint16Array(o.pages);
    this.expVer = new Uint16Array(o.pages);
    this.spinUs = c.spin ? o.spinUs : 0;
    this.serviceSpinUs = c.spin ? o.serviceSpinUs : 0;
    this.missingWriteUs = o.mode === 'uffd' && o.uffdMode === 'missing' && !noUserfault ? c.missingWriteUs : 0;
    this.pagesPerQueue = pagesPerUffd(o);
    this.map = new PageMapBuilder(o.pages);
    this.marks = new EventMarks(hooks.onEvent ? this.map.cells : 0);
    this.strategy = createStrategy(o.strategy, { pages: o.pages, vcpus: o.vcpus, precopyRounds: o.precopyRounds });
    this.addVcpus();
    this.fetcher = o.mode === 'none' ? -1 : this.addThread(FETCHER, Ph.FLoop).id;
    this.preempt = hasPreemptThread(o, this.strategy.urgentChannel) ? this.addThread(PREEMPT, Ph.FLoop).id : -1;
    this.addUffds();
    this.sourceId = this.threads.length;
    this.fstats = this.threads.slice(o.vcpus).map((t) => newFetcherStats(t.kind === HANDLER ? 'handler' : t.kind === PREEMPT ? 'preempt' : 'fetcher'));
    const link = o.mode !== 'none' && o.network === 'link';
    const cfg = { bandwidthBps: o.bandwidthBps, latencyUs: o.latencyUs, overheadBytes: o.msgOverheadBytes };
    this.imp = o.inject.length || hooks.control ? new Impairments(o.inject, o.seed, o.reconnectUs) : null;
    this.recovery = this.imp && link ? new RecoveryLedger(this.blocks) : null;
    this.received = this.recovery ? new Uint8Array(o.pages) : null;
    this.outbound = link ? new Link(cfg, this.imp, 'bulk') : null;
    this.inbound = link ? new Link(cfg, this.imp, 'inbound') : null;
    this.policy = link ? new SendPolicy(o.pages, this.strategy, this.sstats, o.recordSendOrder) : null;
    const hybrid = link && strategyTraits(o.strategy).precopy;
    this.arrivalMs = hybrid ? new Float64Array(o.pages) : null;
    this.arrivalHow = hybrid ? new Uint8Array(o.pages) : null;
    if (o.mode === 'none') {
      this.state.fill(PAGE_PRESENT);
      this.presentPages = o.pages;
      this.migrationDoneUs = 0;
      this.map.recordAllPresent();
      for (let c = 0; c < this.map.cells; c++) this.marks.markCell(c);
    }
  }

  private addVcpus(): void {
    const o = this.opts;
    const traces = o.workload === 'trace' ? loadTrace(o) : null;
    // The guest's architectural state (src/model/arch/): its stage-1 table, page attributes and tags.
    const tables = stage1Of(o);
    const archState = initArchState(o, new ArrayBuffer(archStateBytes(o)), tables);
    for (let v = 0; v < o.vcpus; v++) {
      this.addThread(VCPU, Ph.VRun);
      const trace = traces?.[v] ?? null;
      const { limit, untilMigrated, tail } = accessBudget(o, trace ? trace.length : null);
      this.vcpus.push({
        stream: new AccessStream(o.workload, vcpuRange(o, v), o, v, trace ? openTrace(trace, o) : null),
        limit,
        untilMigrated,
        tail,
        i: 0,
        faults: 0,
        faultsRead: 0,
        faultsWrite: 0,
        faultsExec: 0,
        reads: 0,
        writes: 0,
        badReads: 0,
        firstBadRead: null,
        faultStartUs: 0,
        lastPage: -1,
        blockedUs: 0,
        runUs: 0,
        access: 0,
        entry: 0,
        queuedOnUffd: false,
        entryPage: -1,
        resumeLagUsTotal: 0,
        selfInstalled: 0,
        selfEexist: 0,
        selfRequests: 0,
        installedUs: -1,
        held: false,
        arch: new VcpuFaults(o, v, tables, archState),
        faultKind: 0,
        aheadAt: 0,
        gupLeft: 0,
      });
    }
  }

  private addUffds(): void {
    const o = this.opts;
    for (let k = 0; k < uffdCount(o); k++) this.uffds.push(newUffd(k, o.vcpus));
    for (let h = 0; h < handlerCount(o); h++) {
      const t = this.addThread(HANDLER, Ph.HPoll);
      this.uffds[uffdOfHandler(o, h)]!.handlers.push(t.id);
      this.handlerUffd[t.id] = uffdOfHandler(o, h);
    }
  }

  // ---- the model's PageStates, over this engine's page-state array
  claim(page: number): boolean {
    if (this.state[page] !== PAGE_MISSING) return false;
    this.state[page] = PAGE_REQUESTED;
    return true;
  }
  isPresent(page: number): boolean {
    return this.state[page] === PAGE_PRESENT;
  }

  statsOf(t: Thread): FetcherStats {
    return this.fstats[t.id - this.opts.vcpus]!;
  }

  /**
   * `t` goes on with `ph` at `atUs`: at once when that is now (the same run as an event at now,
   * without the event), else as an event. Only for a thread's own next step, at the end of a step.
   */
  continueAt(atUs: number, t: Thread, ph: number): void {
    if (atUs === this.now) this.dispatch(t.id, ph, 0);
    else this.schedule(atUs, t, ph);
  }

  /** An injected crash: the thread runs no more (its pending events are dropped), its core is freed. */
  kill(t: Thread): void {
    if (t.hasCore) this.releaseCore(t);
    t.state = DONE;
    this.dead[t.id] = 1;
  }

  /** A restarted thread: a fresh one in its place, starting at `ph`. */
  revive(t: Thread, ph: number): void {
    this.dead[t.id] = 0;
    t.state = BUSY;
    t.spinToken++;
    this.cpu(t, 0, ph);
  }
  readonly dead: Uint8Array = new Uint8Array(4096);

  protected override onSleep(t: Thread): void {
    if (t.kind !== VCPU) this.statsOf(t).sleeps++;
  }

  /** The guest starts on the destination (at once, or at hybrid's switch). */
  startGuest(): void {
    this.goUs = this.now;
    this.blocks.active = this.opts.vcpus;
    for (let v = 0; v < this.opts.vcpus; v++) this.cpu(this.threads[v]!, 0, Ph.VRun);
    // uffd handlers start in their poll() loop
    for (const t of this.threads) if (t.kind === HANDLER) this.cpu(t, 0, Ph.HPoll);
  }

  /** Runs thread `id`'s step `ph` now (the loop's dispatch to the actors, loop.ts). */
  abstract dispatch(id: number, ph: number, arg: number): void;
}
