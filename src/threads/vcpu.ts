/**
 * One vCPU: a guest workload running against destination memory, faulting on pages that are not
 * there yet. The access loop is the hot path: it allocates nothing per access and logs nothing.
 *
 * Every access does the stage-2 lookup (the page-state word). A present page is really read or
 * written in the SharedArrayBuffer, and every read is checked against what the page must hold: a
 * data word and the page's last word must equal the source image (a torn or stale page fails here),
 * and this vCPU's own write slot must hold its own last write.
 *
 * Exit mode: on a missing page the vCPU builds what KVM puts in kvm_run for KVM_EXIT_MEMORY_FAULT,
 * posts it on its own MessagePort to the page fetcher (or resolves it on this thread: vcpu-exit.ts),
 * and waits until the page is present.
 * uffd mode: the fault goes on the shared userfaultfd queue as a uffd_msg and the vCPU sleeps until a
 * UFFDIO_COPY wakes it.
 */
import { createHistogram } from 'node:perf_hooks';
import type { MessagePort } from 'node:worker_threads';
import { Blocktime } from './blocktime.js';
import { latencyBucket } from '../model/stats.js';
import {
  CTL_ABORT,
  CTL_GO,
  CTL_MIGRATION_DONE,
  CTL_VCPUS_STARTED,
  PAGE_PRESENT,
  PAGE_STATE_MASK,
  VCPU_DONE,
  VCPU_FAULTED,
  VCPU_RUNNING,
  VCPU_STRIDE,
  VCPU_WAITING,
  VS_ACCESSES,
  VS_BAD_READS,
  VS_BLOCKED_US,
  VS_FAULTS,
  VS_STATE,
  VS_WAIT_PAGE,
  VS_WAIT_SINCE_US,
  WRITE_SLOT_BASE,
  VS_LAST_PAGE,
  VS_LAST_FAULT_US,
  VS_LAST_FLAGS,
  CTL_LATENCY_BUCKETS,
  TIME_GO_US,
  VS_LAST_KIND,
  VS_LAST_DATA_PAGE,
} from './layout.js';
import { prefaultMemory } from './guest-memory.js';
import type { VcpuReport, VcpuTask } from './protocol.js';
import { openShared } from './shared.js';
import { pagesPerUffd, uffdOfPage } from '../model/memslots.js';
import { Errors } from '../errors.js';
import { KVM_MEMORY_EXIT_FLAG_EXEC, KVM_MEMORY_EXIT_FLAG_WRITE, UFFD_PAGEFAULT_FLAG_MINOR } from '../model/uapi.js';
import { FK_NONE } from '../model/arch/fault-kind.js';
import { localWorkUs, RES_FETCH } from '../model/arch/guest.js';
import type { FaultRecord } from '../model/arch/record.js';
import { openArchState } from '../model/arch/regions.js';
import { packLastFault, stage1Of, VcpuFaults } from '../model/arch/vcpu-faults.js';
import { accessBudget } from '../model/access-budget.js';
import { AccessStream, vcpuRange } from '../model/workload.js';
import { openTrace } from '../trace/replay.js';
import { GuestTime } from './guest-time.js';
import { keyedWord, pageKey, writeTag } from '../model/rng.js';
import { GuestPacer } from './pacer.js';
import { describeStaleRead } from './verify.js';
import { Aborted } from './aborted.js';
import { ExitResolution } from './vcpu-exit.js';

export { Aborted };

export function runVcpu(task: VcpuTask): VcpuReport {
  const v = task.vcpu;
  const views = openShared(task.shared);
  const { opts, clock, mem, ctl, times, vstats, image, queues, versions } = views;
  const port = task.port as MessagePort | null;
  const st = mem.pageState;
  const vs = v * VCPU_STRIDE;
  const seed = opts.seed;
  const writeCount = task.shared.writeCountSabs.length ? new Uint8Array(task.shared.writeCountSabs[v]!) : null;
  const trace = task.shared.traces?.[v];
  const stream = new AccessStream(opts.workload, vcpuRange(opts, v), opts, v, trace ? openTrace(trace, opts) : null, WRITE_SLOT_BASE);
  const latency = createHistogram();
  const mySlot = WRITE_SLOT_BASE + v;
  const lastWord = mem.wordsPerPage - 1;
  // Spinning is the simulator's own mechanism: wall time, so spinUs / D of modelled time.
  const spinUs = opts.spinUs / clock.dilation;
  const perQueue = pagesPerUffd(opts);
  const arch = new VcpuFaults(opts, v, stage1Of(opts), openArchState(opts, task.shared.archSab));
  const guest = arch.guest;
  // How many accesses this vCPU runs (the model's, src/model/access-budget.ts).
  const budget = accessBudget(opts, trace ? trace.length : null);
  const limit = budget.limit,
    untilMigrated = budget.untilMigrated;
  let tail = budget.tail;
  let migrated = !untilMigrated;
  let noMemslot: string | null = null;
  const thinkUs = opts.thinkUs;
  const exitMode = opts.mode === 'exit';
  const minorMode = opts.uffdMode === 'minor'; // the uffd_msg says MINOR: the page is in the page cache, UFFDIO_CONTINUE maps it
  // Exit mode: what the vCPU thread does with the exit (src/threads/vcpu-exit.ts).
  const exit = exitMode ? new ExitResolution(v, views, task.shared, port, guest) : null;
  const blocktime = new Blocktime(ctl, times);
  const thinkWord = new Int32Array(new SharedArrayBuffer(4));

  let reads = 0,
    writes = 0,
    faults = 0,
    faultsRead = 0,
    faultsWrite = 0,
    faultsExec = 0;
  let blockedUs = 0,
    badReads = 0;
  let firstBadRead: string | null = null;
  let resumeLagUsTotal = 0;
  const arrivalMs = new Float32Array(task.shared.arrivalMsSab);

  // Each vCPU maps its share of host memory before the start line, so no install pays a host page fault.
  // (mode none: the engine already wrote the whole image, which mapped it.)
  if (opts.prefault && opts.mode !== 'none') prefaultMemory(mem.slotBytes, v, opts.vcpus);
  // Start line: every vCPU waits for the gun so guest time is measured over the same interval.
  Atomics.add(ctl, CTL_VCPUS_STARTED, 1);
  while (Atomics.load(ctl, CTL_GO) === 0) {
    if (Atomics.load(ctl, CTL_ABORT)) throw new Aborted('aborted before start');
    Atomics.wait(ctl, CTL_GO, 0, 50);
  }
  const t0 = clock.nowUs();
  const guestTime = new GuestTime(clock, ctl, t0); // a trace's recorded time between accesses
  // Dilated: the guest's compute and think time are modelled durations too (src/threads/pacer.ts).
  const pacer = clock.dilation > 1 ? new GuestPacer(clock, task.shared.dilation.accessUs, thinkUs, t0) : null;

  const waitWokenByUffd = (page: number, flags: number, gpa: number): void => {
    const q = queues[uffdOfPage(page, queues.length, perQueue)]!;
    q.enqueueFault(v, page, flags, gpa);
    // handle_userfault re-checks, after queueing, whether it must still wait: the page may have been
    // installed between the stage-2 lookup and the queueing.
    if (mem.isPresent(page)) {
      q.cancel(v);
      return;
    }
    const spinUntil = clock.nowUs() + spinUs;
    while (!q.isWoken(v)) {
      if (clock.nowUs() < spinUntil) continue;
      vstats[vs + VS_STATE] = VCPU_WAITING;
      q.sleepUntilWoken(v, 50);
      if (Atomics.load(ctl, CTL_ABORT)) throw new Aborted('aborted while waiting');
    }
  };

  /** A record handed to userspace: `r` for the fault on `page`, resolved as `res` (src/model/arch/guest.ts). */
  const fault = (page: number, r: FaultRecord, res: number): void => {
    const tFault = clock.nowUs();
    faults++;
    const gpa = r.gpa;
    vstats[vs + VS_STATE] = VCPU_FAULTED;
    vstats[vs + VS_WAIT_PAGE] = page + 1;
    vstats[vs + VS_WAIT_SINCE_US] = tFault;
    vstats[vs + VS_LAST_PAGE] = page;
    vstats[vs + VS_LAST_FAULT_US] = tFault;
    // Split by the arch-neutral flags, whichever record the run hands out.
    const nf = r.neutralFlags;
    if (nf & KVM_MEMORY_EXIT_FLAG_WRITE) faultsWrite++;
    else if (nf & KVM_MEMORY_EXIT_FLAG_EXEC) faultsExec++;
    else faultsRead++;
    const ahead = res === RES_FETCH && guest !== null ? guest.collectAhead(mem) : 0;
    arch.count(r, res, res === RES_FETCH ? 1 + ahead : 0);
    // memory_fault.flags in exit mode (and for exits that never reach a uffd), uffd_msg flags in uffd mode.
    const flags = exitMode || !r.uffdSees ? r.flags : r.uffdFlags | (minorMode ? UFFD_PAGEFAULT_FLAG_MINOR : 0);
    vstats[vs + VS_LAST_FLAGS] = flags;
    vstats[vs + VS_LAST_KIND] = packLastFault(arch.last);
    vstats[vs + VS_LAST_DATA_PAGE] = arch.last.dataPage;
    vstats[vs + VS_FAULTS] = faults;
    blocktime.begin(tFault);
    if (res !== RES_FETCH) resolveLocally(res, tFault);
    else if (exit !== null) exit.resolve(page, r, tFault, ahead);
    else waitWokenByUffd(page, flags, gpa);
    const tResume = clock.nowUs();
    guestTime.resumed(tResume);
    if (pacer !== null) pacer.resumeAt(tResume);
    const installedMs = arrivalMs[page]!;
    if (res === RES_FETCH && installedMs > 0) resumeLagUsTotal += Math.max(0, tResume - times[TIME_GO_US]! - installedMs * 1000);
    blocktime.end(tResume);
    const dUs = tResume - tFault;
    blockedUs += dUs;
    arch.done(r.kind, dUs);
    latency.record(dUs >= 0.001 ? Math.round(dUs * 1000) : 1);
    // Live histogram for the event stream: bucket N holds [2^N us, 2^(N+1) us).
    Atomics.add(ctl, CTL_LATENCY_BUCKETS + latencyBucket(dUs), 1);
    vstats[vs + VS_BLOCKED_US] = blockedUs;
    vstats[vs + VS_WAIT_PAGE] = 0;
    vstats[vs + VS_STATE] = VCPU_RUNNING;
  };

  /** A conversion, a tag restore or a blind re-entry: the VMM's own work on this thread, then KVM_RUN. */
  const resolveLocally = (res: number, tFault: number): void => {
    guest!.applyLocal(res);
    const workUs = localWorkUs(opts, res);
    // Modelled work, spun on the clock: a sleep this short would overshoot by the timer slack.
    while (clock.nowUs() - tFault < workUs) {
      /* the VMM's modelled work */
    }
  };

  let i = 0;
  for (; i < limit; i++) {
    if ((i & 255) === 0) {
      vstats[vs + VS_ACCESSES] = i;
      if (opts.injectFault === 'vcpu-dies' && v === 0 && i >= 1024) throw new Error('injected fault: vCPU thread crashed');
      if (Atomics.load(ctl, CTL_ABORT)) throw new Aborted('aborted');
      if (!migrated && Atomics.load(ctl, CTL_MIGRATION_DONE)) migrated = true;
    }
    if (migrated && untilMigrated && tail-- <= 0) break;
    stream.next();
    if (stream.gapUs > 0 && !guestTime.compute(stream.gapUs)) throw new Aborted('aborted');
    let page = stream.page;
    if (page < 0) {
      page = mem.pageOfGpa(stream.gpa);
      if (page < 0) {
        // KVM has no memslot to fault in: the run cannot go on
        noMemslot = Errors.noMemslot(v, stream.gpa).message;
        Atomics.store(ctl, CTL_ABORT, 1);
        break;
      }
    }
    if (pacer !== null) pacer.step();
    else if (thinkUs > 0) Atomics.wait(thinkWord, 0, 0, thinkUs / 1000);
    if (thinkUs > 0) vstats[vs + VS_ACCESSES] = i; // slow motion for demos: publish every access, or the live view moves in steps of 256
    if (guest === null) {
      if ((Atomics.load(st, page) & PAGE_STATE_MASK) !== PAGE_PRESENT) {
        // Paced: the guest reaches this access at its modelled time, and the page may be there by then.
        if (pacer !== null) pacer.catchUp();
        if ((Atomics.load(st, page) & PAGE_STATE_MASK) !== PAGE_PRESENT) fault(page, arch.buildData(page, mem.gpaOfPage(page), stream.access), RES_FETCH);
      }
    } else {
      // A modelled guest: its walk, attributes and tags may stop the access first; after each
      // resolution the access runs again from the start, as the hardware retries it.
      guest.begin(page, stream.access);
      let ob = guest.obstacle(mem);
      if (ob !== FK_NONE && pacer !== null) {
        pacer.catchUp();
        ob = guest.obstacle(mem);
      } // paced, as above
      for (let n = 0; ob !== FK_NONE; n++, ob = guest.obstacle(mem)) {
        if (n > 16) throw new Error(`assertion failed: vCPU ${v} met ${n} obstacles on one access to page ${page}`);
        fault(guest.obPage, arch.buildObstacle(mem.gpaOfPage(guest.obPage)), guest.resolution());
      }
    }
    const slot = mem.slotOfPage(page);
    const words = mem.slotWords[slot]!;
    const base = mem.pageWordBase(page, slot);
    if (stream.write) {
      // One byte per page remembers the write; the tag itself is derived from it (src/model/rng.ts).
      const n = writeCount![page] === 255 ? 1 : writeCount![page]! + 1;
      writeCount![page] = n;
      words[base + mySlot] = writeTag(seed, v, page, n);
      writes++;
    } else {
      reads++;
      // The version the guest must see: the source's at the switch (hybrid), else the first.
      const version = versions === null ? 0 : versions[page]!;
      const zero = image.isZero(page, version);
      const w = stream.word;
      const got = words[base + w]!;
      const gotLast = words[base + lastWord]!;
      const gotMine = words[base + mySlot]!;
      const n = writeCount === null ? 0 : writeCount[page]!;
      const key = pageKey(seed, page, version);
      const want = zero ? 0 : keyedWord(key, w);
      const wantLast = zero ? 0 : keyedWord(key, lastWord);
      const wantMine = n !== 0 ? writeTag(seed, v, page, n) : zero ? 0 : keyedWord(key, mySlot);
      if (got !== want || gotLast !== wantLast || gotMine !== wantMine) {
        badReads++;
        vstats[vs + VS_BAD_READS] = badReads;
        if (firstBadRead === null) {
          firstBadRead =
            `vCPU ${v} read page ${page} (gpa 0x${mem.gpaOfPage(page).toString(16)}): ` +
            (got !== want
              ? `word ${w} = ${got}, source has ${want}${describeStaleRead(image, page, w, got, version)}`
              : gotLast !== wantLast
                ? `last word = ${gotLast}, source has ${wantLast} (torn page)`
                : `own write slot = ${gotMine}, expected ${wantMine} (lost write)`);
        }
      }
    }
  }
  const tEnd = pacer !== null ? pacer.catchUp() : clock.nowUs();
  vstats[vs + VS_ACCESSES] = i;
  vstats[vs + VS_STATE] = VCPU_DONE;
  blocktime.retire(tEnd);
  return {
    vcpu: v,
    accesses: i,
    reads,
    writes,
    faults,
    faultsRead,
    faultsWrite,
    faultsExec,
    blockedUs,
    runUs: tEnd - t0,
    badReads,
    firstBadRead,
    latency,
    noMemslot,
    resumeLagUsTotal,
    selfInstalled: exit === null ? 0 : exit.selfInstalled + (exit.self ? exit.self.stats.installedDemand + exit.self.stats.installedPushed : 0),
    selfEexist: exit === null ? 0 : exit.selfEexist + (exit.self ? exit.self.stats.eexist : 0),
    selfRequests: exit?.self ? exit.self.stats.requestsSent : 0,
    kindCounts: arch.counters.c,
    faultOrder: arch.order,
  };
}
