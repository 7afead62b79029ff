/**
 * The threaded engine: one run of a migration, phased like demand_paging_test.
 *
 *   resolve options -> allocate shared memory -> start source, fetcher (and uffd handlers)
 *   -> start vCPUs on the piscina pool -> start gun -> sample + watchdog -> join vCPUs
 *   -> wait for the last page -> stop services -> verify on the pool -> report
 *
 *   vCPU 0..n ──memory_fault (MessagePort)──▶ page fetcher ──request──▶ source host
 *        ▲         (exit mode)                     ▲  installPage        │ pages (demand + pushed)
 *        └──── page-state word (Atomics) ◀─────────┴─────────────────────┘
 *   uffd mode: vCPU ──uffd_msg──▶ shared queue (one lock) ──read()──▶ handler ──request──▶ source
 *
 * Any failure (a dead thread, a page that never arrives) aborts every thread through the control
 * block and becomes a SimError that says who waited on what; the run always ends.
 */
import { peakRssBytes } from '../rss.js';
import { performance } from 'node:perf_hooks';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { realClock } from './clock.js';
import { Errors, SimError } from '../errors.js';
import { GuestMemory } from './guest-memory.js';
import { mergeHistograms } from '../model/histogram.js';
import { buildResult } from '../model/run-result.js';
import { sumUffdLockStats } from '../model/stats.js';
import { pushSample } from '../model/timeline.js';
import {
  BELL_FETCHER, BELL_SOURCE, bellWord, CTL_ABORT, CTL_ACTIVE_VCPUS, CTL_BLOCKED_VCPUS, CTL_GO, CTL_MIGRATION_DONE,
  CTL_PRESENT_PAGES, CTL_STOP, CTL_VCPUS_DONE, CTL_VCPUS_STARTED, PAGE_PRESENT, TIME_ALL_BLOCKED_TOTAL_US,
  TIME_GO_US, TIME_MIGRATION_DONE_US, VCPU_STRIDE, TIME_MIGRATION_START_US, TIME_SWITCH_START_US, CTL_PRECOPY, CTL_SWITCHED, CTL_SERVICES_READY, VS_ACCESSES, VS_FAULTS, VS_WAIT_PAGE, VS_WAIT_SINCE_US,
} from './layout.js';
import { log } from '../log.js';
import { resolveOptions, type OptionsInput, type ResolvedOptions } from '../options.js';
import { workerUrl } from './paths.js';
import type { FetcherStats, ServiceReport, ServiceStart, SharedState, SourceStats, VcpuReport, VcpuTask, VerifyReport, VerifyTask } from './protocol.js';
import type { RunResult, TimelineSample } from '../model/result.js';
import { allocateShared, openShared } from './shared.js';
import { Q_BELL } from './uffd-queue.js';
import type { SimulateHooks } from '../hooks.js';
import { EventPublisher, pageMap } from './observe.js';
import { loadTrace } from '../model/trace.js';

export type { Progress, SimulateHooks } from '../hooks.js';

const SAMPLE_MS = 10;

export async function simulate(input: OptionsInput | ResolvedOptions = {}, hooks: SimulateHooks = {}): Promise<RunResult> {
  const opts = 'pageShift' in input ? (input as ResolvedOptions) : resolveOptions(input as OptionsInput);
  if (opts.engine === 'virtual') {
    const { simulateVirtual } = await import('../virtual/engine.js');
    return simulateVirtual(opts, hooks);
  }
  const wallStart = performance.now();
  const traces = opts.workload === 'trace' ? loadTrace(opts.trace!, opts.vcpus) : null;
  const shared = allocateShared(opts, performance.timeOrigin, traces);
  const views = openShared(shared);
  const { ctl, times, vstats, queues } = views;
  const clock = realClock(performance.timeOrigin);
  ctl[CTL_ACTIVE_VCPUS] = opts.vcpus;
  log.debug({ opts: { ...opts, memslots: opts.memslots.length } }, 'run: options resolved, memory allocated');

  if (opts.mode === 'none') prefill(views.mem, views);

  let failure: SimError | null = null;
  const fail = (e: SimError): void => {
    if (failure) return;
    failure = e;
    Atomics.store(ctl, CTL_ABORT, 1);
    wakeEverything(shared, ctl, queues.map((q) => q.w));
  };

  // ---- service threads ----
  const services: Array<{ name: string; worker: Worker; report: Promise<ServiceReport> }> = [];
  const vcpuPorts: MessagePort[] = [];
  const handlerCount = opts.mode !== 'uffd' ? 0 : opts.uffdPerVcpu ? opts.vcpus : opts.handlers;
  const vcpuEnds: Array<MessagePort | null> = [];
  for (let v = 0; v < opts.vcpus; v++) {
    if (opts.mode === 'exit' && opts.exitResolver === 'fetcher') {
      const ch = new MessageChannel();
      vcpuEnds.push(ch.port1);
      vcpuPorts.push(ch.port2);
    } else vcpuEnds.push(null);
  }
  const startService = (name: string, start: ServiceStart, transfer: MessagePort[]): void => {
    const worker = new Worker(workerUrl('service'), { workerData: start, transferList: transfer as never[] });
    const report = new Promise<ServiceReport>((resolve) => {
      let got: ServiceReport | null = null;
      worker.on('message', (r: ServiceReport) => {
        got = r;
        if (r.role === 'error') fail(Errors.workerDied(r.who, r.message.split('\n')[0]!));
      });
      worker.on('error', (e) => fail(Errors.workerDied(name, e.message)));
      worker.on('exit', (code) => {
        if (!got) fail(Errors.workerDied(name, `exited with code ${code} before reporting`));
        resolve(got ?? { role: 'error', who: name, message: `exit ${code}` });
      });
    });
    services.push({ name, worker, report });
  };
  if (opts.mode !== 'none') {
    if (opts.network === 'link') startService('source host', { role: 'source', shared, vcpuPorts: [], uffd: 0, handler: 0 }, []);
    startService('page fetcher', { role: 'fetcher', shared, vcpuPorts, uffd: 0, handler: 0 }, vcpuPorts);
    for (let h = 0; h < handlerCount; h++) {
      startService(`uffd handler ${h}`, { role: 'handler', shared, vcpuPorts: [], uffd: opts.uffdPerVcpu ? h : 0, handler: h }, []);
    }
  }

  // ---- vCPUs ----
  // vCPU threads run niced (piscina's niceIncrement, per thread on Linux): on a machine with fewer
  // cores than threads, the fetcher, source and handlers must get a core when they have work, or a
  // fault waits for a vCPU's timeslice to end (measured: fault records sat 3.5 ms before the fetcher
  // saw them with 2 busy vCPUs on 2 cores).
  const pool = new Piscina({
    filename: workerUrl('vcpu').href, minThreads: opts.vcpus, maxThreads: opts.vcpus, idleTimeout: 60_000, niceIncrement: opts.vcpuNice,
  });
  pool.on('error', (e: Error) => fail(Errors.workerDied('vCPU pool', e.message)));
  const vcpuDone: Array<Promise<VcpuReport | null>> = [];
  for (let v = 0; v < opts.vcpus; v++) {
    const port = vcpuEnds[v]!;
    const task: VcpuTask = { kind: 'vcpu', vcpu: v, shared, port };
    vcpuDone.push(
      (pool.run(task, port ? { transferList: [port] as never[] } : {}) as Promise<VcpuReport>).then(
        (r) => {
          Atomics.add(ctl, CTL_VCPUS_DONE, 1);
          views.sourceBell.ring(); // a demand-only source sweeps the rest once the guest is done
          return r;
        },
        (e: Error) => { fail(Errors.workerDied(`vCPU ${v}`, e.message)); return null; },
      ),
    );
  }

  const timeline: TimelineSample[] = [];
  let sampleEvery = 1;
  let sampleTick = 0;
  let lastPresent = -1;
  let lastPresentChangeUs = clock.nowUs();
  let ticker: NodeJS.Timeout | undefined;
  let lastProgressMs = -Infinity;
  const publisher = hooks.onEvent ? new EventPublisher(opts, shared, hooks.onEvent) : null;
  let lastEventMs = -Infinity;
  const onAbort = () => fail(new SimError('ABORTED', 'the run was stopped'));
  hooks.signal?.addEventListener('abort', onAbort);
  if (hooks.signal?.aborted) onAbort();
  try {
    // Start gun, once every vCPU reached its start line.
    // ...and every service thread is up: a worker takes ~90 ms to load, and without this wait the
    // first fault of every run measured 85-90 ms (~20% of a 16 k-fault exit run's guest time).
    await until(() => (Atomics.load(ctl, CTL_VCPUS_STARTED) === opts.vcpus && Atomics.load(ctl, CTL_SERVICES_READY) === services.length) ||
      failure !== null, 30_000, 'vCPU or service threads did not start');
    times[TIME_MIGRATION_START_US] = clock.nowUs();
    if (opts.strategy === 'hybrid' && opts.mode !== 'none') {
      // Precopy first, while the guest still runs on the source; the guest starts here once the
      // destination has applied the switch (its discards).
      Atomics.store(ctl, CTL_PRECOPY, 1);
      Atomics.notify(ctl, CTL_PRECOPY);
      while (!Atomics.load(ctl, CTL_SWITCHED) && !failure) {
        const r = Atomics.waitAsync(ctl, CTL_SWITCHED, 0, 50);
        if (r.async) await r.value;
      }
      if (failure) throw failure;
    }
    times[TIME_GO_US] = clock.nowUs();
    Atomics.store(ctl, CTL_GO, 1);
    Atomics.notify(ctl, CTL_GO);
    log.debug('run: vCPUs started');
    publisher?.start();

    ticker = setInterval(() => {
      const now = clock.nowUs();
      const tMs = (now - times[TIME_GO_US]!) / 1000;
      let accesses = 0, faults = 0;
      for (let v = 0; v < opts.vcpus; v++) {
        accesses += vstats[v * VCPU_STRIDE + VS_ACCESSES]!;
        faults += vstats[v * VCPU_STRIDE + VS_FAULTS]!;
        // Watchdog: a vCPU blocked on one page for too long fails the run, naming the page.
        const waiting = vstats[v * VCPU_STRIDE + VS_WAIT_PAGE]!;
        const since = vstats[v * VCPU_STRIDE + VS_WAIT_SINCE_US]!;
        if (waiting > 0 && now - since > opts.watchdogUs && vstats[v * VCPU_STRIDE + VS_WAIT_PAGE] === waiting) {
          fail(Errors.pageNeverArrived(v, views.mem.gpaOfPage(waiting - 1), (now - since) / 1000));
        }
      }
      const presentPages = Atomics.load(ctl, CTL_PRESENT_PAGES);
      if (presentPages !== lastPresent) { lastPresent = presentPages; lastPresentChangeUs = now; }
      if (sampleTick++ % sampleEvery === 0) {
        const sample = { tMs: Math.round(tMs * 100) / 100, accesses, faults, presentPages, blockedVcpus: Atomics.load(ctl, CTL_BLOCKED_VCPUS) };
        if (pushSample(timeline, sample)) sampleEvery *= 2; // memory stays bounded on long runs
      }
      if (publisher && tMs - lastEventMs >= (hooks.eventIntervalMs ?? 100)) {
        lastEventMs = tMs;
        publisher.tick(tMs);
      }
      if (hooks.onProgress && tMs - lastProgressMs >= (hooks.progressMs ?? 100)) {
        lastProgressMs = tMs;
        hooks.onProgress({ tMs, presentPages, pages: opts.pages, faults, accesses });
      }
    }, SAMPLE_MS);

    const reports = await Promise.all(vcpuDone);
    const stray = reports.find((r) => r?.noMemslot);
    if (stray) throw new SimError('NO_MEMSLOT', stray.noMemslot!);
    if (failure) throw failure;
    log.debug('run: vCPUs joined');

    // Wait for the last page; the watchdog here is "no page arrived for watchdog time".
    await until(() => {
      if (Atomics.load(ctl, CTL_MIGRATION_DONE) || failure) return true;
      if (clock.nowUs() - lastPresentChangeUs > opts.watchdogUs) {
        const missing = firstMissingPage(views.mem);
        fail(new SimError('PAGE_NEVER_ARRIVED', `migration stalled: no page arrived for ${(opts.watchdogUs / 1000).toFixed(0)} ms; ` +
          `${opts.pages - Atomics.load(ctl, CTL_PRESENT_PAGES)} pages missing, first at gpa 0x${views.mem.gpaOfPage(missing).toString(16)}`));
        return true;
      }
      return false;
    }, Infinity, '');
    if (failure) throw failure;
    clearInterval(ticker);
    ticker = undefined;

    // Stop the services and collect their statistics.
    Atomics.store(ctl, CTL_STOP, 1);
    wakeEverything(shared, ctl, queues.map((q) => q.w));
    const serviceReports = await Promise.all(services.map((s) => s.report));
    if (failure) throw failure;

    // Verify on the pool's threads (the check re-derives every page, so split it).
    const chunks = Math.max(1, Math.min(opts.pages, opts.vcpus * 2));
    const per = Math.ceil(opts.pages / chunks);
    const verifies: Array<Promise<VerifyReport>> = [];
    for (let first = 0; first < opts.pages; first += per) {
      const t: VerifyTask = { kind: 'verify', shared, firstPage: first, endPage: Math.min(opts.pages, first + per) };
      verifies.push(pool.run(t) as Promise<VerifyReport>);
    }
    const verified = await Promise.all(verifies);
    log.debug('run: verified');
    const result = buildThreadsResult(opts, reports as VcpuReport[], serviceReports, verified, views, timeline, performance.now() - wallStart, shared);
    if (publisher) { publisher.tick((clock.nowUs() - times[TIME_GO_US]!) / 1000); hooks.onEvent!({ type: 'end', result }); }
    return result;
  } catch (e) {
    const err = e instanceof SimError ? e : failure ?? e;
    if (hooks.onEvent && err instanceof SimError) hooks.onEvent({ type: 'error', code: err.code, message: err.message });
    throw err;
  } finally {
    hooks.signal?.removeEventListener('abort', onAbort);
    if (ticker) clearInterval(ticker);
    if (!Atomics.load(ctl, CTL_STOP)) {
      Atomics.store(ctl, CTL_ABORT, 1);
      wakeEverything(shared, ctl, queues.map((q) => q.w));
    }
    await Promise.race([Promise.allSettled(services.map((s) => s.report)), sleep(2000)]);
    await Promise.all(services.map((s) => s.worker.terminate()));
    await Promise.allSettled(vcpuDone);
    await pool.destroy();
  }
}

/** The threaded engine's totals, handed to the model's result builder (src/model/run-result.ts). */
function buildThreadsResult(
  opts: ResolvedOptions, reports: VcpuReport[], services: ServiceReport[], verify: VerifyReport[],
  views: ReturnType<typeof openShared>, timeline: TimelineSample[], wallMs: number, shared: SharedState,
): RunResult {
  const { times } = views;
  const source = services.find((s): s is SourceStats => s.role === 'source') ?? null;
  const fetchers = services.filter((s): s is FetcherStats => s.role === 'fetcher' || s.role === 'handler');
  return buildResult({
    engine: 'threads', opts, vcpus: reports, latency: mergeHistograms(reports.map((r) => r.latency)), source, fetchers,
    uffd: sumUffdLockStats(views.queues.map((q) => q.stats())), uffdQueues: views.queues.length,
    proof: {
      pagesNotPresent: verify.reduce((a, r) => a + r.pagesNotPresent, 0),
      pagesWrong: verify.reduce((a, r) => a + r.pagesWrong, 0),
      firstProblem: verify.find((r) => r.firstProblem)?.firstProblem ?? null,
    },
    blocktimeUs: times[TIME_ALL_BLOCKED_TOTAL_US]!,
    migrationStartUs: times[TIME_MIGRATION_START_US]!, migrationDoneUs: times[TIME_MIGRATION_DONE_US]!,
    switchStartUs: times[TIME_SWITCH_START_US]!, goUs: times[TIME_GO_US]!,
    timeline, pageMap: pageMap(opts, shared), wallMs, peakRssBytes: peakRssBytes(),
  });
}

/** No postcopy: the whole image is on the destination before the guest starts (the bench's ceiling). */
function prefill(mem: GuestMemory, views: ReturnType<typeof openShared>): void {
  const { image, ctl, times } = views;
  for (let page = 0; page < mem.pages; page++) {
    const slot = mem.slotOfPage(page);
    image.fillPage(page, mem.slotWords[slot]!, mem.pageWordBase(page, slot));
    mem.pageState[page] = PAGE_PRESENT;
  }
  ctl[CTL_PRESENT_PAGES] = mem.pages;
  ctl[CTL_MIGRATION_DONE] = 1;
  times[TIME_MIGRATION_DONE_US] = 0;
}

function firstMissingPage(mem: GuestMemory): number {
  for (let p = 0; p < mem.pages; p++) if (!mem.isPresent(p)) return p;
  return 0;
}

/** Wakes every thread that may sleep: service doorbells, handler bells, the start gun, page waits. */
function wakeEverything(_shared: unknown, ctl: Int32Array, queueWords: Int32Array[]): void {
  for (const b of [BELL_FETCHER, BELL_SOURCE]) {
    Atomics.add(ctl, bellWord(b), 1);
    Atomics.notify(ctl, bellWord(b));
  }
  for (const w of queueWords) { Atomics.add(w, Q_BELL, 1); Atomics.notify(w, Q_BELL); }
  Atomics.notify(ctl, CTL_GO);
}


function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms).unref());
}

/** Polls `cond` every few ms (the main thread must stay free to serve worker events). */
async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > timeoutMs) throw new SimError('WORKER_DIED', what);
    await sleep(2);
  }
}
