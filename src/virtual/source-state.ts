/**
 * The virtual source host's state, kept by the state (sim.ts) and moved by the source actor
 * (source.ts) and recovery (recovery.ts).
 */
import type { PrecopyRounds } from '../model/precopy.js';

/** The source's queues: requests in arrival order, the bulk send buffer, and precopy's progress. */
export class SourceState {
  readonly reqPage: number[] = [];
  readonly reqVcpu: number[] = [];
  reqHead = 0;
  /** bulk frames: page * 64 + flags, the thread it is for, when it was queued */
  readonly bulk: number[] = [];
  readonly bulkTo: number[] = [];
  readonly bulkQueuedUs: number[] = [];
  bulkHead = 0;
  txScheduled = false;
  readonly prefetch: number[] = [];
  // hybrid
  rounds: PrecopyRounds | null = null;
  round: number[] | null = null; // null: every page
  roundNo = 0;
  roundNext = 0;
  roundStartUs = 0;
  roundEndScheduled = false;
  stale: number[] = [];
}
