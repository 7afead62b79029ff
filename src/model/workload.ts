/**
 * Seeded, deterministic guest workloads. A generator yields one access at a time into its own fields
 * (page, word, write) so the vCPU's access loop allocates nothing. Each vCPU gets its own stream of
 * the run's seed, so a run replays exactly from its seed.
 *
 *  sequential  scan the range page by page, wrapping around
 *  random      uniform over the range
 *  zipf        a zipfian hot set (exponent zipfExponent), hot pages scattered over the range
 *  regions     heavy-tailed regions, zipf over regions, sequential runs, moving hot set (regions.ts)
 *  trace       a recorded stream of (R|W|X, gpa) per vCPU (src/trace/replay.ts); the vCPU translates the gpa and
 *              waits `gapUs` of guest time before the access (the recorded time between accesses)
 *
 * With `partition`, vCPU v's range is its own slice (demand_paging_test's default); otherwise every
 * vCPU ranges over all of memory (sequential scans then start at staggered offsets).
 */
import type { ResolvedOptions, Workload } from './config.js';
import { RegionWalker, regionLayout } from './regions.js';
import { Rng, Zipf } from './rng.js';
import type { TraceSource } from './trace-source.js';
import { Access } from './uapi.js';

export interface Range {
  first: number;
  count: number;
}

/** The pages vCPU `vcpu` ranges over. */
export function vcpuRange(opts: Pick<ResolvedOptions, 'pages' | 'vcpus' | 'partition'>, vcpu: number): Range {
  if (!opts.partition) return { first: 0, count: opts.pages };
  const per = Math.floor(opts.pages / opts.vcpus);
  const first = vcpu * per;
  const count = vcpu === opts.vcpus - 1 ? opts.pages - first : per;
  return { first, count };
}

/** A multiplier coprime with n, so (rank * m) mod n scatters ranks over the range bijectively. */
function scatterMultiplier(n: number): number {
  const candidates = [2654435761, 2246822519, 3266489917, 668265263, 374761393];
  for (const c of candidates) if (gcd(c % n || 1, n) === 1) return c % n || 1;
  return 1;
}
function gcd(a: number, b: number): number {
  while (b) {
    [a, b] = [b, a % b];
  }
  return a;
}

export class AccessStream {
  /** The page touched (dense index); -1 for trace accesses, whose `gpa` the vCPU translates. */
  page = 0;
  gpa = 0;
  word = 0;
  write = false;
  access: Access = Access.Read;
  /** Guest time before this access, in us: the recorded gap of a trace, 0 for synthetic workloads. */
  gapUs = 0;
  private readonly rng: Rng;
  private readonly regions: RegionWalker | null;
  private readonly zipf: Zipf | null;
  private readonly scatter: number;
  private cursor: number;
  private n = 0;
  private readonly dataWords: number;
  private readonly firstDataWord: number;

  constructor(
    readonly kind: Workload,
    readonly range: Range,
    opts: Pick<
      ResolvedOptions,
      'seed' | 'vcpus' | 'writeRatio' | 'zipfExponent' | 'pageSize' | 'partition' | 'regionMinPages' | 'regionTail' | 'runPages' | 'phaseAccesses'
    >,
    vcpu: number,
    private readonly trace: TraceSource | null = null,
    /** The first word of a page after its header: only the threaded engine reads words (its page layout, src/threads/layout.ts). */
    writeSlotBase = 0,
  ) {
    this.wordsPerPage = opts.pageSize >>> 2;
    this.rng = new Rng(opts.seed, vcpu);
    this.zipf = kind === 'zipf' ? new Zipf(range.count, opts.zipfExponent) : null;
    this.regions = kind === 'regions' ? new RegionWalker(regionLayout(range.first, range.count, opts), opts, range.first) : null;
    this.scatter = scatterMultiplier(range.count);
    this.cursor = opts.partition ? 0 : Math.floor((range.count * vcpu) / opts.vcpus);
    this.writeRatio = opts.writeRatio;
    // Reads check a data word; the write slots (one per vCPU) and the last word are excluded.
    this.firstDataWord = writeSlotBase + opts.vcpus;
    this.dataWords = (opts.pageSize >>> 2) - this.firstDataWord - 1;
  }
  private readonly writeRatio: number;
  private readonly wordsPerPage: number;

  /** Advances to the next access. */
  next(): void {
    const count = this.range.count;
    let rel: number;
    switch (this.kind) {
      case 'sequential':
        rel = this.cursor;
        this.cursor = rel + 1 === count ? 0 : rel + 1;
        break;
      case 'random':
        rel = this.rng.below(count);
        break;
      case 'zipf':
        rel = (this.zipf!.sample(this.rng) * this.scatter) % count;
        break;
      case 'regions': {
        const r = this.regions!;
        r.next(this.rng);
        this.page = this.range.first + r.page;
        this.write = r.write;
        this.access = this.write ? Access.Write : Access.Read;
        this.word = this.firstDataWord + ((this.n++ * 7919) % this.dataWords);
        return;
      }
      case 'trace': {
        const t = this.trace!;
        t.next();
        this.gpa = t.gpa;
        this.gapUs = t.gapUs;
        this.access = t.access;
        this.write = this.access === Access.Write;
        this.page = -1;
        // Reads check a data word: the gpa's own word unless it is a write slot or the last word.
        const w = Math.floor((this.gpa % (this.wordsPerPage * 4)) / 4);
        this.word = w >= this.firstDataWord && w < this.wordsPerPage - 1 ? w : this.firstDataWord;
        return;
      }
    }
    this.page = this.range.first + rel;
    this.write = this.writeRatio > 0 && this.rng.next() < this.writeRatio;
    this.access = this.write ? Access.Write : Access.Read;
    this.word = this.firstDataWord + ((this.n++ * 7919) % this.dataWords);
  }
}
