/**
 * What the actors leave for the event stream as they go: the page-map cells that changed since the
 * last tick, and the fault-latency histogram. The state (sim.ts) keeps it; the observer
 * (observer.ts) reads and clears it at each tick, so the actors never see the observer.
 */
import { LATENCY_BUCKETS } from '../model/stats.js';

export class EventMarks {
  readonly latencyBuckets = new Array<number>(LATENCY_BUCKETS).fill(0);
  /** cells changed since the last tick, each once */
  readonly dirtyCells: number[] = [];
  /** per cell: 1 while it is in dirtyCells; empty when nobody listens (markCell then does nothing) */
  readonly cellDirty: Uint8Array;

  constructor(cells: number) {
    this.cellDirty = new Uint8Array(cells);
  }

  markCell(c: number): void {
    if (this.cellDirty.length && !this.cellDirty[c]) {
      this.cellDirty[c] = 1;
      this.dirtyCells.push(c);
    }
  }
}
