/**
 * The threaded engine: one run of a migration on real threads, phased like demand_paging_test.
 *
 *   allocate shared memory -> start source, fetcher (and uffd handlers) -> start vCPUs on the piscina
 *   pool -> start gun -> sample + watchdog (monitor.ts) -> join vCPUs -> wait for the last page ->
 *   stop services -> verify on the pool -> report (the model's result builder)
 *
 *   vCPU 0..n ──memory_fault (MessagePort)──▶ page fetcher ──request──▶ source host
 *        ▲         (exit mode)                     ▲  installPage        │ pages (demand + pushed)
 *        └──── page-state word (Atomics) ◀─────────┴─────────────────────┘
 *   uffd mode: vCPU ──uffd_msg──▶ shared queue (one lock) ──read()──▶ handler ──request──▶ source
 *
 * Any failure (a dead thread, a page that never arrives) aborts every thread through the control
 * block and becomes a SimError that says who waited on what; the run always ends.
 */
import { performance } from 'node:perf_hooks';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { availableMemoryBytes, freeEarlierRuns, noteRunAllocation } from '../rss.js';
import { realClock, type Clock } from './clock.js';
import { planDilation, type PlannedDilation } from './dilation.js';
import { formatBytes, formatRate } from '../units.js';
import { Errors, SimError } from '../errors.js';
import { handlerCount, uffdOfHandler } from '../model/memslots.js';
import { noDilation } from '../model/run-result.js';
import { hasPreemptThread } from '../model/delivery.js';
import { createStrategy } from '../model/strategies/index.js';
import {
  BELL_FETCHER,
  BELL_PREEMPT,
  BELL_SOURCE,
  bellWord,
  CTL_ABORT,
  CTL_ACTIVE_VCPUS,
  CTL_GO,
  CTL_PRECOPY,
  CTL_SERVICES_READY,
  CTL_STOP,
  CTL_SWITCHED,
  CTL_VCPUS_DONE,
  CTL_VCPUS_STARTED,
  TIME_GO_US,
  TIME_MIGRATION_START_US,
} from './layout.js';
import { log } from '../log.js';
import type { ResolvedOptions } from '../options.js';
import { workerUrl } from './paths.js';
import type { SharedState, VcpuReport, VcpuTask, VerifyReport, VerifyTask } from './protocol.js';
import type { RunResult } from '../model/result.js';
import { allocateShared, bulkWireLayout, openShared } from './shared.js';
import { MAX_PAGE_WIRE_BYTES, wireBytes } from './wire.js';
import { Q_BELL } from './uffd-queue.js';
import type { SimulateHooks } from '../hooks.js';
import { buildThreadsResult, prefill } from './results.js';
import { loadTrace, prepareTrace } from '../trace/replay.js';
import { Monitor } from './monitor.js';
import { ServiceThreads, WORKER_HEAP } from './services.js';
import { until } from './wait.js';
import { strategyTraits } from '../model/strategies/index.js';
import { warmUpOptions } from './pipeline-probe.js';
import { WARM_UP_MAX_DILATION } from './warm-up.js';

export async function runThreads(options: ResolvedOptions, hooks: SimulateHooks = {}): Promise<RunResult> {
  const opts = await prepareTrace(options);
  checkHostFits(opts);
  const planned = await planDilation(opts, (probe, factor) =>
    prepareTrace(probe).then((prepared) => runPlanned(prepared, {}, { plan: { factor, accessUs: 0 }, report: { ...noDilation(), factor } })),
  );
  hooks.onPlan?.(planned.report);
  return runPlanned(opts, hooks, planned);
}

/**
 * Every byte of a threaded run's guest memory is real: a guest that cannot fit is refused before
 * anything is allocated, naming the engine that can run it, rather than grown until the kernel kills
 * the process.
 */
function checkHostFits(opts: ResolvedOptions): void {
  freeEarlierRuns();
  // The bulk wire ring holds what is in flight (latency x bandwidth) in one WebAssembly.Memory, which
  // has a fixed maximum: a longer link is refused here, naming latency, not by a RangeError at allocation.
  const wire = opts.mode !== 'none' && opts.network === 'link' ? wireBytes(bulkWireLayout(opts)) : 0;
  if (wire > MAX_PAGE_WIRE_BYTES) {
    throw Errors.badInput(
      'latency',
      `${+(opts.latencyUs / 1000).toFixed(3)}ms at ${formatRate(opts.bandwidthBps)} needs a ${formatBytes(wire)} wire ring (send buffer and what is in flight) ` +
        `and the threaded engine's holds at most ${formatBytes(MAX_PAGE_WIRE_BYTES)} (lower --latency or --bandwidth, or use --engine virtual)`,
    );
  }
  const perPage = 10 + (opts.writeRatio > 0 ? opts.vcpus : 0); // page tables, arrival map, write counts
  const needBytes = opts.memoryBytes + opts.pages * perPage + wire + RUNTIME_RESERVE_BYTES;
  const available = availableMemoryBytes();
  if (needBytes > available) {
    throw Errors.badInput(
      'memory',
      `a ${formatBytes(opts.memoryBytes)} guest needs ${formatBytes(needBytes)} of host memory and ` +
        `${formatBytes(available)} is available; the threaded engine holds every guest byte (use --engine virtual, which keeps page versions instead)`,
    );
  }
}
/** Memory a threaded run needs beside guest memory and its tables: the runtime, its threads, the wire rings. */
const RUNTIME_RESERVE_BYTES = 256 * 1024 * 1024;

async function runPlanned(opts: ResolvedOptions, hooks: SimulateHooks, planned: PlannedDilation): Promise<RunResult> {
  freeEarlierRuns(); // the probes' memory, and this run's peak RSS from here
  const run = new ThreadedRun(opts, hooks, planned);
  noteRunAllocation(opts.memoryBytes); // its guest's SharedArrayBuffer: the next run collects it
  const onAbort = () => run.fail(new SimError('ABORTED', 'the run was stopped'));
  hooks.signal?.addEventListener('abort', onAbort);
  if (hooks.signal?.aborted) onAbort();
  try {
    return await run.run();
  } catch (e) {
    const err = e instanceof SimError ? e : (run.failure ?? e);
    if (hooks.onEvent && err instanceof SimError) hooks.onEvent({ type: 'error', code: err.code, message: err.message });
    throw err;
  } finally {
    hooks.signal?.removeEventListener('abort', onAbort);
    await run.teardown();
  }
}

class ThreadedRun {
  readonly wallStart = performance.now();
  readonly shared: SharedState;
  readonly views: ReturnType<typeof openShared>;
  readonly clock: Clock;
  failure: SimError | null = null;
  readonly services: ServiceThreads;
  private pool: Piscina | null = null;
  private vcpuDone: Array<Promise<VcpuReport | null>> = [];
  private monitor: Monitor | null = null;

  constructor(
    readonly opts: ResolvedOptions,
    readonly hooks: SimulateHooks,
    readonly planned: PlannedDilation,
  ) {
    const traces = opts.workload === 'trace' ? loadTrace(opts) : null;
    this.clock = realClock(performance.timeOrigin, planned.plan.factor);
    this.shared = allocateShared(opts, performance.timeOrigin, planned.plan, traces, hooks.linkCuts !== undefined);
    this.views = openShared(this.shared);
    this.views.ctl[CTL_ACTIVE_VCPUS] = opts.vcpus;
    this.services = new ServiceThreads((e) => this.fail(e));
    log.debug({ opts: { ...opts, memslots: opts.memslots.length } }, 'run: options resolved, memory allocated');
    if (opts.mode === 'none') prefill(this.views.mem, this.views);
  }

  /** Any failure aborts every thread at once; the first one is what the run reports. */
  fail(e: SimError): void {
    if (this.failure) return;
    this.failure = e;
    Atomics.store(this.views.ctl, CTL_ABORT, 1);
    this.wakeEverything();
  }

  async run(): Promise<RunResult> {
    const { opts, views } = this;
    const { ctl, times } = views;
    const vcpuPorts = this.startServices();
    this.startVcpus(vcpuPorts);
    // Start gun, once every vCPU reached its start line and every service thread is up: a worker
    // takes ~90 ms to load, and without this wait the first fault of every run measured 85-90 ms.
    // The vCPUs map guest memory first (~3 s per GiB on one core of this VM), so the wait grows with it.
    await until(
      () => (Atomics.load(ctl, CTL_VCPUS_STARTED) === opts.vcpus && Atomics.load(ctl, CTL_SERVICES_READY) === this.services.count) || this.failure !== null,
      30_000 + 10_000 * (opts.memoryBytes / 2 ** 30),
      'vCPU or service threads did not start',
    );
    times[TIME_MIGRATION_START_US] = this.clock.nowUs();
    if (strategyTraits(opts.strategy).precopy && opts.mode !== 'none') await this.precopy();
    times[TIME_GO_US] = this.clock.nowUs();
    Atomics.store(ctl, CTL_GO, 1);
    Atomics.notify(ctl, CTL_GO);
    log.debug('run: vCPUs started');
    this.monitor = new Monitor(opts, this.shared, views, this.clock, this.hooks, (e) => this.fail(e));
    const reports = await Promise.all(this.vcpuDone);
    const stray = reports.find((r) => r?.noMemslot);
    if (stray) throw new SimError('NO_MEMSLOT', stray.noMemslot!);
    if (this.failure) throw this.failure;
    log.debug('run: vCPUs joined');
    await this.monitor.awaitMigrationDone(() => this.failure !== null);
    if (this.failure) throw this.failure;
    this.monitor.stop();
    Atomics.store(ctl, CTL_STOP, 1);
    this.wakeEverything();
    const serviceReports = await this.services.reports();
    if (this.failure) throw this.failure;
    const verified = await this.verify();
    const result = buildThreadsResult(
      opts,
      reports as VcpuReport[],
      serviceReports,
      verified,
      views,
      this.monitor.timeline,
      performance.now() - this.wallStart,
      this.shared,
      this.planned,
    );
    this.monitor.finish(result);
    return result;
  }

  /** Starts the source, the fetcher and the uffd handlers; returns the vCPUs' ends of the fault ports. */
  private startServices(): Array<MessagePort | null> {
    const { opts, shared } = this;
    const vcpuEnds: Array<MessagePort | null> = [];
    const fetcherEnds: MessagePort[] = [];
    for (let v = 0; v < opts.vcpus; v++) {
      if (opts.mode === 'exit' && opts.exitResolver === 'fetcher') {
        const ch = new MessageChannel();
        vcpuEnds.push(ch.port1);
        fetcherEnds.push(ch.port2);
      } else vcpuEnds.push(null);
    }
    if (opts.mode === 'none') return vcpuEnds;
    // The two ends of the bulk stream warm the pipeline's code before they report ready, where the
    // run is dilated so little that its cold start would show in modelled time (warm-up.ts).
    const warmUp = opts.network === 'link' && this.planned.plan.factor < WARM_UP_MAX_DILATION ? warmUpOptions(opts) : undefined;
    if (opts.network === 'link') this.services.start('source host', { role: 'source', shared, vcpuPorts: [], uffd: 0, handler: 0, warmUp }, []);
    this.services.start('page fetcher', { role: 'fetcher', shared, vcpuPorts: fetcherEnds, uffd: 0, handler: 0, warmUp }, fetcherEnds);
    if (hasPreemptThread(opts, createStrategy(opts.strategy, { pages: opts.pages, vcpus: opts.vcpus, precopyRounds: opts.precopyRounds }).urgentChannel)) {
      this.services.start('preempt thread', { role: 'preempt', shared, vcpuPorts: [], uffd: 0, handler: 0 }, []);
    }
    for (let h = 0; h < handlerCount(opts); h++) {
      this.services.start(`uffd handler ${h}`, { role: 'handler', shared, vcpuPorts: [], uffd: uffdOfHandler(opts, h), handler: h }, []);
    }
    return vcpuEnds;
  }

  /**
   * vCPU threads run niced (piscina's niceIncrement, per thread on Linux): on a machine with fewer
   * cores than threads, the fetcher, source and handlers must get a core when they have work, or a
   * fault waits for a vCPU's timeslice to end (measured: fault records sat 3.5 ms before the fetcher
   * saw them with 2 busy vCPUs on 2 cores).
   */
  private startVcpus(ports: Array<MessagePort | null>): void {
    const { opts, shared, views } = this;
    const pool = new Piscina({
      filename: workerUrl('vcpu').href,
      minThreads: opts.vcpus,
      maxThreads: opts.vcpus,
      idleTimeout: 60_000,
      resourceLimits: WORKER_HEAP,
      // Dilated, the vCPUs are paced and sleep most of the time: they need no handicap against the services.
      niceIncrement: this.planned.plan.factor > 1 ? 0 : opts.vcpuNice,
    });
    this.pool = pool;
    pool.on('error', (e: Error) => this.fail(Errors.workerDied('vCPU pool', e.message)));
    for (let v = 0; v < opts.vcpus; v++) {
      const port = ports[v]!;
      const task: VcpuTask = { kind: 'vcpu', vcpu: v, shared, port };
      this.vcpuDone.push(
        (pool.run(task, port ? { transferList: [port] as never[] } : {}) as Promise<VcpuReport>).then(
          (r) => {
            Atomics.add(views.ctl, CTL_VCPUS_DONE, 1);
            views.sourceBell.ring(); // a demand-only source sweeps the rest once the guest is done
            return r;
          },
          (e: Error) => {
            this.fail(Errors.workerDied(`vCPU ${v}`, e.message));
            return null;
          },
        ),
      );
    }
  }

  /** hybrid: precopy first, while the guest still runs on the source; it starts here once the destination applied the switch. */
  private async precopy(): Promise<void> {
    const ctl = this.views.ctl;
    Atomics.store(ctl, CTL_PRECOPY, 1);
    Atomics.notify(ctl, CTL_PRECOPY);
    while (!Atomics.load(ctl, CTL_SWITCHED) && !this.failure) {
      const r = Atomics.waitAsync(ctl, CTL_SWITCHED, 0, 50);
      if (r.async) await r.value;
    }
    if (this.failure) throw this.failure;
  }

  /** The end-of-run proof on the pool's threads (it re-derives every page, so it is split). */
  private async verify(): Promise<VerifyReport[]> {
    const { opts, shared } = this;
    const chunks = Math.max(1, Math.min(opts.pages, opts.vcpus * 2));
    const per = Math.ceil(opts.pages / chunks);
    const verifies: Array<Promise<VerifyReport>> = [];
    for (let first = 0; first < opts.pages; first += per) {
      const t: VerifyTask = { kind: 'verify', shared, firstPage: first, endPage: Math.min(opts.pages, first + per) };
      verifies.push(this.pool!.run(t) as Promise<VerifyReport>);
    }
    const verified = await Promise.all(verifies);
    log.debug('run: verified');
    return verified;
  }

  /** Every thread ends, whatever happened: abort the rest, join, terminate. */
  async teardown(): Promise<void> {
    this.monitor?.stop();
    if (!Atomics.load(this.views.ctl, CTL_STOP)) {
      Atomics.store(this.views.ctl, CTL_ABORT, 1);
      this.wakeEverything();
    }
    await this.services.terminate();
    await Promise.allSettled(this.vcpuDone);
    await this.pool?.destroy();
  }

  /** Wakes every thread that may sleep: service doorbells, handler bells, the start gun, page waits. */
  private wakeEverything(): void {
    const ctl = this.views.ctl;
    for (const b of [BELL_FETCHER, BELL_SOURCE, BELL_PREEMPT]) {
      Atomics.add(ctl, bellWord(b), 1);
      Atomics.notify(ctl, bellWord(b));
    }
    for (const q of this.views.queues) {
      Atomics.add(q.w, Q_BELL, 1);
      Atomics.notify(q.w, Q_BELL);
    }
    Atomics.notify(ctl, CTL_GO);
  }
}
