/**
 * The states of one guest page on the destination (its stage-2 mapping), numbered once for both
 * engines. The threaded engine keeps them in an Int32Array changed only with Atomics (plus a WAITERS
 * bit of its own, src/threads/layout.ts); the virtual engine in a plain Uint8Array.
 *
 *   MISSING ──claim──▶ REQUESTED ──copy──▶ INSTALLING ──publish──▶ PRESENT
 *      ▲                                                             │
 *      └──────────────── discard (hybrid's switch to postcopy) ──────┘
 */
export const PAGE_MISSING = 0; // not on the destination; an access faults
export const PAGE_REQUESTED = 1; // a request for it is in flight to the source (or a local copy is under way)
/** Transient: one installer holds the page while it copies, so two copies can never interleave
 *  (the kernel holds the page-table lock across UFFDIO_COPY's install for the same reason). */
export const PAGE_INSTALLING = 2;
export const PAGE_PRESENT = 3; // mapped: accesses proceed without exiting
export const PAGE_STATE_MASK = 0x3;

/** What the fault decision needs to know of a page-state table, whatever stores it. */
export interface PageStates {
  /** MISSING -> REQUESTED, atomically; false when the page is already requested, being installed or present. */
  claim(page: number): boolean;
  isPresent(page: number): boolean;
}
