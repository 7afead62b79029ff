/**
 * Piscina task entry for the published bench's sensitivity: the one-uffd series under one set of
 * costs, on its own thread (a virtual run is single-threaded and shares nothing). Thin: the work is
 * bench/scenarios/published.ts `runColumn`.
 */
import { runColumn, type SeriesTask } from '../bench/scenarios/published.js';

/** One-uffd pages/s at each row of `vcpus`. */
export default function task(t: SeriesTask): number[] {
  return t.vcpus.map((v) => runColumn('uffd-n', v, t.mib, t.costs, 'minor', t.seed).pagesPerSec);
}
