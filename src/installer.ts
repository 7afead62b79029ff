/**
 * What happens when a page arrives on the destination, shared by the page fetcher (every page in
 * exit mode; pushed pages in uffd mode, like QEMU's listen thread) and the uffd handlers (the pages
 * they asked for): UFFDIO_COPY, then the wake, then the migration-complete check.
 */
import type { Clock } from './clock.js';
import { EEXIST, GuestMemory, INSTALLED } from './guest-memory.js';
import { CTL_MIGRATION_DONE, CTL_PRESENT_PAGES, TIME_MIGRATION_DONE_US } from './layout.js';
import type { UffdQueue } from './uffd-queue.js';

export class Installer {
  constructor(
    private readonly mem: GuestMemory,
    private readonly ctl: Int32Array,
    private readonly times: Float64Array,
    private readonly clock: Clock,
    /** uffd mode: the queues whose waiters a copy must wake, and which queue covers a page. */
    private readonly queues: UffdQueue[],
    private readonly pagesPerQueue: number,
  ) {}

  /** Installs one page; returns INSTALLED or EEXIST. Allocates nothing. */
  install(page: number, words: Int32Array | null, wordAt: number): number {
    if (this.mem.installPage(page, words, wordAt) === EEXIST) return EEXIST;
    if (this.queues.length) this.queues[uffdOfPage(page, this.queues.length, this.pagesPerQueue)]!.wake(page);
    if (Atomics.add(this.ctl, CTL_PRESENT_PAGES, 1) + 1 === this.mem.pages) {
      this.times[TIME_MIGRATION_DONE_US] = this.clock.nowUs();
      Atomics.store(this.ctl, CTL_MIGRATION_DONE, 1);
      Atomics.notify(this.ctl, CTL_MIGRATION_DONE);
    }
    return INSTALLED;
  }
}

/** Which uffd covers `page` when there is one per vCPU slice. */
export function uffdOfPage(page: number, queues: number, pagesPerQueue: number): number {
  return queues <= 1 ? 0 : Math.min(queues - 1, Math.floor(page / pagesPerQueue));
}
