/**
 * How many accesses one vCPU runs, the same in both engines: a trace replays once unless --accesses
 * says otherwise; a synthetic workload runs --accesses, or until migration completes plus a tail.
 */
import type { ResolvedOptions } from './config.js';

export interface AccessBudget {
  /** accesses at most (Infinity: until migration completes, then the tail) */
  limit: number;
  /** the guest stops on migration: `tail` more accesses after it completes */
  untilMigrated: boolean;
  tail: number;
}

/** `traceLength`: the vCPU's trace's accesses, or null for a synthetic workload. */
export function accessBudget(o: Pick<ResolvedOptions, 'accesses' | 'tailAccesses'>, traceLength: number | null): AccessBudget {
  const untilMigrated = o.accesses === undefined && traceLength === null;
  const limit = traceLength !== null ? traceLength && (o.accesses ?? traceLength) : (o.accesses ?? Infinity);
  return { limit, untilMigrated, tail: untilMigrated ? o.tailAccesses : 0 };
}
