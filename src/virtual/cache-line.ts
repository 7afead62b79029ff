/**
 * One shared kernel cache line (a lock word, a refcount, a list head, a wait entry) as the
 * coherence protocol sees it: the core that wrote it last owns it, the cores that read it since
 * share it. A read by a sharer is a hit; a read by anyone else, or a write or atomic by a core that
 * is not its sole owner, moves the line: a transfer. Transfers on one line are serialised (the
 * line is in one place at a time), and each costs more when more cores ask for the line at once:
 *
 *   transfer(k) = lineUs x (1 + lineGrowth x (k - 1)),   k = cores requesting the line at that moment
 *
 * the linear form of Boyd-Wickizer et al., "Non-scalable locks are dangerous" (Linux Symposium
 * 2012), where the directory serves the requests one at a time; David et al., SOSP 2013, measure
 * the same fall of a contended atomic's throughput on multi-socket hosts. The parameters come from
 * the cost profile (src/virtual/costs.ts), where each says where it came from.
 *
 * Sharers are a bitset over thread ids (a thread stands for the core it runs on: the model keeps a
 * thread on one core while it holds a line). Nothing here allocates after construction, except a
 * bitset or queue that has to grow (rarely: it doubles).
 */

/** The two parameters of a transfer's cost. */
export interface LineCostParams {
  /** one transfer with nobody else asking (us) */
  lineUs: number;
  /** the fraction of lineUs each further concurrent requester adds to a transfer */
  lineGrowth: number;
}

/** What one transfer costs with `k` cores requesting the line at once (k >= 1). */
export function transferUs(p: LineCostParams, k: number): number {
  return p.lineUs * (1 + p.lineGrowth * (k > 1 ? k - 1 : 0));
}

export class CacheLine {
  /** the thread that wrote it last (-1: nobody yet, the line is in memory) */
  owner = -1;
  /** bit per thread: has a valid copy (the owner included); stale while `exclusive` */
  private sharers: Uint32Array;
  private sharerCount = 0;
  /** only the owner holds the line (its last write invalidated the rest): the bitset is not kept up
   *  to date then, so a lock word taken over and over costs no bitset clearing */
  private exclusive = false;
  /** When each transfer still in flight or queued on this line completes (a ring, ascending). */
  private ends: Float64Array;
  private head = 0;
  private size = 0;
  /** when the line is free for the next transfer */
  busyUntilUs = 0;
  transfers = 0;
  hits = 0;
  /** the most cores that ever asked for it at once */
  peakContenders = 0;
  transferUsTotal = 0;

  constructor(
    readonly name: string,
    threads = 64,
  ) {
    this.sharers = new Uint32Array(Math.max(1, (threads + 31) >>> 5));
    this.ends = new Float64Array(16);
  }

  private has(id: number): boolean {
    if (this.exclusive) return id === this.owner;
    const w = id >>> 5;
    return w < this.sharers.length && (this.sharers[w]! & (1 << (id & 31))) !== 0;
  }

  private add(id: number): void {
    const w = id >>> 5;
    if (w >= this.sharers.length) {
      const b = new Uint32Array(Math.max(w + 1, this.sharers.length * 2));
      b.set(this.sharers);
      this.sharers = b;
    }
    if ((this.sharers[w]! & (1 << (id & 31))) === 0) {
      this.sharers[w]! |= 1 << (id & 31);
      this.sharerCount++;
    }
  }

  private invalidateOthers(id: number): void {
    this.owner = id;
    this.exclusive = true;
  }

  /** Leaves exclusive state: the bitset holds the owner alone again. */
  private share(): void {
    if (!this.exclusive) return;
    this.exclusive = false;
    this.sharers.fill(0);
    this.sharerCount = 0;
    if (this.owner >= 0) this.add(this.owner);
  }

  /**
   * How many cores are using or waiting for the line at `atUs`, a newcomer not counted: the
   * transfers queued before it that have not completed yet.
   */
  contenders(atUs: number): number {
    const mask = this.ends.length - 1; // a power of two
    while (this.size > 0 && this.ends[this.head]! <= atUs) {
      this.head = (this.head + 1) & mask;
      this.size--;
    }
    return this.size;
  }

  /** Remembers that the line is in use until `endUs` (a transfer, or a lock held on it). */
  occupy(endUs: number): void {
    if (this.size === this.ends.length) {
      const b = new Float64Array(this.ends.length * 2);
      for (let i = 0; i < this.size; i++) b[i] = this.ends[(this.head + i) % this.ends.length]!;
      this.ends = b;
      this.head = 0;
    }
    this.ends[(this.head + this.size) & (this.ends.length - 1)] = endUs;
    this.size++;
    if (endUs > this.busyUntilUs) this.busyUntilUs = endUs;
  }

  /** The transfer cost a request by `id` at `atUs` would pay (0: a hit), without taking the line. */
  private costOf(p: LineCostParams, atUs: number, maxRequesters = Infinity): number {
    const k = Math.min(maxRequesters, this.contenders(atUs) + 1);
    if (k > this.peakContenders) this.peakContenders = k;
    this.transfers++;
    const cost = transferUs(p, k);
    this.transferUsTotal += cost;
    return cost;
  }

  /**
   * Thread `id` reads the line at `atUs`: a sharer hits (returns atUs); anyone else waits for the
   * line's earlier transfers, then pays one transfer and becomes a sharer. Returns when it has it.
   */
  read(id: number, atUs: number, p: LineCostParams): number {
    if (this.has(id)) {
      this.hits++;
      return atUs;
    }
    const cost = this.costOf(p, atUs);
    const done = Math.max(atUs, this.busyUntilUs) + cost;
    this.occupy(done);
    this.share();
    this.add(id);
    return done;
  }

  /**
   * Thread `id` writes the line (a store, or an atomic read-modify-write) at `atUs`: free when it
   * is already the line's only holder, else one transfer after the earlier ones. Returns when done.
   */
  write(id: number, atUs: number, p: LineCostParams): number {
    if (this.owner === id && (this.exclusive || this.sharerCount === 1)) {
      this.hits++;
      return atUs;
    }
    const cost = this.costOf(p, atUs);
    const done = Math.max(atUs, this.busyUntilUs) + cost;
    this.occupy(done);
    this.invalidateOthers(id);
    return done;
  }

  /**
   * A lock word taken by `id` at `atUs` whose hand-over the caller orders (src/virtual/kernel.ts
   * Serial): the transfer it pays on taking the word (0 when it holds the line already), with the
   * requests still queued on the word counted as contenders, at most `maxRequesters` of them (how
   * many cores can be asking for the word at once, by the primitive). The caller occupy()s the
   * line until it lets go.
   */
  acquireUs(id: number, atUs: number, p: LineCostParams, maxRequesters = Infinity): number {
    if (this.owner === id && (this.exclusive || this.sharerCount === 1)) {
      this.hits++;
      return 0;
    }
    const cost = this.costOf(p, atUs, maxRequesters);
    this.invalidateOthers(id);
    return cost;
  }

  /** True when `id` would hit on a read now. */
  isSharedBy(id: number): boolean {
    return this.has(id);
  }
}
