/**
 * Hybrid's precopy rounds, decided the same way in both engines: round 0 sends every page while the
 * guest still runs on the source; during a round the guest writes pages, and the next round resends
 * what was written. What is dirty when the rounds end is discarded at the destination at the switch.
 *
 * Which pages the guest writes is the guest's own workload: each vCPU's AccessStream, built exactly
 * as the vCPU builds it on the destination (same seed, same range, same hot set), run until the
 * round's writes are done. The dirty rate says how many writes a round of that length holds
 * (`dirtyRate / pageSize` page writes per second); the workload says where they land. A guest that
 * never writes (write ratio 0, or a trace without W lines) dirties nothing.
 *
 * A write changes the page on the source, so each dirtied page's version goes up by one (the image's
 * content is keyed by it, src/model/image.ts): a copy sent before the write is stale in every word.
 */
import type { ResolvedOptions } from './config.js';
import type { TraceOpener } from './trace-source.js';
import { pageOfGpa } from './memslots.js';
import { AccessStream, vcpuRange } from './workload.js';

/** Accesses run per write asked for, at most: bounds the loop for a guest that rarely writes (write ratio >= 1/256). */
const ACCESSES_PER_WRITE_MAX = 256;

export class PrecopyRounds {
  private readonly streams: AccessStream[];
  private nextVcpu = 0;
  /**
   * Each page's version on the source (both engines send a written page by its version: a zero page
   * the guest wrote is no longer zero). The threaded engine passes its shared array, which its proof
   * reads; otherwise the rounds keep their own.
   */
  readonly versions: Uint8Array;

  constructor(
    private readonly opts: ResolvedOptions,
    openTrace: TraceOpener,
    versions: Uint8Array | null = null,
  ) {
    this.versions = versions ?? new Uint8Array(opts.pages);
    this.streams = Array.from({ length: opts.vcpus }, (_, v) => new AccessStream(opts.workload, vcpuRange(opts, v), opts, v, openTrace(v)));
  }

  /** The pages the guest wrote during a round that lasted `roundUs`, each once, in first-write order. */
  dirtied(roundUs: number): number[] {
    const o = this.opts;
    const writes = Math.round((o.dirtyRateBytesPerSec / o.pageSize) * (roundUs / 1e6));
    const out: number[] = [];
    if (writes <= 0 || (o.workload !== 'trace' && o.writeRatio <= 0)) return out;
    const dirty = new Uint8Array(o.pages);
    const limit = writes * ACCESSES_PER_WRITE_MAX;
    for (let done = 0, n = 0; done < writes && n < limit; n++) {
      const s = this.streams[this.nextVcpu]!; // the vCPUs take turns, as they run side by side
      this.nextVcpu = this.nextVcpu + 1 === this.streams.length ? 0 : this.nextVcpu + 1;
      s.next();
      if (!s.write) continue;
      done++;
      const p = s.page >= 0 ? s.page : pageOfGpa(o.memslots, o.pageSize, s.gpa);
      if (p >= 0 && !dirty[p]) {
        dirty[p] = 1;
        out.push(p);
      }
    }
    for (const p of out) this.versions[p] = this.versions[p]! + 1;
    return out;
  }
}

/**
 * The injected bug install-old-version (both engines): the page whose copy, one version old, arrives
 * after its resend and overwrites it: the first page the guest wrote during precopy that is not stale
 * at the switch (a stale one is discarded, which would hide the bug). -1: there is none.
 */
export function oldCopyPage(versions: Uint8Array, stale: readonly number[]): number {
  const isStale = new Set(stale);
  for (let p = 0; p < versions.length; p++) if (versions[p]! >= 1 && !isStale.has(p)) return p;
  return -1;
}
