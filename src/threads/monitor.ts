/**
 * The main thread's watch over a threaded run, on a 10 ms timer off every hot path: it samples the
 * timeline (the model's), publishes the event stream and progress, and is the watchdog: a vCPU
 * blocked on one page for too long, or a migration in which no page arrives for too long, fails the
 * run naming the page. It also hands the source thread the link cuts asked for while the run plays
 * (SimulateHooks.linkCuts, one at a time through a shared word) and publishes a tick at each change
 * of the migration's state, as the virtual engine does.
 */
import { Errors, SimError } from '../errors.js';
import type { SimulateHooks } from '../hooks.js';
import type { RunResult, TimelineSample } from '../model/result.js';
import { pushSample } from '../model/timeline.js';
import type { ResolvedOptions } from '../options.js';
import type { Clock } from './clock.js';
import { until } from './wait.js';
import {
  CTL_BLOCKED_VCPUS,
  CTL_HANDLERS_CRASHED,
  CTL_LINK_CUT_US,
  CTL_MIGRATION_DONE,
  CTL_PRESENT_PAGES,
  CTL_RUN_STATE,
  TIME_GO_US,
  VCPU_STRIDE,
  VS_ACCESSES,
  VS_FAULTS,
  VS_WAIT_PAGE,
  VS_WAIT_SINCE_US,
} from './layout.js';
import { EventPublisher } from './observe.js';
import type { SharedState } from './protocol.js';
import type { Views } from './shared.js';

const SAMPLE_MS = 10;

export class Monitor {
  readonly timeline: TimelineSample[] = [];
  private sampleEvery = 1;
  private sampleTick = 0;
  private lastPresent = -1;
  private lastPresentChangeUs: number;
  private lastProgressMs = -Infinity;
  private lastEventMs = -Infinity;
  private readonly publisher: EventPublisher | null;
  private ticker: NodeJS.Timeout | undefined;
  private lastRunState = 0;
  /** Where a live link cut is taken from (null: this run's link cannot be cut live). */
  private readonly cuts: SimulateHooks['linkCuts'] | null;

  constructor(
    private readonly opts: ResolvedOptions,
    shared: SharedState,
    private readonly views: Views,
    private readonly clock: Clock,
    private readonly hooks: SimulateHooks,
    private readonly fail: (e: SimError) => void,
  ) {
    this.lastPresentChangeUs = clock.nowUs();
    this.cuts = shared.liveLinkCuts ? (hooks.linkCuts ?? null) : null;
    this.publisher = hooks.onEvent ? new EventPublisher(opts, shared, hooks.onEvent) : null;
    this.publisher?.start();
    this.ticker = setInterval(() => this.tick(), SAMPLE_MS);
  }

  private tick(): void {
    const { opts, views, hooks } = this;
    const { vstats, ctl, times } = views;
    const now = this.clock.nowUs();
    const tMs = (now - times[TIME_GO_US]!) / 1000;
    for (let v = 0; v < opts.vcpus; v++) {
      const b = v * VCPU_STRIDE;
      const waiting = vstats[b + VS_WAIT_PAGE]!;
      const since = vstats[b + VS_WAIT_SINCE_US]!;
      if (waiting > 0 && now - since > opts.watchdogUs && vstats[b + VS_WAIT_PAGE] === waiting) {
        this.fail(
          Atomics.load(ctl, CTL_HANDLERS_CRASHED)
            ? new SimError(
                'GUEST_HUNG',
                `the uffd handlers crashed and nothing reads the uffd: vCPU ${v} waited ${((now - since) / 1000).toFixed(0)} ms on ` +
                  `gpa 0x${views.mem.gpaOfPage(waiting - 1).toString(16)} (Firecracker's failure mode: restart the handler, e.g. --inject handler-crash@T+D:restart)`,
              )
            : Errors.pageNeverArrived(v, views.mem.gpaOfPage(waiting - 1), (now - since) / 1000),
        );
      }
    }
    const sample = this.sampleAt(now);
    const { accesses, faults, presentPages } = sample;
    if (presentPages !== this.lastPresent) {
      this.lastPresent = presentPages;
      this.lastPresentChangeUs = now;
    }
    if (this.sampleTick++ % this.sampleEvery === 0 && pushSample(this.timeline, sample)) this.sampleEvery *= 2; // memory stays bounded on long runs
    this.handOverCut();
    const runState = Atomics.load(ctl, CTL_RUN_STATE);
    const stateChanged = runState !== this.lastRunState;
    this.lastRunState = runState;
    if (this.publisher && (stateChanged || tMs - this.lastEventMs >= (hooks.eventIntervalMs ?? 100))) {
      this.lastEventMs = tMs;
      this.publisher.tick(tMs);
    }
    if (hooks.onProgress && tMs - this.lastProgressMs >= (hooks.progressMs ?? 100)) {
      this.lastProgressMs = tMs;
      hooks.onProgress({ tMs, presentPages, pages: opts.pages, faults, accesses });
    }
  }

  /** The next cut asked for goes to the source once it took the one before (the word is 0 again). */
  private handOverCut(): void {
    if (!this.cuts || Atomics.load(this.views.ctl, CTL_LINK_CUT_US) !== 0) return;
    const cut = this.cuts.takeCut();
    if (cut === undefined) return;
    Atomics.store(this.views.ctl, CTL_LINK_CUT_US, Math.min(2 ** 31 - 1, Math.max(1, Math.round(cut))));
    this.views.sourceBell.ring();
  }

  /** Waits for the last page; the watchdog here is "no page arrived for watchdog time". */
  async awaitMigrationDone(failed: () => boolean): Promise<void> {
    const { opts, views } = this;
    await until(
      () => {
        if (Atomics.load(views.ctl, CTL_MIGRATION_DONE) || failed()) return true;
        if (this.clock.nowUs() - this.lastPresentChangeUs <= opts.watchdogUs) return false;
        let missing = 0;
        while (missing < views.mem.pages && views.mem.isPresent(missing)) missing++;
        this.fail(
          new SimError(
            'PAGE_NEVER_ARRIVED',
            `migration stalled: no page arrived for ${(opts.watchdogUs / 1000).toFixed(0)} ms; ` +
              `${opts.pages - Atomics.load(views.ctl, CTL_PRESENT_PAGES)} pages missing, first at gpa 0x${views.mem.gpaOfPage(Math.min(missing, views.mem.pages - 1)).toString(16)}`,
          ),
        );
        return true;
      },
      Infinity,
      '',
    );
  }

  stop(): void {
    if (!this.ticker) return;
    this.finalSample();
    clearInterval(this.ticker);
    this.ticker = undefined;
  }

  /** The timeline ends at the run's end, however short the run: one sample of the final counters. */
  private finalSample(): void {
    const sample = this.sampleAt(this.clock.nowUs());
    const last = this.timeline[this.timeline.length - 1];
    if (!last || last.tMs < sample.tMs) pushSample(this.timeline, sample);
  }

  /** The guest's counters at `nowUs` (modelled us), as a timeline sample. */
  private sampleAt(nowUs: number): TimelineSample {
    const { opts, views } = this;
    let accesses = 0,
      faults = 0;
    for (let v = 0; v < opts.vcpus; v++) {
      accesses += views.vstats[v * VCPU_STRIDE + VS_ACCESSES]!;
      faults += views.vstats[v * VCPU_STRIDE + VS_FAULTS]!;
    }
    const tMs = (nowUs - views.times[TIME_GO_US]!) / 1000;
    return {
      tMs: Math.round(tMs * 100) / 100,
      accesses,
      faults,
      presentPages: Atomics.load(views.ctl, CTL_PRESENT_PAGES),
      blockedVcpus: Atomics.load(views.ctl, CTL_BLOCKED_VCPUS),
    };
  }

  /** The last tick and the end event. */
  finish(result: RunResult): void {
    if (!this.publisher) return;
    this.publisher.tick((this.clock.nowUs() - this.views.times[TIME_GO_US]!) / 1000);
    this.hooks.onEvent!({ type: 'end', result });
  }
}
