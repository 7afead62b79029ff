/**
 * A doorbell for a service thread that polls MessagePorts (fetcher, source, uffd handlers).
 *
 * Senders post their message, then ring: bump the bell word and, only if a receiver is asleep,
 * Atomics.notify it. Receivers take a snapshot of the bell before polling; when polling finds nothing
 * they spin on the bell for a while (a wake-up on the other core costs ~45 us on these VMs, a spin
 * sees a change in ~0.1 us), then announce that they sleep and Atomics.wait on the snapshot.
 * Because the sleeper's "I sleep" store and the sender's "anyone asleep?" load are both
 * sequentially consistent, either the sender sees the sleeper or the sleeper sees the new bell.
 */

import { wallUsUntil, type Clock } from './clock.js';

/** Receivers spin, rather than sleep, through a wait for a frame due this soon (fetcher, handlers; wall us). */
export const HOLD_SPIN_US = 200;
/** A receiver with nothing due sleeps at most this long (wall us) before it looks again. */
export const IDLE_WALL_US = 20_000;

export class Doorbell {
  /** How often this side slept (a wake-up costs ~25-45 us on these VMs): a health metric. */
  sleeps = 0;
  constructor(
    private readonly words: Int32Array,
    private readonly bell: number,
    private readonly sleepers: number,
  ) {}

  ring(): void {
    Atomics.add(this.words, this.bell, 1);
    if (Atomics.load(this.words, this.sleepers) !== 0) Atomics.notify(this.words, this.bell);
  }

  snapshot(): number {
    return Atomics.load(this.words, this.bell);
  }

  /**
   * Waits until the bell moved past `seen` or `timeoutUs` passed: spins for up to `spinUs`, then
   * sleeps. All three are wall time (`nowUs` is a wall clock): spinning and sleeping are the
   * simulator's mechanics, not modelled durations. Returns true if the bell rang.
   */
  wait(seen: number, spinUs: number, timeoutUs: number, nowUs: () => number): boolean {
    const words = this.words;
    if (Atomics.load(words, this.bell) !== seen) return true;
    const t0 = nowUs();
    const spinUntil = t0 + (spinUs < timeoutUs ? spinUs : timeoutUs);
    while (nowUs() < spinUntil) {
      if (Atomics.load(words, this.bell) !== seen) return true;
    }
    const left = timeoutUs - (nowUs() - t0);
    if (left <= 0) return false;
    Atomics.add(words, this.sleepers, 1);
    this.sleeps++;
    const r = Atomics.wait(words, this.bell, seen, left / 1000);
    Atomics.sub(words, this.sleepers, 1);
    return r !== 'timed-out';
  }

  /**
   * A receiver's wait for the bell or its next frame, due at modelled time `dueUs` (Infinity: none):
   * at most `maxWallUs`, else D times the modelled gap. A frame due within HOLD_SPIN_US / D is waited
   * for by spinning: a timed sleep that short overshoots by the timer slack and the wake-up (~50-100
   * us here), and every us of it / D lands on a fault's latency. Dilated, a sleep's overshoot shrinks
   * D-fold and a spin would take a core for nothing.
   */
  waitForFrame(seen: number, dueUs: number, clock: Clock, spinUs: number, maxWallUs = IDLE_WALL_US): boolean {
    const timeoutUs = wallUsUntil(clock, dueUs, maxWallUs);
    return this.wait(seen, timeoutUs <= HOLD_SPIN_US / clock.dilation ? timeoutUs : spinUs, timeoutUs, clock.wallUs);
  }
}
