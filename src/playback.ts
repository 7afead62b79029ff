/**
 * Pause, single-step and resume for a played-back run (the live demo's controls and its lessons).
 *
 * A run on the virtual engine has a clock of its own, so it can stop between two events and go on
 * later exactly as if it had not: the engine checks `paused` before each event and waits. A pause
 * can be asked for at once, or armed as a condition on the event stream ("the next walk fault",
 * "once 32 faults are queued"): the control sees every event the run emits and pauses on the first
 * that matches. To stop on a fault as it happens, the engine then publishes each fault at once
 * instead of at the next tick (`wantsEachFault`). Observing never changes the run.
 *
 * The threaded engine cannot be paused: its vCPUs, source and link are real threads and real time.
 */
import type { SimEvent } from './events.js';
import { LinkCutQueue } from './link-cuts.js';

/** A condition to pause on: the next fault of some kinds, or tick thresholds (every one given must hold). */
export interface PauseCondition {
  /** The next fault of one of these kinds ('any': the next fault at all; single-step). */
  fault?: 'any' | string[];
  /** A tick with at least this many faults queued and unresolved. */
  queuedAtLeast?: number;
  /** A tick with at least this many faults taken so far. */
  faultsAtLeast?: number;
  /** A tick with at least this fraction of guest pages present. */
  presentAtLeast?: number;
  /** A tick in this state of the migration (with injections): paused, recover or active. */
  runState?: 'active' | 'paused' | 'recover';
}

export interface PlaybackState {
  paused: boolean;
  /** Why it paused: 'asked', or the event that met the condition. */
  reason: string | null;
  until: PauseCondition | null;
}

export class PlaybackControl {
  paused = false;
  private until: PauseCondition | null = null;
  private reason: string | null = null;
  private pages = 0;
  private resumeWaiters: Array<() => void> = [];
  /** Link cuts asked for while the run plays, taken by the engine at its next event. */
  private readonly cuts = new LinkCutQueue();

  constructor(private readonly onChange: (s: PlaybackState) => void = () => {}) {}

  /** The engine publishes every fault as it happens while a fault condition is armed. */
  get wantsEachFault(): boolean {
    return this.until?.fault !== undefined;
  }

  state(): PlaybackState {
    return { paused: this.paused, reason: this.reason, until: this.until };
  }

  pause(reason = 'asked'): void {
    if (this.paused) return;
    this.paused = true;
    this.reason = reason;
    this.until = null;
    this.onChange(this.state());
  }

  /** Goes on, until `cond` holds (null: to the end). */
  resume(cond: PauseCondition | null = null): void {
    this.until = cond && Object.keys(cond).length ? cond : null;
    this.reason = null;
    this.paused = false;
    for (const w of this.resumeWaiters.splice(0)) w();
    this.onChange(this.state());
  }

  /** Cuts the link now (both channels) for `durationUs`: the engine pauses the migration as a planned link-down would. */
  cutLink(durationUs: number): void {
    this.cuts.cutLink(durationUs);
  }

  /** The next link cut asked for (undefined: none). */
  takeCut(): number | undefined {
    return this.cuts.takeCut();
  }

  /** One fault at a time. */
  step(): void {
    this.resume({ fault: 'any' });
  }

  /** Every event the run emits, in order; pauses on the first that meets the armed condition. */
  observe(e: SimEvent): void {
    if (e.type === 'start') this.pages = e.pages;
    const c = this.until;
    if (!c || this.paused) return;
    if (e.type === 'fault' && c.fault !== undefined) {
      const kind = e.record.arch?.kind ?? (e.record.kind === 'uffd_msg' ? 'uffd' : 'memory_fault');
      if (c.fault === 'any' || c.fault.includes(kind)) this.pause(`fault: ${kind} on vCPU ${e.vcpu}`);
    } else if (e.type === 'tick' && c.fault === undefined) {
      const met =
        (c.queuedAtLeast === undefined || (e.queuedFaults ?? 0) >= c.queuedAtLeast) &&
        (c.faultsAtLeast === undefined || e.faults >= c.faultsAtLeast) &&
        (c.presentAtLeast === undefined || (this.pages > 0 && e.presentPages / this.pages >= c.presentAtLeast)) &&
        (c.runState === undefined || e.runState === c.runState);
      if (met) this.pause('condition met');
    }
  }

  /** Resolves when resumed (or at once when not paused, or when `signal` aborts). */
  waitWhilePaused(signal?: AbortSignal): Promise<void> {
    if (!this.paused || signal?.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = () => {
        signal?.removeEventListener('abort', done);
        resolve();
      };
      this.resumeWaiters.push(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}
