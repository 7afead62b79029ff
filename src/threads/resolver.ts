/**
 * The destination's side of one fault, shared by the page fetcher (exit mode) and the uffd handlers:
 * merge a fault on a page already in flight, else ask the source for it (or, with network 'none',
 * copy it from the local image at once), and install what arrives, counting how each page came.
 */
import type { Clock } from './clock.js';
import type { Doorbell } from './doorbell.js';
import { assert } from '../errors.js';
import { EEXIST, type GuestMemory } from './guest-memory.js';
import { OVERWRITTEN, type Installer } from './installer.js';
import { FRAME_REQUEST, PAGE_FLAG_DEMAND, PAGE_FLAG_ZERO, packr, type FetcherStats, type PageRequestFrame } from './protocol.js';
import type { LocalImage } from '../model/image.js';
import type { WireRing } from './wire.js';

export function newFetcherStats(role: FetcherStats['role']): FetcherStats {
  return {
    role, faultRecords: 0, requestsSent: 0, mergedFaults: 0, alreadyPresent: 0, installedDemand: 0,
    installedPushed: 0, installedZero: 0, eexist: 0, framesReceived: 0, bytesReceived: 0, requestBytesSent: 0, uffdReads: 0, sleeps: 0,
    discarded: 0, overwritten: 0, recordLagUsTotal: 0, installLagUsTotal: 0,
  };
}

export class FaultResolver {
  private readonly request: PageRequestFrame = [FRAME_REQUEST, 0, 0, 0];

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

  /** A page arrived (`arriveUs` per the link model, -1 when copied locally): install it. Allocates nothing. */
  readonly onPage = (page: number, flags: number, words: Int32Array, wordAt: number, arriveUs = -1): void => {
    const stats = this.stats;
    const r = this.installer.install(page, words, wordAt, flags);
    if (r === EEXIST) { stats.eexist++; return; }
    if (r === OVERWRITTEN) { stats.overwritten++; return; }
    if (flags & PAGE_FLAG_ZERO) stats.installedZero++;
    if (flags & PAGE_FLAG_DEMAND) {
      stats.installedDemand++;
      // How long a demanded page that had arrived (per the link model) waited for this thread.
      if (arriveUs >= 0) stats.installLagUsTotal += Math.max(0, this.clock.nowUs() - arriveUs);
    } else stats.installedPushed++;
  };

  /** vCPU `vcpu` faulted on `page` with access `flags` (as its record carries them). */
  resolve(page: number, vcpu: number, flags: number): void {
    const stats = this.stats;
    stats.faultRecords++;
    if (this.mem.markRequested(page)) {
      if (this.local) { this.onPage(page, this.local.fill(page), this.local.words, 0); return; }
      const request = this.request;
      request[1] = page;
      request[2] = vcpu;
      request[3] = flags;
      const bytes = packr.pack(request);
      // At most one request per page and one fault per vCPU are in flight: the ring cannot fill.
      assert(this.toSource!.write(bytes, null, this.clock.nowUs()), 'request ring full');
      stats.requestsSent++;
      stats.requestBytesSent += bytes.byteLength;
      this.sourceBell.ring();
    } else if (this.mem.isPresent(page)) {
      stats.alreadyPresent++; // installed between the vCPU's lookup and now: it will see it
    } else {
      stats.mergedFaults++; // one request per page is in flight; this fault waits for the same copy
    }
  }
}
