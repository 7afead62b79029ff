/**
 * The demo's runs: at most one at a time (a new start aborts the old one and waits for it), each
 * with its remembered state (run-state.ts), on the virtual engine its pause control, and on either
 * engine over a modelled link a way to cut the link live (the virtual engine's through its pause
 * control, the threaded engine's a LinkCutQueue its monitor hands to the source thread). Every
 * event goes to the state, then to the clients (`broadcast`), then to the pause control, so a
 * client always has the event a pause stops on before it hears of the pause.
 */
import { SimError } from '../errors.js';
import type { SimulateHooks } from '../hooks.js';
import { LinkCutQueue } from '../link-cuts.js';
import { PlaybackControl, type PauseCondition } from '../playback.js';
import { simulate } from '../simulate.js';
import type { DemoRunPlan } from './params.js';
import { RunState, summary } from './run-state.js';

interface Current {
  state: RunState;
  controller: AbortController;
  done: Promise<void>;
  control: PlaybackControl | null;
  cuts: LinkCutQueue | null;
}

export class DemoRuns {
  private nextId = 1;
  current: Current | null = null;

  constructor(
    private readonly broadcast: (msg: unknown) => void,
    private readonly eventIntervalMs: number,
  ) {}

  /** Starts a run (aborting the current one); with `until`, it pauses when the condition first holds. */
  start(plan: DemoRunPlan, controls: Record<string, unknown>, until: PauseCondition | null): RunState {
    const prev = this.current;
    prev?.controller.abort();
    const controller = new AbortController();
    const state = new RunState(this.nextId++, plan, controls);
    const control = plan.playback
      ? new PlaybackControl((s) => {
          state.playback = s;
          this.broadcast({ type: 'playback', run: state.id, ...s });
        })
      : null;
    if (control && until) control.resume(until);
    const cuts = !plan.playback && plan.cuttable ? new LinkCutQueue() : null;
    const done = this.run(state, plan, controller, control, cuts, prev);
    this.current = { state, controller, done, control, cuts };
    this.broadcast(state.runMessage());
    return state;
  }

  stop(): number | null {
    this.current?.controller.abort();
    return this.current?.state.id ?? null;
  }

  /** The current run's pause control; null when there is none or it runs on real threads. */
  control(): PlaybackControl | null {
    return this.current?.control ?? null;
  }

  /**
   * Cuts the current run's link now for `durationUs` of its modelled time; false when it has no
   * modelled link to cut (no run, or a run without a link).
   */
  cutLink(durationUs: number): boolean {
    const c = this.current;
    if (!c?.state.plan.cuttable) return false;
    if (c.control) c.control.cutLink(durationUs);
    else c.cuts?.cutLink(durationUs);
    return true;
  }

  async close(): Promise<void> {
    this.current?.controller.abort();
    if (this.current) await this.current.done;
  }

  private async run(
    state: RunState,
    plan: DemoRunPlan,
    controller: AbortController,
    control: PlaybackControl | null,
    cuts: LinkCutQueue | null,
    prev: Current | null,
  ): Promise<void> {
    if (prev) await prev.done;
    if (controller.signal.aborted) {
      state.status = 'stopped';
      state.final = { type: 'error', run: state.id, code: 'ABORTED', message: 'superseded before it started' };
      this.broadcast(state.final);
      return;
    }
    let reported = false;
    try {
      const hooks: SimulateHooks = {
        eventIntervalMs: this.eventIntervalMs,
        signal: controller.signal,
        ...(cuts ? { linkCuts: cuts } : {}),
        onEvent: (e) => {
          state.apply(e);
          if (e.type === 'end') {
            state.status = 'finished';
            state.final = { type: 'end', run: state.id, result: summary(e.result) };
            this.broadcast(state.final);
          } else if (e.type === 'error') {
            reported = true;
            state.status = e.code === 'ABORTED' ? 'stopped' : 'failed';
            state.final = { ...e, run: state.id };
            this.broadcast(state.final);
          } else this.broadcast({ ...e, run: state.id });
          control?.observe(e);
        },
      };
      if (plan.playback) {
        // A virtual run played back in slow motion (simulate() would run it flat out), pausable.
        const { simulateVirtual } = await import('../virtual/engine.js');
        await simulateVirtual(plan.options, { ...hooks, playback: plan.playback, ...(control ? { control } : {}) });
      } else await simulate(plan.options, hooks);
    } catch (e) {
      if (!reported) {
        state.status = 'failed';
        const code = e instanceof SimError ? e.code : 'INTERNAL';
        state.final = { type: 'error', run: state.id, code, message: (e as Error)?.message?.split('\n')[0] ?? String(e) };
        this.broadcast(state.final);
      }
    }
  }
}
