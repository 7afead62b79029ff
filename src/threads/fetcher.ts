/**
 * The page fetcher service: the destination's one handler loop (demand_paging_test style). It reads
 * KVM_EXIT_MEMORY_FAULT records from every vCPU's port, merges faults on a page already in flight,
 * asks the source for the rest, and installs every page that arrives on the main stream (demanded or
 * pushed), waking the vCPUs that wait on it. In uffd mode it only installs the pushed stream, as
 * QEMU's postcopy listen thread does; the uffd handlers ask for faulted pages themselves.
 */
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { IDLE_WALL_US } from './doorbell.js';
import { Installer } from './installer.js';
import { CTL_ABORT, CTL_PRESENT_PAGES, postedWord, CTL_STOP, CTL_SWITCHED, CTL_VCPUS_DONE, TIME_MIGRATION_START_US, TIME_SWITCH_DONE_US } from './layout.js';
import { LocalImage } from '../model/image.js';
import { WireRing } from './wire.js';
import {
  CH_BULK,
  decode,
  MF_AHEAD,
  MF_FLAGS,
  MF_GPA,
  MF_TIME_US,
  MF_VCPU,
  PAGE_FLAG_DEMAND,
  type FetcherStats,
  type MemoryFaultRecord,
  type ServiceStart,
} from './protocol.js';
import { FaultResolver } from './resolver.js';
import { newFetcherStats } from '../model/stats.js';
import { pagesPerUffd } from '../model/memslots.js';
import { FrameReceiver } from './receiver.js';
import { awaitStartGun, openShared } from './shared.js';

/** Pushed pages installed per round before the fetcher looks at fault records again. */
export const BULK_BATCH = 32;

export function runFetcher(start: ServiceStart): FetcherStats {
  const views = openShared(start.shared);
  const { opts, clock, mem, ctl, times, queues, fetcherBell, sourceBell } = views;
  const installer = new Installer(start.shared, mem, ctl, times, clock, queues, pagesPerUffd(opts));
  const vcpuPorts = start.vcpuPorts as MessagePort[];
  // network 'none': no source host; pages come from a local copy of the image (demand_paging_test).
  const local = opts.network === 'none' ? new LocalImage(views.image, opts.pageSize) : null;
  const toSource = local ? null : new WireRing(start.shared.wireToSource[0]!);
  // The bulk stream: this is QEMU's listen thread (the urgent channel has a thread of its own, preempt.ts).
  const receiver = local ? null : new FrameReceiver(new WireRing(start.shared.wireToDest[CH_BULK]!), clock, ctl);
  installer.deferWakes = opts.wakeBatch > 1;
  let sweepCursor = 0;
  let bulkFreed = 0;
  const ringSlotsQuarter = local ? 0 : Math.max(1, new WireRing(start.shared.wireToDest[CH_BULK]!).slots >> 2);
  const consumed = new Int32Array(vcpuPorts.length);
  const resolver = new FaultResolver(newFetcherStats('fetcher'), mem, installer, clock, local, toSource, sourceBell);
  const { stats, onPage } = resolver;

  // hybrid's switch to postcopy: the listed pages' copies are stale; the last frame lets the guest go.
  const onDiscard = (pages: Int32Array, final: boolean): void => {
    // Fault injection (correctness tests): the first discard of the switch is lost.
    const lost = opts.injectBug === 'lose-discard' && stats.discarded === 0 && pages.length > 0 ? 1 : 0;
    for (let i = lost; i < pages.length; i++) installer.discard(pages[i]!);
    stats.discarded += pages.length - lost;
    if (final) {
      times[TIME_SWITCH_DONE_US] = clock.nowUs();
      Atomics.store(ctl, CTL_SWITCHED, 1);
      Atomics.notify(ctl, CTL_SWITCHED);
      installer.checkDone(); // nothing went stale: migration is already complete
    }
  };

  const onFault = (rec: MemoryFaultRecord): void => {
    stats.recordLagUsTotal += Math.max(0, clock.nowUs() - rec[MF_TIME_US]); // vCPU exit -> fetcher reads it
    resolver.resolve(mem.pageOfGpa(rec[MF_GPA]), rec[MF_VCPU], rec[MF_FLAGS]);
    // A syndrome record's walk: the pages the source's walk sends with the table page (src/model/arch/).
    for (let i = MF_AHEAD; i < rec.length; i++) if (rec[i]! >= 0) resolver.resolve(mem.pageOfGpa(rec[i]!), rec[MF_VCPU], rec[MF_FLAGS]);
  };

  awaitStartGun(ctl);
  const crash = opts.inject.find((i) => i.kind === 'fetcher-crash');
  const crashAtUs = crash ? times[TIME_MIGRATION_START_US]! + crash.atUs : Infinity;
  while (Atomics.load(ctl, CTL_STOP) === 0 && Atomics.load(ctl, CTL_ABORT) === 0) {
    const seen = fetcherBell.snapshot();
    if (clock.nowUs() >= crashAtUs) {
      throw new Error(
        `GUEST_LOST: the destination's page fetcher died at ${(crash!.atUs / 1000).toFixed(1)} ms with ` +
          `${mem.pages - Atomics.load(ctl, CTL_PRESENT_PAGES)} pages only on the source: the guest is lost (postcopy depends on both hosts)`,
      );
    }
    if (opts.injectFault === 'fetcher-dies' && stats.installedPushed + stats.installedDemand >= 256) throw new Error('injected fault: page fetcher crashed');
    let inFlight = false;
    for (let v = 0; v < vcpuPorts.length; v++) {
      const posted = Atomics.load(ctl, postedWord(v));
      while (consumed[v] !== posted) {
        const m = receiveMessageOnPort(vcpuPorts[v]!);
        if (m === undefined) {
          inFlight = true;
          break;
        } // counted but not yet on the port: look again soon
        consumed[v]!++;
        onFault(decode<MemoryFaultRecord>(m.message as Uint8Array));
      }
    }
    let nextArriveUs = Infinity;
    if (receiver) {
      const bulkBefore = receiver.frames;
      // The bulk stream in bounded batches: when this thread falls behind the link, a fault record
      // must not wait for a whole backlog of pushed pages to be installed.
      const bulkNext = receiver.drain(onPage, onDiscard, BULK_BATCH);
      nextArriveUs = bulkNext;
      installer.flushWakes(); // --wake-batch: one UFFDIO_WAKE per run of what this round copied
      // Ring space freed for the source, which may sleep on a full ring. Waking it costs a futex
      // call (~20 us here): on the bulk ring only once a quarter of it is free again or it ran dry
      // (measured at 100 Gbit/s: a wake every 32 frames held the pipeline to 1.7 us per page).
      bulkFreed += receiver.frames - bulkBefore;
      if (bulkFreed >= ringSlotsQuarter || (bulkFreed > 0 && bulkNext === Infinity)) {
        bulkFreed = 0;
        sourceBell.ring();
      }
    } else if (local && sweepCursor < mem.pages && Atomics.load(ctl, CTL_VCPUS_DONE) === opts.vcpus) {
      // No source to push the rest: once the guest is done, copy every page still missing (a bounded batch per round).
      for (let n = 0; n < 256 && sweepCursor < mem.pages; sweepCursor++) {
        if (mem.markRequested(sweepCursor)) {
          onPage(sweepCursor, local.fill(sweepCursor) & ~PAGE_FLAG_DEMAND, local.words);
          n++;
        }
      }
      continue;
    }
    // A record whose doorbell already rang (before `seen`) but which was not on its port yet must not
    // wait for the next ring: spin a moment for it instead.
    fetcherBell.waitForFrame(seen, nextArriveUs, clock, opts.serviceSpinUs, inFlight ? Math.min(IDLE_WALL_US, opts.serviceSpinUs) : IDLE_WALL_US);
  }
  stats.sleeps = fetcherBell.sleeps;
  stats.framesReceived = receiver?.frames ?? 0;
  stats.bytesReceived = receiver?.bytes ?? 0;
  return stats;
}
