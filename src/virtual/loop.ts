/**
 * The virtual engine's event loop over one run's state (sim.ts): it starts the run, takes the next
 * event, hands it to its actor (dispatch.ts), samples the timeline and the event stream between
 * events (observer.ts), and checks the run at its end. The state below it imports no actor; the
 * loop is the one place that sees both.
 */
import { SimError } from '../errors.js';
import type { SimulateHooks } from '../hooks.js';
import type { ResolvedOptions } from '../options.js';
import { strategyTraits } from '../model/strategies/index.js';
import type { CostModel } from './costs.js';
import { dispatch } from './dispatch.js';
import { DONE } from './kernel.js';
import { EventStream } from './observer.js';
import { scheduleInjections } from './recovery.js';
import { VirtualSim } from './sim.js';
import { startSource } from './source.js';

export class VirtualRun extends VirtualSim {
  /** the timeline, progress callbacks and the event stream, read between events */
  readonly events: EventStream;

  constructor(opts: ResolvedOptions, c: CostModel, exitByVcpu: boolean, hooks: SimulateHooks, noUserfault = false) {
    super(opts, c, exitByVcpu, hooks, noUserfault);
    this.events = new EventStream(this);
  }

  /** Starts the run: the source (precopy for hybrid), or the vCPUs at once. */
  begin(): void {
    this.precopy = strategyTraits(this.opts.strategy).precopy && this.outbound !== null;
    if (!this.precopy) this.startGuest();
    startSource(this);
    scheduleInjections(this);
    this.events.start();
  }

  /** Runs the next event; false when the queue is empty. */
  step(): boolean {
    const q = this.q;
    if (!q.pop()) return false;
    const t = q.popTimeUs;
    if (t < this.now) throw new Error(`assertion failed: time went back from ${this.now} to ${t}`);
    if (t >= this.nextSampleUs) this.events.sample(t);
    this.events.tickUpTo(t);
    this.now = t;
    dispatch(this, q.popActor, q.popPhase, q.popArg);
    return true;
  }

  dispatch(id: number, ph: number, arg: number): void {
    dispatch(this, id, ph, arg);
  }

  /** The checks at the end of a run, the last timeline sample and the last tick. */
  end(): void {
    if (this.vcpusDone !== this.opts.vcpus && this.handlersDead) {
      throw new SimError(
        'GUEST_HUNG',
        `the uffd handlers crashed and nothing reads the uffd: ${this.opts.vcpus - this.vcpusDone} vCPUs wait ` +
          "forever on their faults (Firecracker's failure mode: restart the handler, e.g. --inject handler-crash@T+D:restart)",
      );
    }
    if (this.vcpusDone !== this.opts.vcpus) {
      const v = this.vcpus.findIndex((s, i) => this.threads[i]!.state !== DONE && s.entryPage >= 0);
      const page = v >= 0 ? this.vcpus[v]!.entryPage : -1;
      throw new SimError(
        'PAGE_NEVER_ARRIVED',
        `virtual run deadlocked: ${this.opts.vcpus - this.vcpusDone} vCPUs never finished${page >= 0 ? `; vCPU ${v} waits on page ${page}` : ''}`,
      );
    }
    if (this.presentPages !== this.pages && this.opts.mode !== 'none') {
      throw new SimError('PAGE_NEVER_ARRIVED', `virtual run stalled: ${this.pages - this.presentPages} pages never arrived`);
    }
    this.events.sample(this.now, true);
    this.events.finalTick();
  }
}
