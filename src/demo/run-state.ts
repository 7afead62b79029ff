/**
 * What the demo server remembers of the current run, so a client that joins late starts from a full
 * picture: the memory map, the last tick and fault, a history of the charts, the end, and whether
 * the run is paused.
 */
import type { FaultEvent, SimEvent, StartEvent, TickEvent } from '../events.js';
import type { RunResult } from '../model/result.js';
import type { PlaybackState } from '../playback.js';
import type { DemoRunPlan } from './params.js';

/** The end of a run without its bulky arrays (the page shows headline numbers). */
export function summary(r: RunResult): Omit<RunResult, 'timeline' | 'services' | 'pageMap'> {
  const { timeline: _t, services: _s, pageMap: _p, ...rest } = r;
  return rest;
}

/** What the server remembers of the current run, so a late client starts from a full picture. */
export class RunState {
  start: StartEvent | null = null;
  present = new Float32Array(0);
  demand = new Float32Array(0);
  lastTick: TickEvent | null = null;
  lastFault: FaultEvent | null = null;
  final: Record<string, unknown> | null = null;
  /** [tMs, faultsPerSec, blocktimeMs, bytesReceived, presentPages, accessesPerSec], halved when long. */
  history: number[][] = [];
  status: 'starting' | 'running' | 'finished' | 'stopped' | 'failed' = 'starting';
  /** Pause / single-step state (virtual-engine runs only; null otherwise). */
  playback: PlaybackState | null = null;
  constructor(
    readonly id: number,
    readonly plan: DemoRunPlan,
    readonly controls: Record<string, unknown>,
  ) {}

  runMessage() {
    return {
      type: 'run',
      run: this.id,
      status: this.status,
      controls: this.controls,
      effective: this.plan.effective,
      pausable: this.plan.playback !== null,
      cuttable: this.plan.cuttable,
    };
  }

  apply(e: SimEvent): void {
    if (e.type === 'start') {
      this.start = e;
      this.present = new Float32Array(e.cells);
      this.demand = new Float32Array(e.cells);
      this.status = 'running';
    } else if (e.type === 'tick') {
      for (const [c, p, d] of e.cells) {
        this.present[c] = p;
        this.demand[c] = d;
      }
      const { cells: _c, ...rest } = e;
      this.lastTick = { ...rest, cells: [] };
      this.history.push([e.tMs, e.faultsPerSec, e.blocktimeMs, e.bytesReceived, e.presentPages, e.accessesPerSec]);
      if (this.history.length > 3000) this.history = this.history.filter((_, i) => i % 2 === 0);
    } else if (e.type === 'fault') {
      this.lastFault = e;
    }
  }

  /** Messages that bring a new client up to date. */
  snapshot(): unknown[] {
    const out: unknown[] = [this.runMessage()];
    if (this.start) {
      out.push({ ...this.start, run: this.id });
      out.push({ type: 'history', run: this.id, points: this.history });
      if (this.lastTick) {
        const cells: Array<[number, number, number]> = [];
        for (let c = 0; c < this.present.length; c++) if (this.present[c]! > 0) cells.push([c, this.present[c]!, this.demand[c]!]);
        out.push({ ...this.lastTick, cells, run: this.id });
      }
      if (this.lastFault) out.push({ ...this.lastFault, run: this.id });
    }
    if (this.playback) out.push({ type: 'playback', run: this.id, ...this.playback });
    if (this.final) out.push(this.final);
    return out;
  }
}
