/**
 * What each vCPU counts per fault kind, the same way in both engines, and the run's summary of it
 * (RunResult.faultRecords). The counts are per record handed to userspace: a KVM_RUN exit with a
 * memory_fault, or in uffd mode a uffd_msg (or, for kinds that never reach a uffd, the KVM exit).
 *
 *   records         exits (or uffd messages) this kind caused
 *   roundTrips      records resolved by pages from the source (all pages of one record ride one
 *                   round trip); with network none, the local copies that stand in for it
 *   pagesFetched    pages those round trips brought (a syndrome record's walk brings several)
 *   localResolved   records resolved on the vCPU thread: a conversion, a tag restore, a re-entry
 *   blockedMs       time vCPUs were stopped by this kind's records
 *   avoidableRecords, avoidableRoundTrips
 *                   (neutral record) what a syndrome-carrying record would have saved: every walk
 *                   record after an access's first and the data fault that follows a walk (the
 *                   source resolves the whole walk in one round trip), and the blind re-entry on an
 *                   MTE tag fault
 *   uffdLost        records whose meaning a userfaultfd handler could not see (src/model/arch/record.ts)
 */
import { FAULT_KIND_COUNT, FAULT_KIND_NAMES, type FaultKindName } from './fault-kind.js';
import type { ArchName, RecordName } from './record.js';

export const KC_RECORDS = 0;
export const KC_ROUND_TRIPS = 1;
export const KC_PAGES = 2;
export const KC_LOCAL = 3;
export const KC_BLOCKED_US = 4;
export const KC_AVOID_RECORDS = 5;
export const KC_AVOID_ROUND_TRIPS = 6;
export const KC_UFFD_LOST = 7;
export const KC_FIELDS = 8;

/** A vCPU's counters: FAULT_KIND_COUNT rows of KC_FIELDS, in one Float64Array (it crosses threads as is). */
export class KindCounters {
  constructor(readonly c = new Float64Array(FAULT_KIND_COUNT * KC_FIELDS)) {}
  add(kind: number, field: number, n = 1): void {
    this.c[kind * KC_FIELDS + field]! += n;
  }
  get(kind: number, field: number): number {
    return this.c[kind * KC_FIELDS + field]!;
  }
  /** One record: resolved by `pages` fetched pages (0: on the vCPU thread). */
  record(kind: number, pages: number, uffdLost: boolean): void {
    const at = kind * KC_FIELDS,
      c = this.c;
    c[at + KC_RECORDS]!++;
    if (pages > 0) {
      c[at + KC_ROUND_TRIPS]!++;
      c[at + KC_PAGES]! += pages;
    } else c[at + KC_LOCAL]!++;
    if (uffdLost) c[at + KC_UFFD_LOST]!++;
  }
}

export interface FaultKindCounts {
  records: number;
  roundTrips: number;
  pagesFetched: number;
  localResolved: number;
  blockedMs: number;
  avoidableRecords: number;
  avoidableRoundTrips: number;
  uffdLost: number;
}

export interface FaultRecordsSummary {
  arch: ArchName;
  record: RecordName;
  byKind: Record<FaultKindName, FaultKindCounts>;
  /** Sums over kinds. */
  records: number;
  roundTrips: number;
  avoidableRecords: number;
  avoidableRoundTrips: number;
  uffdLost: number;
}

/** Sums the vCPUs' counters into the result's summary. */
export function summarizeKinds(arch: ArchName, record: RecordName, perVcpu: ReadonlyArray<Float64Array | undefined>): FaultRecordsSummary {
  const total = new KindCounters();
  for (const c of perVcpu) if (c) for (let i = 0; i < total.c.length; i++) total.c[i]! += c[i]!;
  const byKind = {} as Record<FaultKindName, FaultKindCounts>;
  const sums = { records: 0, roundTrips: 0, avoidableRecords: 0, avoidableRoundTrips: 0, uffdLost: 0 };
  FAULT_KIND_NAMES.forEach((name, k) => {
    const row: FaultKindCounts = {
      records: total.get(k, KC_RECORDS),
      roundTrips: total.get(k, KC_ROUND_TRIPS),
      pagesFetched: total.get(k, KC_PAGES),
      localResolved: total.get(k, KC_LOCAL),
      blockedMs: Math.round(total.get(k, KC_BLOCKED_US) * 10) / 10000,
      avoidableRecords: total.get(k, KC_AVOID_RECORDS),
      avoidableRoundTrips: total.get(k, KC_AVOID_ROUND_TRIPS),
      uffdLost: total.get(k, KC_UFFD_LOST),
    };
    byKind[name] = row;
    sums.records += row.records;
    sums.roundTrips += row.roundTrips;
    sums.avoidableRecords += row.avoidableRecords;
    sums.avoidableRoundTrips += row.avoidableRoundTrips;
    sums.uffdLost += row.uffdLost;
  });
  return { arch, record, byKind, ...sums };
}
