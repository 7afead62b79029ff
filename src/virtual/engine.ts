/**
 * The virtual-time engine: one migration as a single-threaded discrete-event simulation. vCPUs, the
 * page fetcher, uffd handlers and the source host are actors on a virtual clock; every step of a
 * fault costs what src/virtual/costs.ts says, on a core of `costs.cores`, under the locks it takes.
 * Every decision is the model's (src/model/): workloads, strategies, the link, the fault decision,
 * the send policy, statistics and the result, the same code the threaded engine runs.
 *
 *   vCPU ──fault──▶ [exit]  post ──▶ fetcher ──▶ (local copy | request ─Link─▶ source ─Link─▶) install
 *                   [uffd]  queue lock: enqueue, poll-wake readers ──▶ handler: read() ──▶ … copy
 *        ◀── wake (page waiters | the queue's wake walk) ◀──────────────────────────────────┘
 *
 *   kernel.ts     cores, locks, park/wake          vcpu.ts, fetcher.ts, handler.ts,
 *   sim.ts        the run's state (*-state.ts)     installer.ts, source.ts, service.ts: the actors
 *   loop.ts       the event loop; dispatch.ts      oracle.ts, result.ts: the proof and the result
 *   observer.ts   timeline and event stream
 *
 * Determinism: the event queue is ordered by (time, sequence number), the workload by its seed, and
 * nothing reads the host clock except wallMs and peakRssBytes. `hooks.playback` paces the run
 * against the wall clock (slow motion for the live demo).
 */
import { checkTablesFit, virtualPageTableBytes } from './tables.js';
import { noteRunAllocation } from '../rss.js';
import { Errors, SimError } from '../errors.js';
import type { SimulateHooks } from '../hooks.js';
import type { ResolvedOptions } from '../options.js';
import { costsOf, loadCostProfile, shippedProfile, type CostModel } from './costs.js';
import { virtualResult, type VirtualRunResult } from './result.js';
import { VirtualRun } from './loop.js';
import { cutLinkNow } from './recovery.js';
import { prepareTrace } from '../trace/replay.js';

export type { VirtualRunResult } from './result.js';

/** What the virtual engine adds to the run's options. */
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
  /**
   * No userfault (the published bench and tests; no CLI flag): the guest's memory is untouched
   * anonymous memory with no uffd registered, so each missing page is filled by the vCPU's own
   * stage-2 fault through GUP (src/virtual/first-touch.ts). Needs mode 'exit' and network 'none'.
   */
  noUserfault?: boolean;
}

/** The virtual engine takes the same hooks as simulate() (src/hooks.ts). */
export type VirtualHooks = SimulateHooks;

/** Playback: yield to the event loop at least this often (wall ms), even when behind. */
const YIELD_MS = 20;
/** Playback: when the run falls behind the wall clock by more than this, it slides instead of rushing. */
const MAX_LAG_MS = 250;

/** The costs of a run: --costs FILE, else the shipped --profile; cores per costsOf(). */
export function resolveCosts(v: VirtualOptions & { profile?: 'this-host' | 'large-host' }): CostModel {
  if (v.costModel) return v.cores !== undefined ? { ...v.costModel, cores: v.cores } : v.costModel;
  return costsOf(v.costs ? loadCostProfile(v.costs) : shippedProfile(v.profile ?? 'this-host'), v.cores);
}

/** The profile's name, as results record it. */
export function profileName(v: VirtualOptions & { profile?: 'this-host' | 'large-host' }): string {
  if (v.costModel) return 'custom';
  return v.costs ? loadCostProfile(v.costs).name : (v.profile ?? 'this-host');
}

/**
 * One run. With `hooks.playback` it is paced against the wall clock and yields between events;
 * otherwise it runs synchronously to the end (as runVirtual).
 */
export async function simulateVirtual(options: ResolvedOptions & VirtualOptions, hooks: VirtualHooks = {}): Promise<VirtualRunResult> {
  const opts = await prepareTrace(options);
  if (!hooks.playback) {
    const wallStart = performance.now();
    return guarded(hooks, async () => {
      const sim = newSim(opts, resolveCosts(opts), hooks);
      await runSliced(sim);
      return finish(sim, performance.now() - wallStart);
    });
  }
  const rate = hooks.playback.virtualUsPerRealMs;
  if (!(rate > 0) || !Number.isFinite(rate)) throw Errors.badInput('playback', 'virtualUsPerRealMs must be a positive number');
  const wallStart = performance.now();
  return guarded(hooks, async () => {
    const sim = newSim(opts, resolveCosts(opts), hooks);
    await runPaced(sim, rate);
    return finish(sim, performance.now() - wallStart);
  });
}

/** One run, synchronously. */
export function runVirtual(opts: ResolvedOptions & VirtualOptions, costs: CostModel, hooks: VirtualHooks = {}): VirtualRunResult {
  const wallStart = performance.now();
  return guarded(hooks, () => {
    const sim = newSim(opts, costs, hooks);
    run(sim);
    return finish(sim, performance.now() - wallStart);
  });
}

/**
 * One run to its end, handing back the run's state instead of its result: for a bench that reads the
 * model's own counters (the published cross-check's core time per side, Kernel.coreTimeUs).
 */
export function runVirtualToEnd(opts: ResolvedOptions & VirtualOptions, costs: CostModel): VirtualRun {
  const sim = newSim(opts, costs, {});
  run(sim);
  return sim;
}

function newSim(opts: ResolvedOptions & VirtualOptions, costs: CostModel, hooks: VirtualHooks): VirtualRun {
  checkTablesFit(opts);
  noteRunAllocation(virtualPageTableBytes(opts));
  if (opts.injectFault !== 'none') throw Errors.badInput('injectFault', 'fault injection kills threads; the virtual engine has none (use --engine threads)');
  const exitByVcpu = opts.exitResolver === 'vcpu';
  const noUserfault = opts.noUserfault === true;
  if (noUserfault && opts.mode !== 'exit')
    throw Errors.badInput('noUserfault', "needs mode 'exit': no uffd is registered, the vCPU's own fault fills the page");
  if (noUserfault && opts.exitResolver !== 'vcpu')
    throw Errors.badInput('noUserfault', "needs exitResolver 'vcpu': the vCPU's own thread fills its pages, no fetcher");
  if (noUserfault && opts.network !== 'none')
    throw Errors.badInput('noUserfault', "needs network 'none': the kernel zero-fills the page, nothing comes from a source");
  return new VirtualRun(opts, costs, exitByVcpu, hooks, noUserfault);
}

function finish(sim: VirtualRun, wallMs: number): VirtualRunResult {
  const r = virtualResult(sim, wallMs, profileName(sim.opts as VirtualOptions & ResolvedOptions));
  sim.events.emit?.({ type: 'end', result: r });
  return r;
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
  } catch (e) {
    return report(e);
  }
}

function run(sim: VirtualRun): void {
  sim.begin();
  let n = 0;
  while (sim.step()) {
    if ((++n & 0xffff) === 0 && sim.hooks.signal?.aborted) throw new SimError('ABORTED', 'the run was stopped');
  }
  sim.end();
}

/** Wall time an unpaced run computes before it lets the event loop turn (Ctrl-C, SIGTERM, aborts). */
const SLICE_MS = 50;
/** Events run between two looks at the wall clock. */
const SLICE_EVENTS = 4096;

/**
 * The same run as run(), in slices: after SLICE_MS of wall time it yields one event-loop turn, so a
 * signal handler or an abort gets to run within a slice however long the run is (a 128 GiB run
 * ignored Ctrl-C for 27 s when it ran in one piece). The events and their order are run()'s.
 */
async function runSliced(sim: VirtualRun): Promise<void> {
  sim.begin();
  let sliceEnd = performance.now() + SLICE_MS;
  for (;;) {
    for (let n = 0; n < SLICE_EVENTS; n++) {
      if (!sim.step()) {
        sim.end();
        return;
      }
    }
    if (performance.now() < sliceEnd) continue;
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (sim.hooks.signal?.aborted) throw new SimError('ABORTED', 'the run was stopped');
    sliceEnd = performance.now() + SLICE_MS;
  }
}

/**
 * The same run, paced: the next thing to happen (an event, or a tick boundary) waits until the
 * wall clock reaches its virtual time / rate. Falling behind by more than MAX_LAG_MS slides the
 * schedule rather than rushing to catch up; the loop yields at least every YIELD_MS regardless.
 */
async function runPaced(sim: VirtualRun, virtualUsPerRealMs: number): Promise<void> {
  const signal = sim.hooks.signal,
    events = sim.events;
  const stopped = () => {
    if (signal?.aborted) throw new SimError('ABORTED', 'the run was stopped');
  };
  stopped();
  sim.begin();
  let wall0 = performance.now();
  let lastYield = wall0;
  let n = 0;
  const control = sim.hooks.control;
  let faultsSeen = 0;
  let runState = sim.recovery?.state;
  for (;;) {
    if (control?.paused) {
      // Paused (src/playback.ts): wait, then carry on from here, not rush to catch up the pause.
      await control.waitWhilePaused(signal);
      stopped();
      wall0 = performance.now() - sim.now / virtualUsPerRealMs;
      lastYield = performance.now();
      continue;
    }
    // A link cut asked for while playing (the demo's button) happens at this instant of virtual time.
    for (let cut = control?.takeCut(); cut !== undefined; cut = control!.takeCut()) cutLinkNow(sim, cut);
    const next = sim.q.peekTimeUs();
    if (next === Infinity) break;
    const target = Math.min(next, events.nextUs);
    const now = performance.now();
    const lag = wall0 + target / virtualUsPerRealMs - now;
    if (lag < -MAX_LAG_MS) wall0 += -lag - MAX_LAG_MS;
    if (lag > 1 || now - lastYield >= YIELD_MS) {
      await pause(lag > 1 ? Math.min(lag, 100) : 0, signal);
      lastYield = performance.now();
      stopped();
      continue;
    }
    if (events.nextUs < next) {
      events.tick(events.nextUs);
      events.nextUs += events.everyUs;
      stopped();
      continue;
    }
    sim.step();
    // A pause armed on a fault: publish each fault as it happens (a tick now), not at the next tick.
    if (control) {
      if (control.wantsEachFault && sim.totalFaults !== faultsSeen && events.emit) events.tick(sim.now);
      faultsSeen = sim.totalFaults;
      // Each change of the migration's state (paused, recover, active) is published as it happens.
      const state = sim.recovery?.state;
      if (state !== runState) {
        runState = state;
        if (events.emit) events.tick(sim.now);
      }
    }
    if ((++n & 0x3ff) === 0) stopped();
  }
  stopped();
  sim.end();
}

/** Waits `ms` (0: one event-loop turn), cut short by `signal`. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** One run that also hands back the finished simulation, for reports on its kernel lines (bench/). */
export function runVirtualWithSim(opts: ResolvedOptions & VirtualOptions, costs: CostModel): [VirtualRunResult, VirtualRun] {
  const wallStart = performance.now();
  const sim = newSim(opts, costs, {});
  run(sim);
  return [finish(sim, performance.now() - wallStart), sim];
}
