/**
 * One userfaultfd, modelled as the kernel builds it: a wait queue of faulting threads guarded by one
 * lock that every vCPU (handle_userfault) and every handler (read(), the wake after UFFDIO_COPY)
 * must take. Lives in a SharedArrayBuffer, so vCPU and handler threads really contend on it.
 *
 *  header   Int32 words Q_* (lock, counters, handler doorbell)
 *  entries  one per vCPU: state, seq, page, wake word      (the uwq a faulting thread puts on the queue)
 *  msgs     one 32-byte `struct uffd_msg` per vCPU         (what read() copies out)
 *
 * A fault puts the vCPU's entry on the pending list (fault_pending_wqh); read() scans it for the
 * oldest pending entry, copies its uffd_msg and moves it to the waiting list (fault_wqh); the wake
 * after UFFDIO_COPY walks every entry for ones that wait on the copied range. Both scans are O(vCPUs)
 * under the lock, as the kernel's are O(waiters). The lock is a spinning futex mutex: kernel
 * wait-queue locks spin, and on these VMs a sleep-and-wake costs ~45 us, so we spin first and sleep
 * only after `spinUs` (a holder may have been preempted when threads outnumber cores).
 */
import { UFFD_MSG_BYTES, writeUffdMsg } from '../model/uapi.js';
import type { UffdLockStats } from '../model/stats.js';

export const Q_LOCK = 0;
export const Q_LOCK_ACQUIRES = 1;
export const Q_LOCK_CONTENDED = 2;
export const Q_SEQ = 3;
export const Q_PENDING = 4;
export const Q_WAITERS = 5;
export const Q_BELL = 6;
export const Q_READERS_SLEEPING = 7;
export const Q_READS = 8;
export const Q_WAKE_WALKS = 9;
export const Q_WAKE_WALK_ENTRIES = 10;
export const Q_LOCK_WAIT_100NS = 11; // total time spent acquiring a contended lock, in 100 ns units
export const Q_LOCK_SLEEPS = 12;
export const Q_HEADER_WORDS = 16;

export const E_STATE = 0; // ENTRY_NONE / ENTRY_PENDING / ENTRY_WAITING
export const E_SEQ = 1;
export const E_PAGE = 2;
export const E_WAKE = 3;
export const E_WORDS = 4;
export const ENTRY_NONE = 0;
export const ENTRY_PENDING = 1;
export const ENTRY_WAITING = 2;

export function uffdQueueBytes(vcpus: number): number {
  return (Q_HEADER_WORDS + vcpus * E_WORDS) * 4 + vcpus * UFFD_MSG_BYTES;
}

export type { UffdLockStats } from '../model/stats.js';

export class UffdQueue {
  readonly w: Int32Array;
  readonly msgs: DataView;
  /** The same buffer as int32 words, to copy a uffd_msg out without allocating. */
  private readonly all: Int32Array;
  private readonly msgBase: number;
  constructor(
    sab: SharedArrayBuffer,
    readonly vcpus: number,
    private readonly spinUs: number,
    private readonly nowUs: () => number,
  ) {
    this.w = new Int32Array(sab, 0, Q_HEADER_WORDS + vcpus * E_WORDS);
    this.msgBase = (Q_HEADER_WORDS + vcpus * E_WORDS) * 4;
    this.msgs = new DataView(sab, this.msgBase, vcpus * UFFD_MSG_BYTES);
    this.all = new Int32Array(sab);
  }

  private entry(v: number): number {
    return Q_HEADER_WORDS + v * E_WORDS;
  }

  // ---- the lock (futex mutex: 0 free, 1 held, 2 held with sleepers) ----
  lock(): void {
    const w = this.w;
    Atomics.add(w, Q_LOCK_ACQUIRES, 1);
    if (Atomics.compareExchange(w, Q_LOCK, 0, 1) === 0) return;
    Atomics.add(w, Q_LOCK_CONTENDED, 1);
    const t0 = this.nowUs();
    const spinUntil = t0 + this.spinUs;
    for (;;) {
      if (Atomics.load(w, Q_LOCK) === 0 && Atomics.compareExchange(w, Q_LOCK, 0, 1) === 0) break;
      if (this.nowUs() > spinUntil) {
        // Give up spinning: mark "held with sleepers" and sleep until the holder hands over.
        let c = Atomics.exchange(w, Q_LOCK, 2);
        while (c !== 0) {
          Atomics.add(w, Q_LOCK_SLEEPS, 1);
          Atomics.wait(w, Q_LOCK, 2, 50);
          c = Atomics.exchange(w, Q_LOCK, 2);
        }
        break;
      }
    }
    Atomics.add(w, Q_LOCK_WAIT_100NS, Math.round((this.nowUs() - t0) * 10));
  }

  unlock(): void {
    if (Atomics.sub(this.w, Q_LOCK, 1) !== 1) {
      Atomics.store(this.w, Q_LOCK, 0);
      Atomics.notify(this.w, Q_LOCK, 1);
    }
  }

  // ---- the faulting vCPU (handle_userfault) ----
  /** Queues vCPU `v`'s PAGEFAULT message for `page` at `address`, then rings the handlers. */
  enqueueFault(v: number, page: number, flags: number, address: number): void {
    const w = this.w;
    const e = this.entry(v);
    this.lock();
    w[e + E_SEQ] = ++w[Q_SEQ]!;
    w[e + E_PAGE] = page;
    w[e + E_WAKE] = 0;
    Atomics.store(w, e + E_STATE, ENTRY_PENDING);
    writeUffdMsg(this.msgs, v * UFFD_MSG_BYTES, flags, address, v);
    w[Q_PENDING]!++;
    Atomics.add(w, Q_WAITERS, 1);
    this.unlock();
    this.ringHandlers();
  }

  /** True once a waker has set this vCPU's wake word. */
  isWoken(v: number): boolean {
    return Atomics.load(this.w, this.entry(v) + E_WAKE) !== 0;
  }

  /** Sleeps on the wake word (after spinning); returns when woken or after `timeoutMs`. */
  sleepUntilWoken(v: number, timeoutMs: number): void {
    Atomics.wait(this.w, this.entry(v) + E_WAKE, 0, timeoutMs);
  }

  /** The vCPU found its page present without being woken: take its entry off the queue. */
  cancel(v: number): void {
    const w = this.w;
    const e = this.entry(v);
    this.lock();
    const s = w[e + E_STATE]!;
    if (s !== ENTRY_NONE) {
      if (s === ENTRY_PENDING) w[Q_PENDING]!--;
      Atomics.store(w, e + E_STATE, ENTRY_NONE);
      Atomics.sub(w, Q_WAITERS, 1);
    }
    this.unlock();
  }

  // ---- the handler side ----
  ringHandlers(): void {
    Atomics.add(this.w, Q_BELL, 1);
    if (Atomics.load(this.w, Q_READERS_SLEEPING) !== 0) Atomics.notify(this.w, Q_BELL);
  }

  hasPending(): boolean {
    return Atomics.load(this.w, Q_PENDING) > 0;
  }

  /**
   * read(): takes the oldest pending message, copies its 32 bytes into `out` (8 int32 words at word
   * `outAt`), moves its entry to the waiting list. Returns the faulting vCPU, or -1 when none is pending.
   */
  read(out: Int32Array, outAt: number): number {
    const w = this.w;
    this.lock();
    if (w[Q_PENDING] === 0) {
      this.unlock();
      return -1;
    }
    let best = -1;
    let bestSeq = 0;
    for (let v = 0; v < this.vcpus; v++) {
      const e = this.entry(v);
      if (w[e + E_STATE] === ENTRY_PENDING && (best < 0 || w[e + E_SEQ]! - bestSeq < 0)) {
        best = v;
        bestSeq = w[e + E_SEQ]!;
      }
    }
    if (best >= 0) {
      w[this.entry(best) + E_STATE] = ENTRY_WAITING;
      w[Q_PENDING]!--;
      w[Q_READS]!++;
      const src = (this.msgBase + best * UFFD_MSG_BYTES) >> 2;
      for (let i = 0; i < UFFD_MSG_BYTES >> 2; i++) out[outAt + i] = this.all[src + i]!;
    }
    this.unlock();
    return best;
  }

  /**
   * The wake at the end of UFFDIO_COPY: wakes every vCPU queued on `page`. Skips the lock when the
   * queue is empty (the kernel's waitqueue_active() check).
   */
  wake(page: number): number {
    return this.wakeRange(page, 1);
  }

  /**
   * UFFDIO_WAKE after DONTWAKE copies: one walk under the lock for the run of pages
   * [first, first + n) (the listen thread's batches are contiguous runs of the push order).
   */
  wakeRange(first: number, n: number): number {
    const w = this.w;
    if (Atomics.load(w, Q_WAITERS) === 0) return 0;
    let woken = 0;
    this.lock();
    w[Q_WAKE_WALKS]!++;
    for (let v = 0; v < this.vcpus; v++) {
      const e = this.entry(v);
      const s = w[e + E_STATE]!;
      if (s === ENTRY_NONE) continue;
      w[Q_WAKE_WALK_ENTRIES]!++;
      const p = w[e + E_PAGE]!;
      if (p < first || p >= first + n) continue;
      if (s === ENTRY_PENDING) w[Q_PENDING]!--;
      Atomics.store(w, e + E_STATE, ENTRY_NONE);
      Atomics.sub(w, Q_WAITERS, 1);
      Atomics.store(w, e + E_WAKE, 1);
      Atomics.notify(w, e + E_WAKE);
      woken++;
    }
    this.unlock();
    return woken;
  }

  stats(): UffdLockStats {
    const w = this.w;
    return {
      acquires: Atomics.load(w, Q_LOCK_ACQUIRES),
      contended: Atomics.load(w, Q_LOCK_CONTENDED),
      lockWaitUs: Atomics.load(w, Q_LOCK_WAIT_100NS) / 10,
      sleeps: Atomics.load(w, Q_LOCK_SLEEPS),
      reads: Atomics.load(w, Q_READS),
      wakeWalks: Atomics.load(w, Q_WAKE_WALKS),
      wakeWalkEntries: Atomics.load(w, Q_WAKE_WALK_ENTRIES),
    };
  }
}
