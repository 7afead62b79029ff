/**
 * The demo's runs: at most one at a time (a new start aborts the old one and waits for it), each
 * with its remembered state (run-state.ts) and, on the virtual engine, its pause control. Every
 * event goes to the state, then to the clients (`broadcast`), then to the pause control, so a
 * client always has the event a pause stops on before it hears of the pause.
 */
import { SimError } from '../errors.js';
import type { SimulateHooks } from '../hooks.js';
import { PlaybackControl, type PauseCondition } from '../playback.js';
import { simulate } from '../simulate.js';
import type { DemoRunPlan } from './params.js';
import { RunState, summary } from './run-state.js';

interface Current { state: RunState; controller: AbortController; done: Promise<void>; control: PlaybackControl | null }

export class DemoRuns {
  private nextId = 1;
  current: Current | null = null;

  constructor(private readonly broadcast: (msg: unknown) => void, private readonly eventIntervalMs: number) {}

  /** Starts a run (aborting the current one); with `until`, it pauses when the condition first holds. */
  start(plan: DemoRunPlan, controls: Record<string, unknown>, until: PauseCondition | null): RunState {
    const prev = this.current;
    prev?.controller.abort();
    const controller = new AbortController();
    const state = new RunState(this.nextId++, plan, controls);
    const control = plan.playback ? new PlaybackControl((s) => { state.playback = s; this.broadcast({ type: 'playback', run: state.id, ...s }); }) : null;
    if (control && until) control.resume(until);
    const done = this.run(state, plan, controller, control, prev);
    this.current = { state, controller, done, control };
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

  async close(): Promise<void> {
    this.current?.controller.abort();
    if (this.current) await this.current.done;
  }

  private async run(state: RunState, plan: DemoRunPlan, controller: AbortController, control: PlaybackControl | null, prev: Current | null): Promise<void> {
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
