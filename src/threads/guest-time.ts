/**
 * Guest compute time between a trace's accesses, on a real thread: the recorded program ran this
 * long between two page faults, so the replaying vCPU takes that long too before its next access.
 *
 * Gaps are mostly microseconds (a few page faults' worth), below what a sleep can hit (Atomics.wait
 * wakes 50-100 us late here), so the vCPU spins on the clock like the guest's own instructions would
 * keep its CPU busy; only a long gap sleeps first, and wakes a millisecond early to spin the rest.
 * The schedule is kept against a due time rather than "now + gap", so the loop's own cost per access
 * does not pile up over a replay; a fault resets it (the guest computes after it resumes).
 */
import { CTL_ABORT } from './layout.js';
import type { Clock } from './clock.js';

/** Longer gaps than this (wall us) sleep first. */
const SLEEP_ABOVE_US = 2000;
/** A long sleep checks for an aborted run at least this often. */
const SLEEP_SLICE_MS = 50;

export class GuestTime {
  private dueUs: number;
  private readonly sleepWord = new Int32Array(new SharedArrayBuffer(4));
  constructor(
    private readonly clock: Clock,
    private readonly ctl: Int32Array,
    startUs: number,
  ) {
    this.dueUs = startUs;
  }

  /** The guest resumed from a fault at `nowUs`: the next gap starts there. */
  resumed(nowUs: number): void {
    if (nowUs > this.dueUs) this.dueUs = nowUs;
  }

  /** Waits until `gapUs` after the previous access's due time. False when the run was aborted. */
  compute(gapUs: number): boolean {
    this.dueUs += gapUs;
    const due = this.dueUs;
    // The gap is modelled time; sleeps and spins are wall time, D times longer in a dilated run.
    const d = this.clock.dilation;
    let left = (due - this.clock.nowUs()) * d;
    while (left > SLEEP_ABOVE_US) {
      if (Atomics.load(this.ctl, CTL_ABORT)) return false;
      Atomics.wait(this.sleepWord, 0, 0, Math.min(SLEEP_SLICE_MS, (left - SLEEP_ABOVE_US / 2) / 1000));
      left = (due - this.clock.nowUs()) * d;
    }
    while (this.clock.nowUs() < due) {
      /* the guest computes */
    }
    return true;
  }
}
