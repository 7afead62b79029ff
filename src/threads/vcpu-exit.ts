/**
 * What a vCPU thread does with a KVM_EXIT_MEMORY_FAULT once KVM_RUN has returned (exit mode): the
 * three resolvers the exit allows, and the wait for the page that follows each.
 *
 *   fetcher     post the memory_fault record on the vCPU's own MessagePort to the page fetcher and
 *               ring its doorbell; the fetcher asks the source and installs what comes back
 *   vcpu        resolve it on this thread, no other thread involved: UFFDIO_COPY from the local
 *               image (network none), or (over a link) ask the source on this vCPU's own channel
 *               and install the frames that come back on it
 *
 * Then the vCPU waits until the page is present: it spins on the page-state word, then sleeps on it
 * with the WAITERS bit set so an installer knows to notify (a notify costs a wake even when nobody
 * waits). A syndrome walk's pages (the record's ahead slots) take the same round trip.
 *
 * Apart from the access loop (vcpu.ts) because it is per fault, not per access; nothing here
 * allocates per fault either: the record is one preallocated array, encoded in place.
 */
import type { MessagePort } from 'node:worker_threads';
import { decideFault, FAULT_REQUEST } from '../model/fault-decision.js';
import type { ArchGuest } from '../model/arch/guest.js';
import type { FaultRecord } from '../model/arch/record.js';
import { LocalImage } from '../model/image.js';
import { handlerCount } from '../model/memslots.js';
import { newFetcherStats } from '../model/stats.js';
import { KVM_EXIT_MEMORY_FAULT } from '../model/uapi.js';
import { Aborted } from './aborted.js';
import { wallUsUntil } from './clock.js';
import { HOLD_SPIN_US, IDLE_WALL_US } from './doorbell.js';
import { EEXIST } from './guest-memory.js';
import { Installer } from './installer.js';
import { CTL_ABORT, PAGE_PRESENT, PAGE_STATE_MASK, PAGE_WAITERS, postedWord, VCPU_STRIDE, VCPU_WAITING, VS_STATE } from './layout.js';
import {
  encode,
  MF_AHEAD,
  MF_AHEAD_SLOTS,
  MF_HPFAR,
  MF_HW_ADDRESS,
  MF_SYNDROME,
  MF_SYNDROME_LENGTH,
  MF_VA,
  vcpuChannel,
  type MemoryFaultRecord,
  type SharedState,
} from './protocol.js';
import { FrameReceiver } from './receiver.js';
import { FaultResolver } from './resolver.js';
import type { Views } from './shared.js';
import { WireRing } from './wire.js';

export class ExitResolution {
  private readonly record: MemoryFaultRecord;
  private readonly syndromeRecord: boolean;
  private seq = 0;
  /** Resolver 'vcpu', network none: pages copied from the locally derived image. */
  private readonly localImage: LocalImage | null;
  private readonly installer: Installer | null;
  /** Resolver 'vcpu' over a link: this vCPU's own request channel and the frames coming back on it. */
  readonly self: FaultResolver | null;
  private readonly selfReceiver: FrameReceiver | null;
  private readonly selfResolve: boolean;
  private readonly st: Int32Array;
  private readonly spinUs: number;
  private readonly vs: number;
  selfInstalled = 0;
  selfEexist = 0;

  constructor(
    private readonly v: number,
    private readonly views: Views,
    shared: SharedState,
    private readonly port: MessagePort | null,
    private readonly guest: ArchGuest | null,
  ) {
    const { opts, mem, ctl, times, clock } = views;
    this.st = mem.pageState;
    this.vs = v * VCPU_STRIDE;
    // Spinning is the simulator's own mechanism: wall time, so spinUs / D of modelled time.
    this.spinUs = opts.spinUs / clock.dilation;
    // The exit as it crosses the port: neutral, or with the raw syndrome (protocol.ts, src/model/arch/).
    this.syndromeRecord = opts.faultRecord === 'syndrome';
    this.record = [v, 0, 0, 0, opts.pageSize, 0, KVM_EXIT_MEMORY_FAULT];
    if (this.syndromeRecord) while (this.record.length < MF_SYNDROME_LENGTH) this.record.push(-1);
    this.selfResolve = opts.mode === 'exit' && opts.exitResolver === 'vcpu';
    const overLink = this.selfResolve && opts.network === 'link';
    this.localImage = this.selfResolve && !overLink ? new LocalImage(views.image, opts.pageSize) : null;
    this.installer = this.selfResolve ? new Installer(shared, mem, ctl, times, clock, [], 1) : null;
    // Over a link the vCPU asks the source on a channel of its own, and the page comes back to it.
    const channel = vcpuChannel(handlerCount(opts), v);
    this.self = overLink
      ? new FaultResolver(newFetcherStats('fetcher'), mem, this.installer!, clock, null, new WireRing(shared.wireToSource[channel]!), views.sourceBell)
      : null;
    this.selfReceiver = overLink ? new FrameReceiver(new WireRing(shared.wireToDest[channel]!), clock, ctl) : null;
  }

  /** The exit for `page` (`r`, taken at `tFault`), resolved by the run's resolver; returns once the page and its `ahead` walk pages are present. */
  resolve(page: number, r: FaultRecord, tFault: number, ahead: number): void {
    const record = this.record,
      guest = this.guest;
    record[1] = this.seq++;
    record[2] = r.flags;
    record[3] = r.gpa;
    record[5] = tFault;
    if (this.syndromeRecord) {
      record[MF_SYNDROME] = r.syndrome;
      record[MF_VA] = r.va;
      record[MF_HW_ADDRESS] = r.hwAddress;
      record[MF_HPFAR] = r.hpfar;
      for (let k = 0; k < MF_AHEAD_SLOTS; k++) record[MF_AHEAD + k] = k < ahead ? this.views.mem.gpaOfPage(guest!.ahead[k]!) : -1;
    }
    if (this.self) {
      // Resolved on the vCPU's own thread over a link: it asks the source and installs what comes back.
      this.self.resolve(page, this.v, r.flags); // asks unless the page is already on its way
      this.waitOwnPage(page);
      for (let k = 0; k < ahead; k++) {
        this.self.resolve(guest!.ahead[k]!, this.v, r.flags);
        this.waitOwnPage(guest!.ahead[k]!);
      }
    } else if (this.selfResolve) {
      // Resolved on the vCPU's own thread (what the exit was built for): UFFDIO_COPY from the local
      // image, no shared queue and no other thread; a syndrome walk's pages too.
      this.selfInstall(page);
      for (let k = 0; k < ahead; k++) this.selfInstall(guest!.ahead[k]!);
    } else {
      this.port!.postMessage(encode(record));
      Atomics.add(this.views.ctl, postedWord(this.v), 1);
      this.views.fetcherBell.ring();
    }
    this.waitPresent(page); // with self-resolve: another vCPU may be installing it
    for (let k = 0; k < ahead; k++) this.waitPresent(guest!.ahead[k]!); // the walk's pages, same round trip
  }

  /** Spin on the page-state word, then sleep on it with the WAITERS bit set, until the page is present. */
  private waitPresent(page: number): void {
    const { clock, ctl, vstats } = this.views,
      st = this.st;
    const spinUntil = clock.nowUs() + this.spinUs;
    for (;;) {
      const s = Atomics.load(st, page);
      if ((s & PAGE_STATE_MASK) === PAGE_PRESENT) return;
      if (clock.nowUs() < spinUntil) continue;
      if ((s & PAGE_WAITERS) === 0 && Atomics.compareExchange(st, page, s, s | PAGE_WAITERS) !== s) continue;
      vstats[this.vs + VS_STATE] = VCPU_WAITING;
      Atomics.wait(st, page, s | PAGE_WAITERS, 50);
      if (Atomics.load(ctl, CTL_ABORT)) throw new Aborted('aborted while waiting');
    }
  }

  /**
   * Resolver 'vcpu' over a link: install the frames that come back on this vCPU's channel until the
   * page is present (it may also come by push, installed by the listen thread). It sleeps on the
   * page's state word: the installer and the source (after writing this channel) both notify it.
   */
  private waitOwnPage(page: number): void {
    const { clock, ctl, vstats, sourceBell } = this.views,
      st = this.st;
    const receiver = this.selfReceiver!,
      onPage = this.self!.onPage;
    for (;;) {
      const before = receiver.frames;
      const nextUs = receiver.drain(onPage);
      if (receiver.frames !== before) sourceBell.ring(); // ring space freed
      const s = Atomics.load(st, page);
      if ((s & PAGE_STATE_MASK) === PAGE_PRESENT) return;
      const timeoutUs = wallUsUntil(clock, nextUs, IDLE_WALL_US); // the next frame is due in modelled time
      if (timeoutUs <= HOLD_SPIN_US) continue; // due soon: a timed sleep would overshoot it
      if ((s & PAGE_WAITERS) === 0 && Atomics.compareExchange(st, page, s, s | PAGE_WAITERS) !== s) continue;
      vstats[this.vs + VS_STATE] = VCPU_WAITING;
      Atomics.wait(st, page, s | PAGE_WAITERS, timeoutUs / 1000);
      if (Atomics.load(ctl, CTL_ABORT)) throw new Aborted('aborted while waiting');
    }
  }

  private selfInstall(page: number): void {
    const mem = this.views.mem;
    if (decideFault(mem, page, null) !== FAULT_REQUEST) return;
    if (this.installer!.install(page, this.localImage!.words, this.localImage!.fill(page)) !== EEXIST) this.selfInstalled++;
    else this.selfEexist++;
  }
}
