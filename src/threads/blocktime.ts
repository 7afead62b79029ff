/**
 * The threaded engine's blocktime ledger: the model's transitions (src/model/blocktime.ts) applied to
 * counts and times in shared memory, under a tiny spinlock so the "since" stamp and the counts move
 * together when several vCPU threads block or resume at once.
 */
import * as model from '../model/blocktime.js';
import { CTL_ACTIVE_VCPUS, CTL_BLOCKED_VCPUS, CTL_BLOCK_LOCK, TIME_ALL_BLOCKED_SINCE_US, TIME_ALL_BLOCKED_TOTAL_US } from './layout.js';

/** The ledger's four fields, living in the control block. */
class SharedLedger implements model.BlockLedger {
  constructor(
    private readonly ctl: Int32Array,
    private readonly times: Float64Array,
  ) {}
  get blocked(): number {
    return this.ctl[CTL_BLOCKED_VCPUS]!;
  }
  set blocked(n: number) {
    this.ctl[CTL_BLOCKED_VCPUS] = n;
  }
  get active(): number {
    return this.ctl[CTL_ACTIVE_VCPUS]!;
  }
  set active(n: number) {
    this.ctl[CTL_ACTIVE_VCPUS] = n;
  }
  get sinceUs(): number {
    return this.times[TIME_ALL_BLOCKED_SINCE_US]!;
  }
  set sinceUs(t: number) {
    this.times[TIME_ALL_BLOCKED_SINCE_US] = t;
  }
  get totalUs(): number {
    return this.times[TIME_ALL_BLOCKED_TOTAL_US]!;
  }
  set totalUs(t: number) {
    this.times[TIME_ALL_BLOCKED_TOTAL_US] = t;
  }
}

/** The ledger in shared memory, to read (recovery measures the blocktime accrued while paused). */
export function sharedBlockLedger(ctl: Int32Array, times: Float64Array): model.BlockLedger {
  return new SharedLedger(ctl, times);
}

export class Blocktime {
  private readonly ledger: SharedLedger;
  constructor(
    private readonly ctl: Int32Array,
    times: Float64Array,
  ) {
    this.ledger = new SharedLedger(ctl, times);
  }
  private lock(): void {
    while (Atomics.compareExchange(this.ctl, CTL_BLOCK_LOCK, 0, 1) !== 0) {
      /* held for a few instructions */
    }
  }
  private unlock(): void {
    Atomics.store(this.ctl, CTL_BLOCK_LOCK, 0);
  }

  begin(nowUs: number): void {
    this.lock();
    model.blockBegin(this.ledger, nowUs);
    this.unlock();
  }
  end(nowUs: number): void {
    this.lock();
    model.blockEnd(this.ledger, nowUs);
    this.unlock();
  }
  retire(nowUs: number): void {
    this.lock();
    model.vcpuRetired(this.ledger, nowUs);
    this.unlock();
  }
}
