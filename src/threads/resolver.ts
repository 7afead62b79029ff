/**
 * The destination's side of one fault in the threaded engine, shared by the page fetcher (exit mode)
 * and the uffd handlers. The decision (request, merge, already present) and the counting are the
 * model's (src/model/fault-decision.ts, src/model/stats.ts); this file carries them out on real
 * threads: a request frame on the wire ring to the source, or a copy from the local image.
 */
import type { Clock } from './clock.js';
import type { Doorbell } from './doorbell.js';
import { assert } from '../errors.js';
import { EEXIST, type GuestMemory } from './guest-memory.js';
import { OVERWRITTEN, type Installer } from './installer.js';
import { FRAME_REQUEST } from './protocol.js';
import type { LocalImage } from '../model/image.js';
import type { WireRing } from './wire.js';
import { decideFault, FAULT_REQUEST } from '../model/fault-decision.js';
import { PAGE_FLAG_DEMAND, REQUEST_BYTES } from '../model/page-flags.js';
import { countInstalled, type FetcherStats } from '../model/stats.js';

export class FaultResolver {
  constructor(
    readonly stats: FetcherStats,
    private readonly mem: GuestMemory,
    private readonly installer: Installer,
    private readonly clock: Clock,
    /** network 'none': pages come from this local copy of the image (demand_paging_test) */
    private readonly local: LocalImage | null,
    /** otherwise: this thread's request ring to the source, and the source's doorbell */
    private readonly toSource: WireRing | null,
    private readonly sourceBell: Doorbell,
  ) {}

  /**
   * A page arrived (`arriveUs` per the link model, -1 when copied locally), its bytes in `words`
   * (exactly one page; null for a zero page): install it. `batchNowUs`: the receiver's clock reading
   * for its batch (see Installer.install). Allocates nothing.
   */
  readonly onPage = (page: number, flags: number, words: Int32Array | null, arriveUs = -1, batchNowUs = -1): void => {
    const stats = this.stats;
    const r = this.installer.install(page, words, flags, batchNowUs);
    if (r === EEXIST) {
      stats.eexist++;
      return;
    }
    if (r === OVERWRITTEN) {
      stats.overwritten++;
      return;
    }
    countInstalled(stats, flags);
    // How long a demanded page that had arrived (per the link model) waited for this thread.
    if (flags & PAGE_FLAG_DEMAND && arriveUs >= 0) stats.installLagUsTotal += Math.max(0, this.clock.nowUs() - arriveUs);
  };

  /** vCPU `vcpu` faulted on `page` with access `flags` (as its record carries them). */
  resolve(page: number, vcpu: number, flags: number): void {
    const stats = this.stats;
    if (decideFault(this.mem, page, stats) !== FAULT_REQUEST) return;
    if (this.local) {
      this.onPage(page, this.local.fill(page), this.local.words);
      return;
    }
    // At most one request per page and one fault per vCPU are in flight: the ring cannot fill.
    assert(this.toSource!.write(FRAME_REQUEST, page, vcpu, flags, this.clock.nowUs()), 'request ring full');
    stats.requestsSent++;
    stats.requestBytesSent += REQUEST_BYTES;
    this.sourceBell.ring();
  }
}
