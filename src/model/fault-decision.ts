/**
 * The destination's decision on one fault record, the same in every resolver of both engines (the
 * page fetcher, a uffd handler, a vCPU resolving its own exit): ask for the page, or merge the fault
 * into the request already in flight, or find the page already there. demand_paging_test's handler
 * meets the last two as EEXIST from UFFDIO_COPY; a VMM that tracks requested pages avoids the copy.
 */
import type { PageStates } from './page-state.js';
import type { FetcherStats } from './stats.js';

export const FAULT_REQUEST = 0; // the page was missing: this resolver fetches it (or copies it locally)
export const FAULT_MERGED = 1; // one request per page is in flight; this fault waits for the same copy
export const FAULT_PRESENT = 2; // installed between the vCPU's lookup and now: it will see it
export type FaultDecision = typeof FAULT_REQUEST | typeof FAULT_MERGED | typeof FAULT_PRESENT;

/** Decides, and counts the record on `stats` (null: a vCPU resolving its own exit counts nothing here). */
export function decideFault(pages: PageStates, page: number, stats: FetcherStats | null): FaultDecision {
  if (stats) stats.faultRecords++;
  if (pages.claim(page)) return FAULT_REQUEST;
  if (pages.isPresent(page)) {
    if (stats) stats.alreadyPresent++;
    return FAULT_PRESENT;
  }
  if (stats) stats.mergedFaults++;
  return FAULT_MERGED;
}
