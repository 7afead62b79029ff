/**
 * Spatial locality of a guest, measured the way postcopy meets it: on first touches (a page's first
 * access by any vCPU is the fault a postcopy destination takes), per vCPU, as the distance from that
 * vCPU's previous first touch. It says what a push around the latest fault can win:
 *
 *   linear     after a fault at p the scan restarts at p+1, p+2, ...: it covers the next touches
 *              ahead of p (forward), one page per page time;
 *   prepaging  bubbles p+1, p-1, p+2, p-2, ...: it also covers the touches just behind p (backward),
 *              but reaches forward ones half as fast.
 *
 * So prepaging can beat linear only by the share of backward-near touches, and either can win only
 * when the guest takes longer between two first touches than the link takes for a few pages (the
 * gap, for a recorded trace). Pure; fed one access at a time.
 */

export interface LocalitySummary {
  accesses: number;
  firstTouches: number;
  /** shares of first touches (after a vCPU's first), by distance d from its previous first touch */
  nextPage: number;
  forwardNear: number;
  backwardNear: number;
  far: number;
  /** the window `near` means, in pages */
  windowPages: number;
  /** time between a vCPU's consecutive first touches, in us (null without timestamps) */
  gapUsP50: number | null;
  gapUsMean: number | null;
}

export class Locality {
  private readonly seen = new Set<number>();
  private readonly prevPage = new Map<number, number>();
  private readonly prevUs = new Map<number, number>();
  private readonly gaps: number[] = [];
  private accesses = 0;
  private first = 0;
  private plusOne = 0;
  private forward = 0;
  private backward = 0;
  private farAway = 0;
  private timed = false;

  constructor(readonly windowPages = 16) {}

  /** One access of `vcpu` to `page` at `timeUs` (pass NaN when the workload has no time). */
  add(vcpu: number, page: number, timeUs: number): void {
    this.accesses++;
    if (this.seen.has(page)) return;
    this.seen.add(page);
    this.first++;
    const prev = this.prevPage.get(vcpu);
    this.prevPage.set(vcpu, page);
    if (!Number.isNaN(timeUs)) {
      const t0 = this.prevUs.get(vcpu);
      if (t0 !== undefined) this.gaps.push(timeUs - t0);
      this.prevUs.set(vcpu, timeUs);
      this.timed = true;
    }
    if (prev === undefined) return;
    const d = page - prev;
    if (d === 1) this.plusOne++;
    if (d > 0 && d <= this.windowPages) this.forward++;
    else if (d < 0 && d >= -this.windowPages) this.backward++;
    else this.farAway++;
  }

  summary(): LocalitySummary {
    const n = this.forward + this.backward + this.farAway;
    const share = (x: number) => (n ? Math.round((x / n) * 1000) / 1000 : 0);
    const sorted = this.timed ? [...this.gaps].sort((a, b) => a - b) : [];
    const mean = sorted.length ? sorted.reduce((a, b) => a + b, 0) / sorted.length : null;
    return {
      accesses: this.accesses,
      firstTouches: this.first,
      nextPage: share(this.plusOne),
      forwardNear: share(this.forward),
      backwardNear: share(this.backward),
      far: share(this.farAway),
      windowPages: this.windowPages,
      gapUsP50: sorted.length ? round2(sorted[Math.floor(sorted.length / 2)]!) : null,
      gapUsMean: mean === null ? null : round2(mean),
    };
  }
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}
