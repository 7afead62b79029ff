/**
 * The regions workload: a guest whose memory is regions of heavy-tailed sizes, picked by zipf
 * popularity, walked in sequential runs, each region with its own write ratio, and a hot set that
 * moves every phase. It exists because the zipf workload scatters its hot pages (neighbours are
 * never hot together), which leaves the strategies that bet on spatial locality nothing to find.
 *
 * The pieces, and why (defaults and their sources: docs/guests.md):
 *  - sizes: a program's memory is a few large areas (heap arenas, buffers, mapped files) and many
 *    small ones: Pareto(scale regionMinPages, shape regionTail), each at most 1/8 of the range so
 *    the hot set always has somewhere to move;
 *  - popularity: zipf over regions (rank 0 hottest), with the zipf workload's exponent;
 *  - runs: a run starts at a uniform page of its region and walks forward a geometric number of
 *    pages (mean runPages), wrapping inside the region;
 *  - writes: a region writes with probability writeRatio x Exp(1), capped at 1: read-mostly regions
 *    (code, tables) next to write-heavy ones (buffers), averaging about writeRatio;
 *  - phases: every phaseAccesses accesses of a vCPU the popularity ranks are dealt out to the
 *    regions anew, so the hot set moves (0: never).
 *
 * The layout depends only on the seed and the range, so vCPUs that share a range share it, as the
 * threads of one program share its heap, and every vCPU deals the same hot set in the same phase;
 * each vCPU draws its own runs. Nothing is allocated per access.
 */
import { Rng, Zipf } from './rng.js';

export interface RegionParams {
  seed: number;
  regionMinPages: number;
  regionTail: number;
  runPages: number;
  phaseAccesses: number;
  zipfExponent: number;
  writeRatio: number;
}

/** Streams of the run's seed used here, above any vCPU's (vCPU v draws from stream v). */
const LAYOUT_STREAM = 1 << 20;
const PHASE_STREAM = 1 << 21;

/** Regions over `pages` pages: region r is [starts[r], starts[r + 1]), relative to the range. */
export interface RegionLayout {
  readonly count: number;
  readonly starts: Int32Array;
  readonly writeRatio: Float32Array;
}

/** Layouts already built, by key: the virtual engine's vCPUs share one instead of building hundreds. */
const layouts = new Map<string, RegionLayout>();

export function regionLayout(first: number, pages: number, p: RegionParams): RegionLayout {
  const key = `${p.seed}/${first}/${pages}/${p.regionMinPages}/${p.regionTail}/${p.writeRatio}`;
  let l = layouts.get(key);
  if (!l) {
    if (layouts.size >= 64) layouts.clear();
    l = buildLayout(pages, p, new Rng(p.seed, LAYOUT_STREAM + (first % LAYOUT_STREAM)));
    layouts.set(key, l);
  }
  return l;
}

function buildLayout(pages: number, p: RegionParams, rng: Rng): RegionLayout {
  const min = Math.min(p.regionMinPages, pages);
  const max = Math.max(min, Math.floor(pages / 8));
  const starts: number[] = [0];
  for (let at = 0; at < pages; ) {
    // Pareto by inversion: min / U^(1/alpha), U in (0, 1].
    let size = Math.floor(min / (1 - rng.next()) ** (1 / p.regionTail));
    if (size > max) size = max;
    if (pages - at - size < min) size = pages - at; // the last region takes a remainder too small to stand alone
    at += size;
    starts.push(at);
  }
  const count = starts.length - 1;
  const writeRatio = new Float32Array(count);
  for (let r = 0; r < count; r++) writeRatio[r] = Math.min(1, p.writeRatio * -Math.log(1 - rng.next()));
  return { count, starts: Int32Array.from(starts), writeRatio };
}

/** One vCPU's walk over a layout: after next(), `page` (relative to the range) and `write`. */
export class RegionWalker {
  page = 0;
  write = false;
  private readonly zipf: Zipf;
  /** popularity rank -> region, dealt anew each phase */
  private readonly rankToRegion: Int32Array;
  private region = 0;
  private offset = 0;
  private left = 0;
  private inPhase = 0;
  private phase = 0;
  private readonly logStay: number;

  constructor(
    readonly layout: RegionLayout,
    private readonly p: RegionParams,
    private readonly first: number,
  ) {
    this.zipf = new Zipf(layout.count, p.zipfExponent);
    this.rankToRegion = new Int32Array(layout.count);
    // A run continues past each page with probability 1 - 1/runPages: geometric, mean runPages.
    this.logStay = p.runPages > 1 ? Math.log(1 - 1 / p.runPages) : 0;
    this.deal();
  }

  next(rng: Rng): void {
    if (this.left === 0) this.startRun(rng);
    const l = this.layout,
      r = this.region;
    const start = l.starts[r]!,
      size = l.starts[r + 1]! - start;
    this.page = start + this.offset;
    this.offset = this.offset + 1 === size ? 0 : this.offset + 1;
    this.left--;
    const wr = l.writeRatio[r]!;
    this.write = wr > 0 && rng.next() < wr;
    if (this.p.phaseAccesses > 0 && ++this.inPhase === this.p.phaseAccesses) {
      this.inPhase = 0;
      this.phase++;
      this.deal();
    }
  }

  private startRun(rng: Rng): void {
    const l = this.layout;
    this.region = this.rankToRegion[this.zipf.sample(rng)]!;
    const size = l.starts[this.region + 1]! - l.starts[this.region]!;
    this.offset = rng.below(size);
    const run = this.logStay === 0 ? 1 : 1 + Math.floor(Math.log(1 - rng.next()) / this.logStay);
    this.left = Math.min(run, size);
  }

  /** Deals the ranks to regions for the current phase (Fisher-Yates from the phase's own stream). */
  private deal(): void {
    const perm = this.rankToRegion;
    for (let i = 0; i < perm.length; i++) perm[i] = i;
    const rng = new Rng(this.p.seed ^ this.first, PHASE_STREAM + this.phase);
    for (let i = perm.length - 1; i > 0; i--) {
      const j = rng.below(i + 1);
      const t = perm[i]!;
      perm[i] = perm[j]!;
      perm[j] = t;
    }
  }
}
