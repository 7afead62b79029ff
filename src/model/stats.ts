/**
 * The counters both engines keep, with one initialiser each, and the counting rules that must not
 * drift between them: how an installed page is counted, how a fault's latency is bucketed.
 */
import { PAGE_FLAG_DEMAND, PAGE_FLAG_ZERO } from './page-flags.js';
import type { RecoveryStats } from './impairments.js';
import type { Injection } from './injections.js';

/** What a page fetcher or a uffd handler counted (posted to the main thread when it exits). */
export interface FetcherStats {
  role: 'fetcher' | 'handler' | 'preempt';
  faultRecords: number;
  requestsSent: number;
  mergedFaults: number;
  alreadyPresent: number;
  installedDemand: number;
  installedPushed: number;
  installedZero: number;
  eexist: number;
  framesReceived: number;
  bytesReceived: number;
  requestBytesSent: number;
  /** uffd handler: messages read from the queue */
  uffdReads: number;
  /** times this thread went to sleep waiting for work */
  sleeps: number;
  /** hybrid: pages discarded at the switch, and precopy resends that overwrote a copy */
  discarded: number;
  overwritten: number;
  /** uffd handler: injected crashes it came back from (handler-crash:restart) */
  restarts?: number;
  /** fault-latency breakdown: exit -> record read (exit mode), demanded page arrived -> installed */
  recordLagUsTotal: number;
  installLagUsTotal: number;
}

/** What the source host counted. */
export interface SourceStats {
  role: 'source';
  pagesSent: number;
  pagesDemand: number;
  pagesPushed: number;
  zeroPages: number;
  requestsReceived: number;
  requestsForSentPages: number;
  bytesToDest: number;
  bytesToSource: number;
  framesSent: number;
  demandQueueUsTotal: number;
  demandQueueUsMax: number;
  pagesPrefetched: number;
  pagesUrgent: number;
  /** a request arrived at the source (link model) -> the source handled it */
  requestLagUsTotal: number;
  /** hybrid */
  precopyRounds: number;
  precopyPagesSent: number;
  pagesResent: number;
  pagesDiscarded: number;
  lastArriveUs: number;
  sleeps: number;
  /** times a frame waited because the receiver's ring was full */
  ringFullStalls: number;
  /**
   * Time the wire stood idle while a frame was waiting to go (us): the sending thread came late.
   * The virtual engine sends at the instant the wire frees, so it is 0 there by construction.
   */
  linkStallUsTotal: number;
  loops: number;
  /** with injections: what recovery did (src/model/recovery.ts) */
  recovery?: RecoveryStats;
  /** link cuts taken while the run played (the demo's button), as the injections they became */
  liveInjections?: Injection[];
  /** with recordSendOrder: every page frame sent, as page, flags, page, flags, ... */
  sendOrder?: number[];
}

/** The uffd wait-queue lock and what was done under it, summed over a run's uffds. */
export interface UffdLockStats {
  acquires: number;
  contended: number;
  lockWaitUs: number;
  sleeps: number;
  reads: number;
  wakeWalks: number;
  wakeWalkEntries: number;
}

/**
 * Fields that add up microseconds start as doubles. V8 stores a field that has held only small
 * integers as one; the first fraction added to it changes the object's hidden class, and every
 * compiled function that touched the object is thrown away ("wrong map"). At the start of an
 * undilated threaded migration, recordLagUsTotal and demandQueueUsMax did that to the fetcher's and
 * the source's hot paths after their JIT warm-up (src/threads/warm-up.ts), whose rig never made them
 * fractional (V8 --trace-generalization and --trace-deopt after the start gun). A field that held a
 * double stays one when 0 is stored in it, so each such field is created holding DOUBLE, then zeroed.
 */
const DOUBLE = 0.5;

/** `o` with every field that holds DOUBLE set to 0 (it stays a double field). */
function zeroed<T extends object>(o: T): T {
  const fields = o as Record<string, unknown>;
  for (const k of Object.keys(fields)) if (fields[k] === DOUBLE) fields[k] = 0;
  return o;
}

export function newFetcherStats(role: FetcherStats['role']): FetcherStats {
  const stats: FetcherStats = {
    role,
    faultRecords: 0,
    requestsSent: 0,
    mergedFaults: 0,
    alreadyPresent: 0,
    installedDemand: 0,
    installedPushed: 0,
    installedZero: 0,
    eexist: 0,
    framesReceived: 0,
    bytesReceived: 0,
    requestBytesSent: 0,
    uffdReads: 0,
    sleeps: 0,
    discarded: 0,
    overwritten: 0,
    recordLagUsTotal: DOUBLE,
    installLagUsTotal: DOUBLE,
  };
  return zeroed(stats);
}

export function newSourceStats(): SourceStats {
  const stats: SourceStats = {
    role: 'source',
    pagesSent: 0,
    pagesDemand: 0,
    pagesPushed: 0,
    zeroPages: 0,
    requestsReceived: 0,
    requestsForSentPages: 0,
    bytesToDest: 0,
    bytesToSource: 0,
    framesSent: 0,
    demandQueueUsTotal: DOUBLE,
    demandQueueUsMax: DOUBLE,
    pagesPrefetched: 0,
    pagesUrgent: 0,
    requestLagUsTotal: DOUBLE,
    precopyRounds: 0,
    precopyPagesSent: 0,
    pagesResent: 0,
    pagesDiscarded: 0,
    lastArriveUs: DOUBLE,
    sleeps: 0,
    ringFullStalls: 0,
    linkStallUsTotal: DOUBLE,
    loops: 0,
  };
  return zeroed(stats);
}

export function newUffdLockStats(): UffdLockStats {
  return { acquires: 0, contended: 0, lockWaitUs: 0, sleeps: 0, reads: 0, wakeWalks: 0, wakeWalkEntries: 0 };
}

/** Sums lock statistics over uffds; null when there are none. */
export function sumUffdLockStats(all: UffdLockStats[]): UffdLockStats | null {
  if (!all.length) return null;
  const t = newUffdLockStats();
  for (const s of all) {
    t.acquires += s.acquires;
    t.contended += s.contended;
    t.lockWaitUs += s.lockWaitUs;
    t.sleeps += s.sleeps;
    t.reads += s.reads;
    t.wakeWalks += s.wakeWalks;
    t.wakeWalkEntries += s.wakeWalkEntries;
  }
  return t;
}

/** A page that travelled with frame `flags` was installed (not EEXIST): how it came. */
export function countInstalled(stats: FetcherStats, flags: number): void {
  if (flags & PAGE_FLAG_ZERO) stats.installedZero++;
  if (flags & PAGE_FLAG_DEMAND) stats.installedDemand++;
  else stats.installedPushed++;
}

/** Buckets of the live fault-latency histogram: bucket N counts faults in [2^N us, 2^(N+1) us) (QEMU's postcopy-latency-dist). */
export const LATENCY_BUCKETS = 24;
export function latencyBucket(us: number): number {
  return us < 2 ? 0 : Math.min(LATENCY_BUCKETS - 1, 31 - Math.clz32(us | 0));
}
