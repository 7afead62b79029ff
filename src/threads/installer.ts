/**
 * What happens when a page arrives on the destination, shared by the page fetcher (every page in
 * exit mode; pushed pages in uffd mode, like QEMU's listen thread) and the uffd handlers (the pages
 * they asked for): UFFDIO_COPY, then the wake, then the migration-complete check.
 */
import type { Clock } from './clock.js';
import { EEXIST, type GuestMemory, INSTALLED } from './guest-memory.js';
import {
  ARRIVED_DEMAND,
  ARRIVED_PUSHED,
  ARRIVED_ZERO,
  CTL_GO,
  CTL_MIGRATION_DONE,
  CTL_PRESENT_PAGES,
  CTL_SWITCHED,
  TIME_GO_US,
  TIME_MIGRATION_DONE_US,
} from './layout.js';
import { PAGE_FLAG_DEMAND, PAGE_FLAG_PRECOPY, PAGE_FLAG_ZERO, type SharedState } from './protocol.js';
import type { UffdQueue } from './uffd-queue.js';
import { uffdOfPage } from '../model/memslots.js';

/** A precopy resend replaced a present page's bytes. */
export const OVERWRITTEN = 2;

export class Installer {
  private readonly arrivalMs: Float32Array;
  /** --wake-batch: copy with MODE_DONTWAKE, collect the pages, wake them with flushWakes(). */
  deferWakes = false;
  private readonly batch = new Int32Array(64);
  private batchN = 0;
  constructor(
    shared: SharedState,
    private readonly mem: GuestMemory,
    private readonly ctl: Int32Array,
    private readonly times: Float64Array,
    private readonly clock: Clock,
    /** uffd mode: the queues whose waiters a copy must wake, and which queue covers a page. */
    private readonly queues: UffdQueue[],
    private readonly pagesPerQueue: number,
  ) {
    this.arrivalMs = new Float32Array(shared.arrivalMsSab);
  }

  /**
   * Installs one page that travelled with frame `flags`, its bytes in `words` (exactly one page;
   * ignored for a zero page); returns INSTALLED, OVERWRITTEN or EEXIST. Allocates nothing.
   * `batchNowUs`: a clock reading of the caller's batch (-1: none), good enough as a pushed page's
   * install time for the memory map; a demanded page, whose install time the fault breakdown uses
   * (installed -> running), reads the clock itself (a read costs ~4% of a page's host time).
   */
  install(page: number, words: Int32Array | null, flags: number, batchNowUs = -1): number {
    const src = (flags & PAGE_FLAG_ZERO) !== 0 ? null : words;
    if ((flags & PAGE_FLAG_PRECOPY) !== 0 && this.mem.isPresent(page)) {
      // a precopy round resends a dirtied page
      this.mem.overwritePage(page, src);
      return OVERWRITTEN;
    }
    // How it came goes into the page's state word with the publish (the memory map reads it there).
    const how = ((flags & PAGE_FLAG_DEMAND) !== 0 ? ARRIVED_DEMAND : ARRIVED_PUSHED) | ((flags & PAGE_FLAG_ZERO) !== 0 ? ARRIVED_ZERO : 0);
    if (this.mem.installPage(page, src, how) === EEXIST) return EEXIST;
    // For the memory map and the fault breakdown: when it came (a plain store; read by the main thread
    // after the run or, for the live view, approximately: a torn read only misplaces one cell briefly).
    const nowUs = batchNowUs < 0 || (flags & PAGE_FLAG_DEMAND) !== 0 ? this.clock.nowUs() : batchNowUs;
    this.arrivalMs[page] = Math.max(0.001, (nowUs - this.times[TIME_GO_US]!) / 1000);
    if (this.queues.length) {
      if (!this.deferWakes) this.queues[uffdOfPage(page, this.queues.length, this.pagesPerQueue)]!.wake(page);
      else {
        this.batch[this.batchN++] = page;
        if (this.batchN === this.batch.length) this.flushWakes();
      }
    }
    if (Atomics.add(this.ctl, CTL_PRESENT_PAGES, 1) + 1 === this.mem.pages) this.checkDone();
    return INSTALLED;
  }

  /** UFFDIO_WAKE for the pages copied with DONTWAKE: one walk per run of contiguous pages. Allocates nothing. */
  flushWakes(): void {
    const b = this.batch,
      n = this.batchN;
    for (let i = 0; i < n; ) {
      let j = i + 1;
      while (j < n && b[j] === b[j - 1]! + 1) j++;
      this.queues[uffdOfPage(b[i]!, this.queues.length, this.pagesPerQueue)]!.wakeRange(b[i]!, j - i);
      i = j;
    }
    this.batchN = 0;
  }

  /** hybrid's switch: forget a stale page (it will come again by demand or push). */
  discard(page: number): void {
    if (!this.mem.discardPage(page)) return;
    this.arrivalMs[page] = 0;
    Atomics.sub(this.ctl, CTL_PRESENT_PAGES, 1);
  }

  /**
   * Every page is present: migration is complete, unless precopy is still running (hybrid: all
   * pages arrive in round 1, but some go stale before the switch).
   */
  checkDone(): void {
    if (Atomics.load(this.ctl, CTL_PRESENT_PAGES) !== this.mem.pages) return;
    if (!Atomics.load(this.ctl, CTL_GO) && !Atomics.load(this.ctl, CTL_SWITCHED)) return;
    if (Atomics.exchange(this.ctl, CTL_MIGRATION_DONE, 1) === 1) return;
    this.times[TIME_MIGRATION_DONE_US] = this.clock.nowUs();
    Atomics.notify(this.ctl, CTL_MIGRATION_DONE);
  }
}
