/**
 * Hybrid's precopy rounds, decided the same way in both engines: round 0 sends every page while the
 * guest still runs on the source; during a round the guest dirties pages at the dirty rate, hot
 * pages more often (zipf over memory, as the workloads' hot sets), and the next round resends what
 * was dirtied. What is dirty when the rounds end is discarded at the destination at the switch.
 */
import type { ResolvedOptions } from '../options.js';
import { Rng, Zipf } from './rng.js';

export class PrecopyRounds {
  private readonly rng: Rng;
  private readonly hot: Zipf;
  constructor(private readonly opts: ResolvedOptions) {
    this.rng = new Rng(opts.seed, 0x5eed);
    this.hot = new Zipf(opts.pages, opts.zipfExponent);
  }

  /** The pages the guest dirtied during a round that lasted `roundUs`, each once, in first-write order. */
  dirtied(roundUs: number): number[] {
    const o = this.opts;
    const writes = Math.round((o.dirtyRateBytesPerSec / o.pageSize) * (roundUs / 1e6));
    const dirty = new Uint8Array(o.pages);
    const out: number[] = [];
    for (let w = 0; w < writes; w++) {
      const p = this.hot.sample(this.rng);
      if (!dirty[p]) { dirty[p] = 1; out.push(p); }
    }
    return out;
  }
}
