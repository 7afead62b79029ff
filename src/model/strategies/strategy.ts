/**
 * A postcopy strategy decides what the source sends when: the background push order, and which
 * extra pages ride along with a demanded one. Pure and single-threaded: the source host calls it
 * from its loop, tests call it directly. Adding a strategy is one file plus one line in index.ts.
 */

/**
 * What a strategy is, known before it runs: the options, both engines and the reports branch on
 * these, never on a strategy's name, so a new strategy with the same traits needs no other change.
 */
export interface StrategyTraits {
  /** Precopy rounds come first (a precopy phase, a switch and its downtime, discards of stale copies). */
  readonly precopy: boolean;
  /** The page size it works in (bytes), or null: the run's page size. */
  readonly pageSize: number | null;
  /** Demanded pages travel on their own urgent channel, not behind the bulk stream (postcopy-preempt). */
  readonly urgentChannel: boolean;
  /** Pushes in the background while the guest runs; false: pages move by demand until the guest is done. */
  readonly pushWhileGuestRuns: boolean;
}

/** The traits most strategies share: postcopy only, any page size, one channel, a background push. */
export const POSTCOPY_TRAITS: StrategyTraits = { precopy: false, pageSize: null, urgentChannel: false, pushWhileGuestRuns: true };

export interface StrategyEnv {
  pages: number;
  vcpus: number;
  /** hybrid: precopy rounds before the switch */
  precopyRounds: number;
}

export interface Strategy {
  readonly name: string;
  /** Demanded pages travel on their own urgent channel, not behind the bulk stream (postcopy-preempt). */
  readonly urgentChannel: boolean;
  /** Push in the background while the guest runs; false: only a final sweep once the guest is done. */
  readonly pushWhileGuestRuns: boolean;
  /**
   * A request for `page` from `vcpu` reached the source at `nowUs`. Appends to `prefetch` any extra
   * pages to send right after it (the source skips pages already sent).
   */
  onRequest(page: number, vcpu: number, nowUs: number, prefetch: number[]): void;
  /** The next page to push in the background, or -1 when every page has been sent. */
  nextPush(sent: Uint8Array): number;
  /** Precopy rounds before the switch to postcopy (hybrid); 0 or absent: pure postcopy. */
  readonly precopyRounds?: number;
}

/**
 * Address-order scan shared by several strategies: a cursor that wraps once round memory and can be
 * moved (QEMU restarts its dirty-page scan at a requested page). Amortised O(1) per page.
 */
export class Scan {
  private cursor = 0;
  private scanned = 0; // pages looked at since the last jump, to stop after a full lap
  constructor(private readonly pages: number) {}
  moveTo(page: number): void {
    this.cursor = page;
    this.scanned = 0;
  }
  next(sent: Uint8Array): number {
    while (this.scanned < this.pages) {
      const p = this.cursor;
      this.cursor = p + 1 === this.pages ? 0 : p + 1;
      this.scanned++;
      if (!sent[p]) return p;
    }
    return -1;
  }
}
