/**
 * `postcopy-sim calibrate`: measures the virtual engine's costs on this host and writes a cost
 * profile (src/virtual/costs.ts). Sources, each cost naming the one it came from:
 *
 *   mechanisms native/uffd_mech.c: each cost of the userfaultfd path on its own (try_to_wake_up as
 *              the waker pays it, the wake walk per waiter, poll() and an empty read(), UFFDIO_COPY,
 *              _ZEROPAGE and _CONTINUE at 1 and 2 copiers, mmap_lock, a contended line)
 *   kernel     native/uffd_paging.c: an ordinary first-touch fault and the fault round trip, for the
 *              two costs no mechanism benchmark isolates (the fault's own path, the wake-up latency)
 *   micro      primitives timed here for the threaded engine and the exit path's MessagePort
 *   threads    simulate() at 1 and 2 vCPUs: the threaded engine's own costs; its two residuals are
 *              fitted at 1 vCPU (marked as such); the 2-vCPU runs are predictions
 *
 * Nothing here looks at the published tables. The 'kernel' profile predicts the kernel (the
 * cross-check rows of `npm run bench -- published`); 'threads' predicts the threaded engine.
 */
import { availableParallelism, cpus, release } from 'node:os';
import { resolveOptions, type OptionsInput } from '../options.js';
import type { CostModel, CostProfile } from '../virtual/costs.js';
import { runVirtual } from '../virtual/engine.js';
import { cacheLineUs, messagePortUs, pageCopyUs, syscallUs, uffdQueueCosts, wakeupUs, type MicroFacts } from './micro.js';

export interface CalibrateOptions {
  /** Pages each vCPU touches in the simulate() runs. @default 2048 */
  pagesPerVcpu?: number;
  /** The profile's name. @default 'this-host' */
  name?: string;
  /** Short native runs (tests): noisier numbers. @default false */
  quick?: boolean;
  /** Run the native kernel baseline. @default true */
  native?: boolean;
  log?: (line: string) => void;
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;

// ---- the threaded engine's per-fault costs ----------------------------------------------------

function pagingOptions(vcpus: number, pages: number, mode: 'exit' | 'uffd' | 'none'): OptionsInput {
  return {
    vcpus,
    memory: vcpus * pages * 4096,
    pageSize: 4096,
    workload: 'sequential',
    partition: true,
    accesses: pages,
    writeRatio: 0,
    network: 'none',
    mode,
    handlers: 1,
    seed: 1,
  };
}

export interface ThreadsRun {
  vcpus: number;
  mode: 'exit' | 'uffd' | 'none';
  pagesPerSec: number;
  usPerFault: number;
}

async function threadedRuns(pages: number, log: (s: string) => void): Promise<ThreadsRun[]> {
  const { simulate } = await import('../simulate.js');
  const out: ThreadsRun[] = [];
  for (const [vcpus, mode] of [
    [1, 'none'],
    [1, 'exit'],
    [1, 'uffd'],
    [2, 'exit'],
    [2, 'uffd'],
  ] as const) {
    const r = await simulate(resolveOptions(pagingOptions(vcpus, pages, mode)));
    const pagesPerSec = (vcpus * pages) / (r.guestMs / 1000);
    out.push({ vcpus, mode, pagesPerSec: Math.round(pagesPerSec), usPerFault: r3(1e6 / pagesPerSec) });
    log(`calibrate: threads ${mode} x${vcpus}: ${Math.round(pagesPerSec)} pages/s`);
  }
  return out;
}

/** The virtual engine's rate for the same experiment under `costs`. */
export function predictPagesPerSec(costs: CostModel, vcpus: number, pages: number, mode: 'exit' | 'uffd', extra: Record<string, unknown> = {}): number {
  const o = resolveOptions({
    ...pagingOptions(vcpus, pages, mode),
    ...(extra.handlers !== undefined ? { handlers: extra.handlers as number } : {}),
    ...(extra.uffdPerVcpu ? { uffdPerVcpu: true } : {}),
  });
  const r = runVirtual({ ...o, ...(extra.exitResolver ? { exitResolver: extra.exitResolver as 'vcpu' } : {}) }, costs);
  return (vcpus * pages) / (r.guestMs / 1000);
}

// ---- the profile --------------------------------------------------------------------------------

/** The mechanism counts of the fault path (not measured: read off the kernel's code path). */
const COUNTS = {
  mmapLocksPerUffdFault: 4,
  mmapLockLines: 2,
  mmuLockLines: 2,
};
const COUNT_SOURCES = {
  mmapLocksPerUffdFault:
    "mechanism: four mmap_read_lock uses per uffd fault on the vCPU: the NOWAIT GUP (hva_to_pfn_slow -> get_user_pages_unlocked with FOLL_NOWAIT), KVM's VMA look-up under mmap_read_lock when that GUP fails (hva_to_pfn: vma_lookup, setting *async), the blocking GUP that ends in handle_userfault, and the GUP's retry after the wake (virt/kvm/kvm_main.c hva_to_pfn, mm/gup.c __get_user_pages_locked)",
  mmapLockLines: 'mechanism: an rwsem read acquisition writes its count twice (down_read, up_read)',
  mmuLockLines: 'mechanism: the retried stage-2 fault maps under read_lock(&kvm->mmu_lock), an rwlock: two writes of its count',
};

type Mech = Awaited<ReturnType<typeof import('../../native/mech.js').measureMechanisms>>;

/** The kernel profile from the mechanism benchmarks and the fault baseline. */
function kernelCosts(
  cores: number,
  m: Exclude<Mech, { skipped: true }>,
  firstTouchUs: number,
  roundTripUs: number,
  micro: MicroFacts,
): [CostModel, Record<string, string>] | null {
  if ('skipped' in m.wake || 'skipped' in m.walk || 'skipped' in m.emptyRead || 'skipped' in m.copy || 'skipped' in m.zeropage || 'skipped' in m.cacheLine)
    return null;
  const ns = (sw: { points: Array<{ contenders: number; ns: number }> }, k: number) =>
    (sw.points.find((p) => p.contenders === k)?.ns ?? sw.points.at(-1)!.ns) / 1000;
  const wake = m.wake.writeNsBySleepers,
    walk = m.walk.wakeIoctlNsByWaiters,
    copy = m.copy.nsPerPageByThreads,
    zero = m.zeropage.nsPerPageByThreads;
  const cont = 'skipped' in m.continue ? copy : m.continue.nsPerPageByThreads;
  const line = m.cacheLine;
  const syscallUs = m.emptyRead.pollOnlyNs / 1000;
  const copyUs = ns(copy, 1);
  const faultUs = Math.max(syscallUs, firstTouchUs - copyUs);
  const readUs = Math.max(0, m.emptyRead.emptyReadOnlyNs / 1000 - syscallUs);
  const wf = m.writeFault && !('skipped' in m.writeFault) ? m.writeFault : null;
  const costs: CostModel = {
    cores,
    faultUs,
    missingWriteUs: wf ? Math.max(0, wf.writeExtraNs / 1000) : 0,
    exitUs: syscallUs,
    reentryUs: syscallUs,
    postUs: micro.port.postUs,
    receiveUs: micro.port.receiveUs,
    syscallUs,
    pollUs: 0,
    readUs,
    wqOpUs: ns(line.ownLineNsPerAdd, 2),
    lineUs: Math.max(0, ns(line.sharedLineNsPerAdd, 2) - ns(line.ownLineNsPerAdd, 2)),
    lineGrowth: 0,
    walkWarmUs: Math.max(0, walk.fit.slopeNsPerContender / 1000),
    walkPerWaiterUs: 0,
    ttwuUs: Math.max(0, ns(wake, 1) - ns(wake, 0)),
    ttwuNextUs: Math.max(0, wake.fit.slopeNsPerContender / 1000),
    wakeupUs: 0,
    copyUs,
    copyPerCopierUs: Math.max(0, ns(copy, 2) - copyUs),
    continueUs: ns(cont, 1),
    continuePerCopierUs: Math.max(0, ns(cont, 2) - ns(cont, 1)),
    zeropageUs: ns(zero, 1),
    uffdWakeUs: Math.max(0, ns(walk, 0) - syscallUs),
    memcpyUs: micro.pageCopyUs,
    ...COUNTS,
    accessUs: micro.cacheLine.uncontendedUs,
    spin: false,
  };
  // The round trip of one uffd fault (handler on the other core) is the modelled path with two
  // wake-ups in it (the reader's, the vCPU's): what remains, halved, is one wake-up's latency.
  // The walk benchmark repeats its walk, so its entries stay in the walker's cache: that slope is a
  // warm entry. A cold one (written by its vCPU since) pays a line transfer on top.
  costs.walkPerWaiterUs = costs.walkWarmUs + costs.lineUs;
  // The woken side of a wake from its own micro-benchmark when there is one (wakelat: an eventfd
  // ping-pong across the two CPUs is one whole wake; the waker's part is ttwuUs), so no end-to-end
  // run sets it. Without it (an older binary, one CPU), the round trip's residual as before.
  const wl = m.wakeLatency && !('skipped' in m.wakeLatency) ? m.wakeLatency : null;
  costs.wakeupUs = wl
    ? Math.max(0, wl.otherCpuWakeNs / 1000 - costs.ttwuUs)
    : Math.max(syscallUs, (roundTripUs - faultUs - 2 * syscallUs - readUs - copyUs - costs.ttwuUs) / 2);
  const sources: Record<string, string> = {
    cores: "os.availableParallelism() of this host (runs with this profile use the running host's count; --cores overrides)",
    faultUs: 'kernel: a first-touch fault (native/uffd_paging.c) minus UFFDIO_COPY: the trap and the fault path without the allocate-and-fill',
    missingWriteUs: wf
      ? 'mechanisms: writefault, a write fault minus a read fault on a MISSING-registered anonymous page under UFFD_FEATURE_SIGBUS (handle_userfault returns at once, the page stays unmapped): the page do_anonymous_page allocates, zeroes and frees first'
      : 'not measured (uffd_mech writefault skipped): 0',
    exitUs: 'mechanisms: one kernel crossing (no /dev/kvm usable on this host; KVM_RUN returning is at least that)',
    reentryUs: 'mechanisms: one kernel crossing (KVM_RUN entered again)',
    postUs: 'micro: MessagePort post of one encoded memory_fault record',
    receiveUs: 'micro: receiveMessageOnPort of one record',
    syscallUs:
      'mechanisms: poll(0) on an idle uffd: the crossing, fdget and userfaultfd_poll. With a zero timeout do_poll registers no wait entry (fs/select.c leaves pt->_qproc NULL), so the fd_wqh add and remove of a poll that sleeps are charged apart (wqOpUs each)',
    pollUs: 'mechanisms: 0 beyond syscallUs (poll(0) measured whole)',
    readUs: 'mechanisms: an empty non-blocking read() minus the crossing (both locks, event_wqh)',
    wqOpUs: 'mechanisms: one atomic add on a line this core owns (a list operation inside a held spinlock)',
    lineUs: 'mechanisms: atomic add on one line shared by 2 threads minus on own lines (this VM: both cores of one socket)',
    walkWarmUs: 'mechanisms: UFFDIO_WAKE with nobody in range, slope per thread asleep in a fault on the same uffd (the walk repeats: warm entries)',
    walkPerWaiterUs: "rule: a warm entry (walkWarmUs) plus one line transfer (lineUs): the entry was written on its vCPU's core since",
    lineGrowth: 'not measurable here: 2 vCPUs give at most 2 requesters per line (native/MECHANISMS.md); 0',
    ttwuUs: 'mechanisms: eventfd write waking 1 poller minus waking none (the waker pays the IPI too)',
    ttwuNextUs: 'mechanisms: eventfd write, slope per further poller woken',
    wakeupUs: wl
      ? "mechanisms: wakelat, one wake across the two CPUs (eventfd ping-pong) minus the waker's part (ttwuUs)"
      : 'kernel: (uffd round trip p50, handler on the other core - the modelled path) / 2',
    copyUs: 'mechanisms: UFFDIO_COPY with DONTWAKE, 1 thread',
    copyPerCopierUs: 'mechanisms: UFFDIO_COPY, 2 threads at once minus 1',
    continueUs: 'mechanisms: UFFDIO_CONTINUE with DONTWAKE on shmem, 1 thread',
    continuePerCopierUs: 'mechanisms: UFFDIO_CONTINUE, 2 threads minus 1',
    zeropageUs: 'mechanisms: UFFDIO_ZEROPAGE with DONTWAKE, 1 thread',
    uffdWakeUs: 'mechanisms: UFFDIO_WAKE with no waiter minus the crossing',
    memcpyUs: 'micro: Int32Array.set of 4 KiB',
    accessUs: 'micro: an uncontended Atomics.add (a guest store to a present page)',
    spin: 'kernel: false, handle_userfault and poll() sleep at once',
    ...COUNT_SOURCES,
  };
  return [costs, sources];
}

/** The threaded engine's own costs (its UffdQueue, Atomics, MessagePorts); residuals fitted at 1 vCPU. */
async function threadsCosts(cores: number, micro: MicroFacts, pages: number, log: (s: string) => void) {
  const runs = await threadedRuns(pages, log);
  const none = runs.find((r) => r.mode === 'none')!;
  const uq = micro.uffdQueue,
    line = micro.cacheLine;
  const threads: CostModel = {
    cores,
    faultUs: 0,
    missingWriteUs: 0,
    exitUs: 0,
    reentryUs: 0,
    postUs: micro.port.postUs,
    receiveUs: micro.port.receiveUs,
    syscallUs: 0,
    pollUs: 0,
    readUs: uq.readUs + 256 * uq.scanPerEntryUs,
    wqOpUs: uq.lockHoldUs + uq.enqueueUs,
    lineUs: line.contendedUs,
    lineGrowth: 0,
    walkPerWaiterUs: uq.wakePerEntryUs,
    walkWarmUs: uq.wakePerEntryUs,
    ttwuUs: 0,
    ttwuNextUs: 0,
    wakeupUs: micro.wakeupUs,
    copyUs: micro.pageCopyUs,
    copyPerCopierUs: 0,
    continueUs: micro.pageCopyUs,
    continuePerCopierUs: 0,
    zeropageUs: micro.pageCopyUs / 4,
    uffdWakeUs: 0,
    memcpyUs: micro.pageCopyUs,
    mmapLocksPerUffdFault: 1,
    mmapLockLines: 1,
    mmuLockLines: 0,
    accessUs: 1e6 / none.pagesPerSec,
    spin: true,
  };
  const at1 = (mode: 'exit' | 'uffd') => runs.find((r) => r.vcpus === 1 && r.mode === mode)!;
  const simPages = Math.min(pages, 1024);
  // Each residual by bisection: the predicted time per fault grows with it, with a jump where a
  // fault starts to outlast the other side's spin (so a fixed-point iteration can oscillate).
  const solve = (key: 'faultUs' | 'exitUs', mode: 'exit' | 'uffd') => {
    let lo = 0,
      hi = at1(mode).usPerFault;
    for (let k = 0; k < 14; k++) {
      threads[key] = (lo + hi) / 2;
      if (1e6 / predictPagesPerSec(threads, 1, simPages, mode) < at1(mode).usPerFault) lo = threads[key];
      else hi = threads[key];
    }
    threads[key] = (lo + hi) / 2;
  };
  solve('faultUs', 'uffd');
  solve('exitUs', 'exit');
  const cross = runs
    .filter((r) => r.mode !== 'none')
    .map((r) => {
      const predicted = predictPagesPerSec(threads, r.vcpus, simPages, r.mode as 'exit' | 'uffd');
      return {
        vcpus: r.vcpus,
        mode: r.mode,
        measured: r.pagesPerSec,
        predicted: Math.round(predicted),
        error: r3(predicted / r.pagesPerSec - 1),
        fitted: r.vcpus === 1,
      };
    });
  const sources: Record<string, string> = {
    'threads.faultUs': 'threads: residual of the 1-vCPU uffd simulate() run over the modelled steps (fitted)',
    'threads.exitUs': 'threads: residual of the 1-vCPU exit simulate() run over the modelled steps (fitted)',
    'threads.copyUs/continueUs/memcpyUs': 'micro: Int32Array.set of 4 KiB',
    'threads.readUs/wqOpUs/walkPerWaiterUs': "micro: the threaded engine's UffdQueue with 256 slots (read() scans them all)",
    'threads.lineUs': 'micro: one contended cache-line transfer (Atomics.add between two threads)',
    'threads.mmapLockLines': 'threads: the present-pages counter every install adds to (one shared line)',
    'threads.wakeupUs': 'micro: half an Atomics.wait/notify ping-pong between two threads',
    'threads.accessUs': 'threads: 1-vCPU mode none simulate() run, guest time per access',
    'threads.missingWriteUs': "threads: 0, the threaded engine's fault path allocates nothing before it queues a fault",
  };
  return { threads, runs, cross, sources };
}

/** This host's kernel costs alone (no threaded runs): what the published bench's cross-check predicts with, measured in the same run. */
export async function measureKernelCosts(
  quick = false,
): Promise<{ costs: CostModel; sources: Record<string, string>; facts: Record<string, unknown> } | { skipped: string }> {
  const micro: MicroFacts = {
    cacheLine: await cacheLineUs(),
    wakeupUs: await wakeupUs(),
    pageCopyUs: pageCopyUs(),
    port: messagePortUs(),
    uffdQueue: uffdQueueCosts(),
    syscallUs: syscallUs(),
  };
  const native = await import('../../native/index.js');
  const { measureMechanisms } = await import('../../native/mech.js');
  const mech = measureMechanisms({ runs: quick ? 1 : 3, quick });
  if ('skipped' in mech && mech.skipped) return { skipped: mech.reason };
  const same = native.runNative({ queue: 'single', threads: 1, readers: 1, mibPerThread: quick ? 4 : 16, pin: 'same' });
  const other = native.runNative({ queue: 'single', threads: 1, readers: 1, mibPerThread: quick ? 4 : 16, pin: 'other' });
  if (same.skipped || other.skipped) return { skipped: same.skipped ? same.reason : (other as { reason: string }).reason };
  const k = kernelCosts(
    availableParallelism(),
    mech as Exclude<Mech, { skipped: true }>,
    Math.min(same.firstTouchUsPerPage, other.firstTouchUsPerPage),
    other.faultLatencyUs.p50,
    micro,
  );
  if (!k) return { skipped: 'a mechanism benchmark was skipped' };
  return { costs: k[0], sources: k[1], facts: { mechanisms: mech, same, other } };
}

export async function calibrate(o: CalibrateOptions = {}): Promise<CostProfile> {
  const log = o.log ?? ((s: string) => process.stderr.write(`${s}\n`));
  const pages = o.pagesPerVcpu ?? 2048;
  const cores = availableParallelism();
  log('calibrate: micro-benchmarks');
  const micro: MicroFacts = {
    cacheLine: await cacheLineUs(),
    wakeupUs: await wakeupUs(),
    pageCopyUs: pageCopyUs(),
    port: messagePortUs(),
    uffdQueue: uffdQueueCosts(),
    syscallUs: syscallUs(),
  };
  log('calibrate: threaded engine runs (network none, 1 and 2 vCPUs)');
  const t = await threadsCosts(cores, micro, pages, log);
  let kernel: [CostModel, Record<string, string>] | null = null;
  const kernelFacts: Record<string, unknown> = {};
  if (o.native !== false) {
    log('calibrate: the kernel (native/): mechanisms and the fault baseline');
    const native = await import('../../native/index.js');
    const { measureMechanisms } = await import('../../native/mech.js');
    const mech = measureMechanisms({ runs: o.quick ? 1 : 3, quick: o.quick ?? false });
    const mib = o.quick ? 4 : 16;
    const same = native.runNative({ queue: 'single', threads: 1, readers: 1, mibPerThread: mib, pin: 'same' });
    const other = native.runNative({ queue: 'single', threads: 1, readers: 1, mibPerThread: mib, pin: 'other' });
    const two1 = native.runNative({ queue: 'single', threads: 2, readers: 1, mibPerThread: mib });
    const twoN = native.runNative({ queue: 'single', threads: 2, readers: 2, mibPerThread: mib });
    Object.assign(kernelFacts, { mechanisms: mech, same, other, twoThreadsOneReader: two1, twoThreadsTwoReaders: twoN });
    if ('skipped' in mech && mech.skipped) kernelFacts.skipped = mech.reason;
    else if (same.skipped || other.skipped) kernelFacts.skipped = same.skipped ? same.reason : (other as { reason: string }).reason;
    else
      kernel = kernelCosts(
        cores,
        mech as Exclude<Mech, { skipped: true }>,
        Math.min(same.firstTouchUsPerPage, other.firstTouchUsPerPage),
        other.faultLatencyUs.p50,
        micro,
      );
    if (!kernel && !kernelFacts.skipped) kernelFacts.skipped = 'a mechanism benchmark was skipped (see measured.kernel.mechanisms)';
  }
  const machine = {
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    cores,
    kernel: release(),
    node: process.version,
    platform: process.platform,
    arch: process.arch,
  };
  const round = (m: CostModel): CostModel =>
    Object.fromEntries(Object.entries(m).map(([k, v]) => [k, typeof v === 'number' && k !== 'cores' ? Math.round(v * 10000) / 10000 : v])) as CostModel;
  return {
    $comment: 'written by `postcopy-sim calibrate`; costs in microseconds; `sources` says where each came from',
    date: new Date().toISOString(),
    name: o.name ?? 'this-host',
    coresFromHost: true,
    machine,
    basis: kernel ? 'kernel' : 'threads',
    costs: round(kernel ? kernel[0] : t.threads),
    threads: round(t.threads),
    sources: { ...(kernel ? kernel[1] : {}), ...t.sources },
    measured: { micro, threadsRuns: t.runs, crossThreads: t.cross, kernel: kernelFacts },
  };
}
