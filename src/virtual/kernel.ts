/**
 * The virtual engine's modelled kernel: threads on a fixed number of cores (FIFO run queue, a time
 * slice for vCPUs when others wait), spinning locks with FIFO hand-over, and park / notify (spin on
 * the core for a while, then sleep; a wake-up of a sleeper costs `wakeupUs`). Every cost is a
 * parameter of the cost model (src/virtual/costs.ts). It knows nothing of migration: the actors
 * (vcpu.ts, fetcher.ts, handler.ts, installer.ts, source.ts) run on it.
 */
import type { CostModel } from './costs.js';
import { CacheLine, type LineCostParams } from './cache-line.js';
import { EventQueue } from './event-queue.js';

// ---- thread kinds and states ----
export const VCPU = 0,
  FETCHER = 1,
  HANDLER = 2,
  PREEMPT = 3;
export const BUSY = 0,
  SPIN = 1,
  SLEEP = 2,
  WAKING = 3,
  DONE = 4;

/** Kernel-level phases (the actors' phases follow in phases.ts). */
export const PH_WOKEN = 0,
  PH_SPIN_END = 1;

/**
 * How many cores ask for a line at once, by primitive. A queued spinlock (qspinlock, Linux >= 4.2)
 * has only its head waiter spin on the lock word; the others spin on their own MCS node, so the
 * word has at most the releasing core and the head asking for it: 2. The ticket locks of
 * Boyd-Wickizer et al. had every waiter re-read the word (their linear growth); qspinlock was made
 * to avoid that. An atomic read-modify-write (a refcount, an rwsem or rwlock count) has no
 * spinning reader: each waiting core has one request outstanding, served in turn, and the queue
 * itself is the serialisation modelled here, so a transfer costs the base: 1.
 */
export const LOCK_WORD_REQUESTERS = 2,
  ATOMIC_REQUESTERS = 1;

/**
 * A FIFO spinlock, or an mm-wide cache line that atomics serialise on. Queued spinlocks hand over in
 * arrival order and waiters spin on their own core, so a waiter's cost is only time: a critical
 * section is placed at max(now, when the lock frees up), and taking a word another core wrote last
 * costs a line transfer first (src/virtual/cache-line.ts: its cost grows with the requests queued on
 * the word at that moment). State changes made under the lock are applied when it is requested;
 * since requests are served in order, they are applied in lock order.
 */
export class Serial {
  freeAtUs = 0;
  readonly word: CacheLine;
  acquires = 0;
  contended = 0;
  waitUs = 0;
  /** time the lock was held or the line busy with transfers: the serial time it imposes */
  heldUs = 0;
  private startedUs = 0;
  constructor(readonly name: string) {
    this.word = new CacheLine(name);
  }

  /** When thread `id`, asking at `atUs`, gets it (the word's transfer included). Holds it until end(). */
  start(id: number, atUs: number, p: LineCostParams): number {
    this.acquires++;
    let start = atUs;
    if (this.freeAtUs > atUs) {
      this.contended++;
      this.waitUs += this.freeAtUs - atUs;
      start = this.freeAtUs;
    }
    const transfer = this.word.acquireUs(id, atUs, p, LOCK_WORD_REQUESTERS);
    this.startedUs = start;
    start += transfer;
    this.freeAtUs = Infinity; // held until end()
    return start;
  }

  end(atUs: number): number {
    this.heldUs += atUs - this.startedUs;
    this.freeAtUs = atUs;
    this.word.occupy(atUs);
    return atUs;
  }

  /**
   * An atomic read-modify-write sequence of `lines` operations on a line every core shares (an
   * rwsem's count, a refcount): free while this core still owns the line, `lines` transfers when
   * another core took it since. Returns when it is done.
   */
  line(id: number, atUs: number, lines: number, p: LineCostParams): number {
    this.acquires++;
    let start = atUs;
    if (this.freeAtUs > atUs) {
      this.contended++;
      this.waitUs += this.freeAtUs - atUs;
      start = this.freeAtUs;
    }
    const occupancy = lines * this.word.acquireUs(id, atUs, p, ATOMIC_REQUESTERS);
    this.heldUs += occupancy;
    this.freeAtUs = start + occupancy;
    if (occupancy > 0) this.word.occupy(this.freeAtUs);
    return this.freeAtUs;
  }

  /** One critical section of `holdUs`: when it ends. */
  take(id: number, atUs: number, holdUs: number, p: LineCostParams): number {
    return this.end(this.start(id, atUs, p) + holdUs);
  }
}

export interface Thread {
  id: number;
  kind: number;
  state: number;
  hasCore: boolean;
  coreSinceUs: number;
  /** Modelled time it held a core, up to its last release: its CPU time (a wake's wait for a core is not in it). */
  coreUs: number;
  /** Pending core request (when queued for a core). */
  wantUs: number;
  wantPhase: number;
  /** Where a notify resumes it. */
  resumePhase: number;
  spinToken: number;
  /** The page being worked on (fault, install) and its frame flags. */
  page: number;
  flags: number;
  /** The source's version of that page in the frame being installed (0: a local copy, no precopy). */
  version: number;
  /** Phase to continue at after an install. */
  afterInstall: number;
  /** Arrived frames waiting for this thread (src/virtual/frame.ts), and when each arrived. */
  arrivals: number[];
  arrivedUs: number[];
  arrivalHead: number;
  /** When the frame being installed arrived (-1: not a frame from the link). */
  arrivedAtUs: number;
  /** --wake-batch: pages copied with DONTWAKE, not woken yet */
  batch: number[];
}

export class Kernel {
  readonly q = new EventQueue();
  now = 0;
  readonly threads: Thread[] = [];
  freeCores: number;
  private readonly runQ: number[] = [];
  private runHead = 0;
  /** vCPU time slice when other threads wait for a core. */
  readonly sliceUs = 3000;

  constructor(readonly c: CostModel) {
    this.freeCores = c.cores;
  }

  addThread(kind: number, resumePhase: number): Thread {
    const t: Thread = {
      id: this.threads.length,
      kind,
      state: kind === VCPU || kind === HANDLER ? BUSY : SLEEP,
      hasCore: false,
      coreSinceUs: 0,
      coreUs: 0,
      wantUs: 0,
      wantPhase: 0,
      resumePhase,
      spinToken: 0,
      page: -1,
      flags: 0,
      version: 0,
      afterInstall: 0,
      arrivals: [],
      arrivedUs: [],
      arrivalHead: 0,
      arrivedAtUs: -1,
      batch: [],
    };
    this.threads.push(t);
    return t;
  }

  schedule(atUs: number, t: Thread, ph: number, arg = 0): void {
    this.q.push(atUs, t.id, ph, arg);
  }

  /** `t` needs a core for `us`, then runs `ph`. */
  cpu(t: Thread, us: number, ph: number): void {
    if (t.hasCore) {
      this.schedule(this.now + us, t, ph);
      return;
    }
    if (this.freeCores > 0) {
      this.freeCores--;
      t.hasCore = true;
      t.coreSinceUs = this.now;
      this.schedule(this.now + us, t, ph);
      return;
    }
    t.wantUs = us;
    t.wantPhase = ph;
    this.runQ.push(t.id);
  }

  releaseCore(t: Thread): void {
    if (!t.hasCore) throw new Error(`assertion failed: thread ${t.id} releases a core it does not hold`);
    t.hasCore = false;
    t.coreUs += this.now - t.coreSinceUs;
    if (this.runHead < this.runQ.length) {
      const u = this.threads[this.runQ[this.runHead++]!]!;
      if (this.runHead > 1024 && this.runHead * 2 > this.runQ.length) {
        this.runQ.splice(0, this.runHead);
        this.runHead = 0;
      }
      u.hasCore = true;
      u.coreSinceUs = this.now;
      this.schedule(this.now + u.wantUs, u, u.wantPhase);
    } else this.freeCores++;
  }

  /** The modelled time `t` has held a core so far: its CPU time (a wake's wait for a core is not in it). */
  coreTimeUs(t: Thread): number {
    return t.coreUs + (t.hasCore ? this.now - t.coreSinceUs : 0);
  }

  get coresWanted(): boolean {
    return this.runHead < this.runQ.length;
  }

  // ---- sleeping and waking
  /** `t` has nothing to do: spin (keeping its core) then sleep; notify() resumes it at resumePhase. */
  park(t: Thread, spinUs: number, resumePhase: number): void {
    t.resumePhase = resumePhase;
    if (spinUs > 0) {
      t.state = SPIN;
      this.schedule(this.now + spinUs, t, PH_SPIN_END, ++t.spinToken);
    } else this.sleep(t);
  }

  /** The spin ran out (unless a notify came first): sleep, giving up the core. */
  spinEnd(t: Thread, token: number): void {
    if (t.state === SPIN && t.spinToken === token) this.sleep(t);
  }

  private sleep(t: Thread): void {
    t.state = SLEEP;
    this.releaseCore(t);
    this.onSleep(t);
  }

  /** Called when a thread goes to sleep (the engine counts service threads' sleeps). */
  protected onSleep(_t: Thread): void {
    /* nothing by default */
  }

  notify(t: Thread): void {
    this.wakeAt(t, this.now);
  }

  /**
   * `t` is woken by a waker that finishes its wake at `atUs` (>= now): a spinner sees it then, a
   * sleeper runs `wakeupUs` later. Returns whether `t` was waiting at all.
   */
  wakeAt(t: Thread, atUs: number): boolean {
    if (t.state === SPIN) {
      t.state = BUSY;
      t.spinToken++;
      this.schedule(atUs, t, t.resumePhase);
      return true;
    }
    if (t.state === SLEEP) {
      t.state = WAKING;
      this.schedule(atUs + this.c.wakeupUs, t, PH_WOKEN);
      return true;
    }
    return false;
  }

  /**
   * What the waker pays to wake `n` sleeping threads in one walk (try_to_wake_up each). A sleeper
   * that lands on an idle core costs a kick of that core (ttwuUs, the IPI included), one for each
   * idle core it takes; sleepers beyond the idle cores queue on busy ones (ttwuNextUs each, as
   * measured with every sleeper on one CPU). The first always pays ttwuUs.
   */
  ttwuCostUs(n: number): number {
    if (n <= 0) return 0;
    const kicked = Math.min(n, Math.max(1, this.freeCores));
    return kicked * this.c.ttwuUs + (n - kicked) * this.c.ttwuNextUs;
  }

  /** A woken thread runs again at its resume phase once it has a core. */
  woken(t: Thread): void {
    t.state = BUSY;
    this.cpu(t, 0, t.resumePhase);
  }
}
