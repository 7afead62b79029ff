/**
 * `postcopy-sim calibrate`: measures the virtual engine's costs on this host and writes a cost
 * profile (src/virtual/costs.ts). Three sources, each cost naming the one it came from:
 *
 *   micro      primitives timed here: a contended cache line between two threads (Atomics.add),
 *              a futex wake (Atomics.wait/notify ping-pong), a 4 KiB copy, a MessagePort record,
 *              the threaded engine's own UffdQueue operations (enqueue, read() scan, wake walk)
 *   threads    simulate() at 1 and 2 vCPUs, network none, exit and uffd: the threaded engine's
 *              per-fault cost. The two costs no micro-benchmark isolates (the vCPU's own fault path
 *              overhead, exit and uffd) are the 1-vCPU residuals; the 2-vCPU runs are predicted,
 *              not fitted, and reported with their error.
 *   kernel     native/ (real userfaultfd, when cc and userfaultfd are available): the fault
 *              round trip with the handler on the same and on the other core, the time inside
 *              UFFDIO_COPY, an ordinary first-touch fault, and 2 threads on one uffd.
 *
 * The 'kernel' profile (the default when the native run worked) predicts the kernel and the
 * published tables; the 'threads' profile (also in the file) predicts the threaded engine.
 */
import { writeFileSync, fstatSync } from 'node:fs';
import { availableParallelism, cpus, release } from 'node:os';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { resolveOptions, type OptionsInput } from '../options.js';
import { encode, type MemoryFaultRecord } from '../threads/protocol.js';
import { UffdQueue, uffdQueueBytes } from '../threads/uffd-queue.js';
import type { CostModel, CostProfile } from './costs.js';
import { runVirtual } from './engine.js';

export interface CalibrateOptions {
  /** Pages each vCPU touches in the simulate() runs. @default 2048 */
  pagesPerVcpu?: number;
  /** Run the native kernel baseline. @default true */
  native?: boolean;
  log?: (line: string) => void;
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]!; };

// ---- micro-benchmarks ------------------------------------------------------------------------

/** Runs `body` (a function source taking (sab, id)) in `n` workers at once; resolves with their results. */
async function inWorkers(n: number, body: string, sab: SharedArrayBuffer): Promise<number[]> {
  const code = `const { workerData, parentPort } = require('node:worker_threads');
    const f = ${body};
    parentPort.postMessage(f(workerData.sab, workerData.id));`;
  const ws = Array.from({ length: n }, (_, id) => new Worker(code, { eval: true, workerData: { sab, id } }));
  return Promise.all(ws.map((w) => new Promise<number>((resolve, reject) => {
    w.once('message', (m: number) => { resolve(m); void w.terminate(); });
    w.once('error', reject);
  })));
}

/** A cache line two cores fight over: per Atomics.add, when both add at once, minus the uncontended add. */
async function cacheLineUs(): Promise<{ contendedUs: number; uncontendedUs: number }> {
  const body = `(sab, id) => {
    const a = new Int32Array(sab); const N = 2000000;
    Atomics.add(a, 1, 1); while (Atomics.load(a, 1) < 2) {}
    const t0 = performance.now(); for (let i = 0; i < N; i++) Atomics.add(a, 0, 1); return (performance.now() - t0) * 1000 / N; }`;
  const runs: number[] = [];
  for (let k = 0; k < 3; k++) runs.push(...await inWorkers(2, body, new SharedArrayBuffer(64)));
  const solo = new Int32Array(new SharedArrayBuffer(64));
  const N = 2_000_000;
  const t0 = performance.now();
  for (let i = 0; i < N; i++) Atomics.add(solo, 0, 1);
  const uncontendedUs = ((performance.now() - t0) * 1000) / N;
  return { contendedUs: Math.max(0.001, median(runs) - uncontendedUs), uncontendedUs };
}

/** A futex wake until the woken thread runs: half an Atomics.wait/notify ping-pong round trip. */
async function wakeupUs(): Promise<number> {
  const body = `(sab, id) => {
    const a = new Int32Array(sab); const N = 3000; const me = id, other = 1 - id;
    const t0 = performance.now();
    for (let i = 0; i < N; i++) {
      if (id === 0) { Atomics.store(a, 1, 1); Atomics.notify(a, 1); Atomics.wait(a, 0, 0); Atomics.store(a, 0, 0); }
      else { Atomics.wait(a, 1, 0); Atomics.store(a, 1, 0); Atomics.store(a, 0, 1); Atomics.notify(a, 0); }
    }
    return (performance.now() - t0) * 1000 / N / 2; }`;
  const r = await inWorkers(2, body, new SharedArrayBuffer(64));
  return r[0]!;
}

function timeUs(n: number, f: () => void): number {
  for (let i = 0; i < Math.min(n, 1000); i++) f();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) f();
  return ((performance.now() - t0) * 1000) / n;
}

function pageCopyUs(): number {
  const src = new Int32Array(1024).map((_, i) => i), dst = new Int32Array(1024 * 64);
  let k = 0;
  return timeUs(200_000, () => { dst.set(src, (k++ & 63) * 1024); });
}

/** The exit path's message: one memory_fault record posted and received on a MessagePort (post, receive). */
function messagePortUs(): { postUs: number; receiveUs: number } {
  const { port1, port2 } = new MessageChannel();
  const rec: MemoryFaultRecord = [0, 0, 2, 4096, 4096, 1, 39]; // exit_reason KVM_EXIT_MEMORY_FAULT
  const N = 20_000;
  const t0 = performance.now();
  for (let i = 0; i < N; i++) port1.postMessage(encode(rec));
  const t1 = performance.now();
  for (let i = 0; i < N; i++) receiveMessageOnPort(port2);
  const t2 = performance.now();
  port1.close();
  return { postUs: ((t1 - t0) * 1000) / N, receiveUs: ((t2 - t1) * 1000) / N };
}

/** The threaded engine's own uffd queue: enqueue, read() scan per slot, wake walk per entry, lock. */
function uffdQueueCosts(): { lockHoldUs: number; enqueueUs: number; scanPerEntryUs: number; wakePerEntryUs: number; readUs: number } {
  const V = 256;
  const q = new UffdQueue(new SharedArrayBuffer(uffdQueueBytes(V)), V, 20, () => performance.now() * 1000);
  const lockHoldUs = timeUs(200_000, () => { q.lock(); q.unlock(); });
  const pairUs = timeUs(100_000, () => { q.enqueueFault(0, 1, 0, 4096); q.cancel(0); });
  const out = new Int32Array(8);
  const readUs = timeUs(50_000, () => { q.enqueueFault(0, 1, 0, 4096); q.read(out, 0); q.cancel(0); }) - pairUs;
  // read() scans all V slots: its cost over an uncontended lock, per slot
  const scanPerEntryUs = Math.max(0, readUs - lockHoldUs) / V;
  for (let v = 1; v < V; v++) q.enqueueFault(v, 1000 + v, 0, 4096);
  const wakeFullUs = timeUs(20_000, () => { q.wake(5); });
  const wakePerEntryUs = Math.max(0, wakeFullUs - lockHoldUs) / (V - 1);
  return { lockHoldUs, enqueueUs: Math.max(0, pairUs / 2 - lockHoldUs), scanPerEntryUs, wakePerEntryUs, readUs: Math.max(0, readUs - lockHoldUs - scanPerEntryUs * V) };
}

/** One kernel crossing through Node (fstat(0)): a lower bound of a syscall round trip. */
function syscallUs(): number {
  return timeUs(50_000, () => { fstatSync(0); });
}

// ---- the threaded engine's per-fault costs ----------------------------------------------------

function pagingOptions(vcpus: number, pages: number, mode: 'exit' | 'uffd' | 'none'): OptionsInput {
  return { vcpus, memory: vcpus * pages * 4096, pageSize: 4096, workload: 'sequential', partition: true, accesses: pages, writeRatio: 0, network: 'none', mode, handlers: 1, seed: 1 };
}

export interface ThreadsRun { vcpus: number; mode: 'exit' | 'uffd' | 'none'; pagesPerSec: number; usPerFault: number }

async function threadedRuns(pages: number, log: (s: string) => void): Promise<ThreadsRun[]> {
  const { simulate } = await import('../simulate.js');
  const out: ThreadsRun[] = [];
  for (const [vcpus, mode] of [[1, 'none'], [1, 'exit'], [1, 'uffd'], [2, 'exit'], [2, 'uffd']] as const) {
    const r = await simulate(resolveOptions(pagingOptions(vcpus, pages, mode)));
    const pagesPerSec = (vcpus * pages) / (r.guestMs / 1000);
    out.push({ vcpus, mode, pagesPerSec: Math.round(pagesPerSec), usPerFault: r3(1e6 / pagesPerSec) });
    log(`calibrate: threads ${mode} x${vcpus}: ${Math.round(pagesPerSec)} pages/s`);
  }
  return out;
}

/** The virtual engine's rate for the same experiment under `costs`. */
export function predictPagesPerSec(costs: CostModel, vcpus: number, pages: number, mode: 'exit' | 'uffd', extra: Record<string, unknown> = {}): number {
  const o = resolveOptions({ ...pagingOptions(vcpus, pages, mode), ...(extra.handlers !== undefined ? { handlers: extra.handlers as number } : {}),
    ...(extra.uffdPerVcpu ? { uffdPerVcpu: true } : {}) });
  const r = runVirtual({ ...o, ...(extra.exitResolver ? { exitResolver: extra.exitResolver as 'vcpu' } : {}) }, costs);
  return (vcpus * pages) / (r.guestMs / 1000);
}

// ---- the profile --------------------------------------------------------------------------------

export async function calibrate(o: CalibrateOptions = {}): Promise<CostProfile> {
  const log = o.log ?? ((s: string) => process.stderr.write(`${s}\n`));
  const pages = o.pagesPerVcpu ?? 2048;
  const cores = availableParallelism();
  log('calibrate: micro-benchmarks');
  const line = await cacheLineUs();
  const wake = await wakeupUs();
  const copy = pageCopyUs();
  const port = messagePortUs();
  const uq = uffdQueueCosts();
  const sys = syscallUs();
  const micro = { cacheLine: line, wakeupUs: wake, pageCopyUs: copy, messagePort: port, uffdQueue: uq, syscallUs: sys };

  log('calibrate: threaded engine runs (network none, 1 and 2 vCPUs)');
  const runs = await threadedRuns(pages, log);
  const none = runs.find((r) => r.mode === 'none')!;
  const threads: CostModel = {
    cores, faultUs: 0, exitUs: 0, postUs: port.postUs, receiveUs: port.receiveUs, enqueueUs: uq.enqueueUs, readUs: uq.readUs,
    scanPerEntryUs: uq.scanPerEntryUs, copyUs: copy, installUs: copy, wakePerEntryUs: uq.wakePerEntryUs, lockHoldUs: uq.lockHoldUs,
    lockHandoverUs: line.contendedUs, mmHoldUs: line.contendedUs, wakeupUs: wake, accessUs: 1e6 / none.pagesPerSec, spin: true,
  };
  // The two residuals: the vCPU's own fault-path overhead in each mode at 1 vCPU.
  const at1 = (mode: 'exit' | 'uffd') => runs.find((r) => r.vcpus === 1 && r.mode === mode)!;
  const simPages = Math.min(pages, 1024);
  // Spinning makes the response non-linear (a longer fault outlasts the other side's spin), so
  // iterate the two residuals to a fixed point (a few rounds).
  for (let k = 0; k < 4; k++) {
    threads.faultUs = Math.max(0, threads.faultUs + at1('uffd').usPerFault - 1e6 / predictPagesPerSec(threads, 1, simPages, 'uffd'));
    threads.exitUs = Math.max(0, threads.exitUs + at1('exit').usPerFault - 1e6 / predictPagesPerSec(threads, 1, simPages, 'exit'));
  }
  const crossThreads = runs.filter((r) => r.mode !== 'none').map((r) => {
    const predicted = predictPagesPerSec(threads, r.vcpus, simPages, r.mode as 'exit' | 'uffd');
    return { vcpus: r.vcpus, mode: r.mode, measured: r.pagesPerSec, predicted: Math.round(predicted), error: r3(predicted / r.pagesPerSec - 1), fitted: r.vcpus === 1 };
  });

  let kernel: CostModel | null = null;
  const kernelFacts: Record<string, unknown> = {};
  const sources: Record<string, string> = {};
  if (o.native !== false) {
    log('calibrate: kernel baseline (native/)');
    let native: typeof import('../../native/index.js') | null = null;
    try { native = await import('../../native/index.js'); } catch (e) { kernelFacts.skipped = `native/ not loadable: ${(e as Error).message}`; }
    if (native) {
      const same = native.runNative({ queue: 'single', threads: 1, readers: 1, mibPerThread: 16, pin: 'same' });
      const other = native.runNative({ queue: 'single', threads: 1, readers: 1, mibPerThread: 16, pin: 'other' });
      const two1 = native.runNative({ queue: 'single', threads: 2, readers: 1, mibPerThread: 16 });
      const twoN = native.runNative({ queue: 'single', threads: 2, readers: 2, mibPerThread: 16 });
      Object.assign(kernelFacts, { same, other, twoThreadsOneReader: two1, twoThreadsTwoReaders: twoN });
      if (!same.skipped && !other.skipped) {
        const copyUs = other.copyNsMean / 1000;
        const firstTouch = Math.min(same.firstTouchUsPerPage, other.firstTouchUsPerPage);
        const faultUs = Math.max(sys, firstTouch - copyUs);
        const readUs = sys;
        const wakeupUs = Math.max(sys, (other.faultLatencyUs.p50 - faultUs - copyUs - readUs) / 2);
        kernel = {
          cores, faultUs, exitUs: 2 * sys, postUs: port.postUs, receiveUs: port.receiveUs, enqueueUs: line.contendedUs, readUs,
          scanPerEntryUs: 0, copyUs, installUs: copyUs, wakePerEntryUs: line.contendedUs, lockHoldUs: line.contendedUs,
          lockHandoverUs: line.contendedUs, mmHoldUs: 4 * line.contendedUs, wakeupUs, accessUs: line.uncontendedUs, spin: false,
        };
        const predictKernel = (threadsN: number, readers: number) => predictPagesPerSec(kernel!, threadsN, 1024, 'uffd', { handlers: readers });
        kernelFacts.cross = [
          { run: '1 thread, 1 reader (pin other)', measured: other.pagesPerSec, predicted: Math.round(predictKernel(1, 1)) },
          ...(!two1.skipped ? [{ run: '2 threads, 1 reader', measured: two1.pagesPerSec, predicted: Math.round(predictKernel(2, 1)) }] : []),
          ...(!twoN.skipped ? [{ run: '2 threads, 2 readers', measured: twoN.pagesPerSec, predicted: Math.round(predictKernel(2, 2)) }] : []),
        ].map((x) => ({ ...x, error: r3(x.predicted / x.measured - 1) }));
        Object.assign(sources, {
          cores: 'os.availableParallelism() of this host (the published bench overrides: 256)',
          faultUs: 'kernel: min(first-touch fault per page, pin same/other) - UFFDIO_COPY time (the trap and return without the allocate-and-fill), at least one syscall',
          exitUs: 'kernel: no /dev/kvm on this host; return to userspace + KVM_RUN re-entry taken as two kernel crossings (fstat(0) through Node, a lower bound)',
          postUs: 'micro: MessagePort post of one encoded memory_fault record (unused by the selftest exit path, which resolves in the vCPU)',
          receiveUs: 'micro: receiveMessageOnPort of one record',
          enqueueUs: 'micro: one contended cache-line transfer (Atomics.add between two threads): adding an entry writes the queue head line',
          readUs: 'kernel: one kernel crossing (fstat(0) through Node)',
          scanPerEntryUs: 'kernel: 0, read() takes the oldest message with list_last_entry, O(1)',
          copyUs: 'kernel: native/ mean time inside UFFDIO_COPY, handler on the other core',
          installUs: 'kernel: = copyUs (the install is a UFFDIO_COPY)',
          wakePerEntryUs: 'micro: one contended cache-line transfer per entry (each wait-queue entry was last written by its faulting CPU)',
          lockHoldUs: 'micro: one contended cache-line transfer',
          lockHandoverUs: 'micro: one contended cache-line transfer (the lock word moves to the next spinner)',
          mmHoldUs: 'micro: 4 contended cache-line transfers: mmap_lock read acquire + release and kvm->mmu_lock read acquire + release, all on mm-wide lines',
          wakeupUs: 'kernel: (round trip p50, handler on the other core - faultUs - copyUs - readUs) / 2: two wake-ups per uffd round trip',
          accessUs: 'micro: an uncontended Atomics.add (a guest store to a present page)',
          spin: 'kernel: false, handle_userfault and poll() sleep at once',
        });
      }
    }
  }
  const threadSources: Record<string, string> = {
    'threads.faultUs': 'threads: residual of the 1-vCPU uffd simulate() run over the modelled steps',
    'threads.exitUs': 'threads: residual of the 1-vCPU exit simulate() run over the modelled steps',
    'threads.copyUs/installUs': 'micro: Int32Array.set of 4 KiB',
    'threads.enqueueUs/readUs/scanPerEntryUs/wakePerEntryUs/lockHoldUs': 'micro: the threaded engine\'s UffdQueue with 256 slots',
    'threads.lockHandoverUs/mmHoldUs': 'micro: one contended cache-line transfer (mmHoldUs: the present-pages counter every install adds to)',
    'threads.wakeupUs': 'micro: half an Atomics.wait/notify ping-pong between two threads',
    'threads.accessUs': 'threads: 1-vCPU mode none simulate() run, guest time per access',
  };
  const machine = { cpuModel: cpus()[0]?.model.trim() ?? 'unknown', cores, kernel: release(), node: process.version, platform: process.platform, arch: process.arch };
  const round = (m: CostModel): CostModel => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, typeof v === 'number' && k !== 'cores' ? Math.round(v * 10000) / 10000 : v])) as CostModel;
  return {
    $comment: 'written by `postcopy-sim calibrate`; costs in microseconds; `sources` says where each came from',
    date: new Date().toISOString(),
    machine,
    basis: kernel ? 'kernel' : 'threads',
    costs: round(kernel ?? threads),
    threads: round(threads),
    sources: { ...(kernel ? sources : {}), ...threadSources },
    measured: { micro, threadsRuns: runs, crossThreads, kernel: kernelFacts },
  };
}

export function writeProfile(file: string, p: CostProfile): void {
  writeFileSync(file, `${JSON.stringify(p, null, 2)}\n`);
}
