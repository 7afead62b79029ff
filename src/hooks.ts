/**
 * What a caller can attach to a run, for both engines: progress, the event stream, a stop signal,
 * and (virtual engine) slow-motion playback. Observers never change a run's result.
 */
import type { SimEvent } from './events.js';
import type { DilationReport } from './model/result.js';
import type { LinkCutQueue } from './link-cuts.js';
import type { PlaybackControl } from './playback.js';

export interface Progress {
  tMs: number;
  presentPages: number;
  pages: number;
  faults: number;
  accesses: number;
}

export interface SimulateHooks {
  /** Called at most every `progressMs` (default 100; virtual engine: virtual ms) with live counters. */
  onProgress?: (p: Progress) => void;
  progressMs?: number;
  /**
   * The event stream (src/events.ts): start, a tick per interval, at most one decoded fault per vCPU
   * per tick, then end (or error).
   */
  onEvent?: (e: SimEvent) => void;
  /**
   * Tick interval in ms (default 100). Threads: wall ms. Virtual without playback: virtual ms; with
   * playback: wall ms, i.e. a tick every eventIntervalMs x virtualUsPerRealMs virtual us.
   */
  eventIntervalMs?: number;
  /** Virtual engine: tick interval in virtual us; wins over eventIntervalMs (tests, fine traces). */
  eventIntervalUs?: number;
  /**
   * Virtual engine: slow-motion playback, `virtualUsPerRealMs` virtual us per wall-clock ms (1000: real
   * time; 10: 100x slower), yielding to the event loop between events. Without it the virtual run goes
   * as fast as it can, synchronously.
   */
  playback?: { virtualUsPerRealMs: number };
  /**
   * Threaded engine: called once when the run's time dilation is decided (after `auto` measured the
   * simulator's costs), before the run starts: the CLI says how long it will take.
   */
  onPlan?: (plan: DilationReport) => void;
  /** Stops the run early (the demo's restart): the run ends with a SimError 'ABORTED'. */
  signal?: AbortSignal;
  /**
   * Virtual engine with playback: pause, single-step and resume (src/playback.ts). The caller feeds
   * it the events it gets (control.observe) so armed conditions can pause the run.
   */
  control?: PlaybackControl;
  /**
   * Threaded engine over a modelled link: link cuts asked for while the run plays (the demo's
   * button), each taken at once by the source thread as an unplanned link-down (src/link-cuts.ts).
   * The virtual engine takes its cuts from `control`.
   */
  linkCuts?: LinkCutQueue;
}
