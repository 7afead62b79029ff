/**
 * The guest's own clock in a dilated run. With dilation D every modelled duration lasts D times
 * longer on the wall, the guest's compute included: each access takes `accessUs` (+ --think) of
 * modelled time, so a vCPU thread that needs less host time than that per access runs ahead of the
 * modelled clock, and one that was preempted falls behind it. The pacer keeps the two together:
 *
 *   ahead   accesses to present pages may run early (nothing else can see them), but the vCPU
 *           sleeps the lead off now and then, and before a fault (the page may arrive by then)
 *   behind  the guest clock jumps to now: modelled time never runs backwards, and a fault is
 *           never stamped in the past
 *
 * So the guest's accesses happen at their modelled times to within the slack, and the vCPU thread
 * sleeps most of the wall time, leaving the cores to the fetcher and the source.
 */
import type { Clock } from './clock.js';

/** How far (wall us) the guest may run ahead of or behind the modelled clock before the pacer acts. */
const SLACK_WALL_US = 200;

export class GuestPacer {
  /** Modelled time the guest has reached. */
  guestUs: number;
  private readonly stepUs: number;
  private readonly slackUs: number;
  private readonly every: number;
  private count = 0;
  private readonly sleepWord = new Int32Array(new SharedArrayBuffer(4));

  constructor(
    private readonly clock: Clock,
    accessUs: number,
    thinkUs: number,
    startUs: number,
  ) {
    this.guestUs = startUs;
    this.stepUs = accessUs + thinkUs;
    this.slackUs = SLACK_WALL_US / clock.dilation;
    // Look at the clock a few times per slack, but at least every 64 accesses (a clock read costs ~30 ns).
    this.every = Math.max(1, Math.min(64, Math.floor(this.slackUs / 4 / Math.max(this.stepUs, 1e-9))));
  }

  /** One access's compute and think time. */
  step(): void {
    this.guestUs += this.stepUs;
    if (++this.count >= this.every) {
      this.count = 0;
      const now = this.clock.nowUs();
      if (this.guestUs < now - this.slackUs) this.guestUs = now;
      else if (this.guestUs > now + this.slackUs) this.sleep(this.guestUs - now);
    }
  }

  /** Waits until the modelled clock reaches the guest's (before a fault, at the end); returns now. */
  catchUp(): number {
    let now = this.clock.nowUs();
    while (this.guestUs > now) {
      this.sleep(this.guestUs - now);
      now = this.clock.nowUs();
    }
    this.guestUs = now;
    return now;
  }

  /** A fault ended: the guest goes on from `nowUs`. */
  resumeAt(nowUs: number): void {
    this.guestUs = nowUs;
  }

  private sleep(modelledUs: number): void {
    Atomics.wait(this.sleepWord, 0, 0, (modelledUs * this.clock.dilation) / 1000);
  }
}
