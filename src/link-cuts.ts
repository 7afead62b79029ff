/**
 * Link cuts asked for while a run plays (the demo's "Cut the link"): each is an outage of the whole
 * link, in modelled us, from the instant the engine takes it. The virtual engine takes them between
 * two events (through its PlaybackControl); the threaded engine's monitor hands them to the source
 * thread through shared memory (src/threads/monitor.ts), which pauses the migration and recovers as
 * a planned `--inject link-down` would.
 */
export class LinkCutQueue {
  private readonly cuts: number[] = [];

  /** Cuts the link now (both channels) for `durationUs` of modelled time. */
  cutLink(durationUs: number): void {
    this.cuts.push(durationUs);
  }

  /** The next link cut asked for (undefined: none). */
  takeCut(): number | undefined {
    return this.cuts.shift();
  }
}
