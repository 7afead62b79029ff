/**
 * One vCPU's architectural fault path, the part both engines' vCPU actors share: the record builder,
 * the per-kind counters, the guest planner when the run models one, the last fault (for the event
 * stream's decoder) and, when asked, every fault in order. The engines call build() on a fault and
 * done() when the vCPU runs again; nothing here is called per access, and nothing allocates except
 * the optional fault order.
 */
import type { ResolvedOptions } from '../config.js';
import { Access, describeMemoryFaultFlags, describeUffdFlags, KVM_EXIT_MEMORY_FAULT, UFFD_EVENT_PAGEFAULT } from '../uapi.js';
import { KC_BLOCKED_US, KindCounters } from './counters.js';
import { decodeArchFault } from './decode.js';
import type { DecodedFault } from './decoded-fault.js';
import { dataKind, FK_EXEC, FK_WALK } from './fault-kind.js';
import { ArchGuest, archActive, RES_FETCH } from './guest.js';
import { gpaOfPage } from '../memslots.js';
import type { Memslot } from '../config.js';
import { ARCH_ARM64, ARCH_X86, FaultRecordBuilder, RECORD_NEUTRAL, RECORD_SYNDROME, UFFD_LOST_NONE, type FaultRecord } from './record.js';
import type { ArchState } from './regions.js';
import { Stage1Table, VA_BASE } from './stage1.js';

export type ArchOptions = Pick<
  ResolvedOptions,
  'arch' | 'faultRecord' | 'pageSize' | 'pages' | 'seed' | 'execRatio' | 'pageTables' | 'mteFraction' | 'confidential' | 'convertRatio' | 'recordFaultOrder'
>;

/** The run's stage-1 table, when the guest walks one. */
export function stage1Of(o: Pick<ResolvedOptions, 'pageTables' | 'pages'>): Stage1Table | null {
  return o.pageTables ? new Stage1Table(o.pages) : null;
}

/** The last fault a vCPU took, in numbers (the threaded engine keeps them in shared stats words). */
export interface LastFault {
  kind: number;
  access: Access;
  level: number;
  isPrivate: boolean;
  /** the VMM's resolution (RES_*) and, for a syndrome walk, the pages fetched with it */
  res: number;
  ahead: number;
  page: number;
  dataPage: number;
}

/** The small fields of a LastFault in one number (kind 3 bits, access 2, level 2, private 1, res 2, ahead 3). */
export function packLastFault(l: LastFault): number {
  return l.kind | (l.access << 3) | (l.level << 5) | ((l.isPrivate ? 1 : 0) << 7) | (l.res << 8) | (l.ahead << 10);
}

export function unpackLastFault(code: number, page: number, dataPage: number): LastFault {
  return {
    kind: code & 7,
    access: ((code >>> 3) & 3) as Access,
    level: (code >>> 5) & 3,
    isPrivate: ((code >>> 7) & 1) === 1,
    res: (code >>> 8) & 3,
    ahead: (code >>> 10) & 7,
    page,
    dataPage,
  };
}

export class VcpuFaults {
  readonly builder: FaultRecordBuilder;
  readonly counters = new KindCounters();
  readonly guest: ArchGuest | null;
  /** With recordFaultOrder: kind, gpa of every record, flat. */
  readonly order: number[] | null;
  readonly last: LastFault = { kind: 0, access: Access.Read, level: 3, isPrivate: false, res: 0, ahead: 0, page: -1, dataPage: -1 };
  private readonly pageSize: number;

  constructor(
    o: ArchOptions,
    vcpu: number,
    readonly tables: Stage1Table | null,
    state: ArchState,
  ) {
    this.builder = new FaultRecordBuilder(
      o.arch === 'arm64' ? ARCH_ARM64 : ARCH_X86,
      o.faultRecord === 'syndrome' ? RECORD_SYNDROME : RECORD_NEUTRAL,
      o.pageSize,
      o.confidential,
    );
    this.guest = archActive(o) ? new ArchGuest(o, vcpu, tables, state, this.counters) : null;
    this.order = o.recordFaultOrder ? [] : null;
    this.pageSize = o.pageSize;
  }

  /** The record of a plain access to a missing page (runs without a guest planner). */
  buildData(page: number, gpa: number, access: Access): FaultRecord {
    return this.build(dataKind(access), access, 3, false, page, page, gpa);
  }

  /**
   * A plain access to a missing page, counted without building its record: what the virtual engine
   * does per fault when nothing reads the record then (observers rebuild it from `last`). Returns
   * the fault kind. Measured: building every record cost the virtual engine ~12% of its fault rate.
   */
  countData(page: number, access: Access, memslots: readonly Memslot[]): number {
    const kind = dataKind(access);
    const l = this.last;
    l.kind = kind;
    l.access = access;
    l.level = 3;
    l.isPrivate = false;
    l.page = page;
    l.dataPage = page;
    l.res = RES_FETCH;
    l.ahead = 0;
    if (this.order !== null) this.order.push(kind, gpaOfPage(memslots, this.pageSize, page));
    this.counters.record(kind, 1, kind === FK_EXEC);
    return kind;
  }

  /** The record of the planner's current obstacle; `gpa` is the obstacle page's. */
  buildObstacle(gpa: number): FaultRecord {
    const g = this.guest!;
    return this.build(g.obKind, g.access, g.obLevel, g.obPrivate, g.obPage, g.dataPage, gpa);
  }

  private build(kind: number, access: Access, level: number, isPrivate: boolean, page: number, dataPage: number, gpa: number): FaultRecord {
    const t = this.tables;
    // A walk's hardware address is the descriptor's: its table page plus the entry's offset.
    const address = kind === FK_WALK && t !== null ? gpa + t.entryIndex(level, dataPage) * 8 : gpa;
    const l = this.last;
    l.kind = kind;
    l.access = access;
    l.level = level;
    l.isPrivate = isPrivate;
    l.page = page;
    l.dataPage = dataPage;
    const r = this.builder.build(kind, access, level, gpa, address, VA_BASE + dataPage * this.pageSize, isPrivate);
    if (this.order !== null) this.order.push(kind, gpa);
    return r;
  }

  /** Counts the record just built: resolved by `pages` fetched pages (0: on the vCPU thread). */
  count(r: FaultRecord, res: number, pages: number): void {
    this.last.res = res;
    this.last.ahead = pages > 1 ? pages - 1 : 0;
    this.counters.record(r.kind, pages, r.uffdLost !== UFFD_LOST_NONE);
    this.guest?.noteAvoidable(r.kind, res, pages > 0);
  }

  /** The vCPU runs again after `blockedUs` on a record of `kind`. */
  done(kind: number, blockedUs: number): void {
    this.counters.add(kind, KC_BLOCKED_US, blockedUs);
  }
}

/**
 * A vCPU's last fault as the event stream shows it (observers, off the hot path): what userspace got
 * (the memory_fault, or in uffd mode the uffd_msg for a kind that reaches a uffd) and the decoded
 * hardware view beside it, rebuilt from the fault's numbers.
 */
export function decodedFault(
  o: ArchOptions & Pick<ResolvedOptions, 'mode'>,
  tables: Stage1Table | null,
  last: LastFault,
  gpa: number,
  vcpu: number,
): DecodedFault {
  const b = new FaultRecordBuilder(
    o.arch === 'arm64' ? ARCH_ARM64 : ARCH_X86,
    o.faultRecord === 'syndrome' ? RECORD_SYNDROME : RECORD_NEUTRAL,
    o.pageSize,
    o.confidential,
  );
  const address = last.kind === FK_WALK && tables !== null ? gpa + tables.entryIndex(last.level, last.dataPage) * 8 : gpa;
  const r = b.build(last.kind, last.access, last.level, gpa, address, VA_BASE + last.dataPage * o.pageSize, last.isPrivate);
  const arch = decodeArchFault(r, b.arch, b.record, last.res, last.ahead);
  if (o.mode === 'uffd' && r.uffdSees) {
    return { kind: 'uffd_msg', event: UFFD_EVENT_PAGEFAULT, flags: r.uffdFlags, flagNames: describeUffdFlags(r.uffdFlags), address: gpa, ptid: vcpu, arch };
  }
  return { kind: 'memory_fault', exitReason: KVM_EXIT_MEMORY_FAULT, flags: r.flags, flagNames: describeMemoryFaultFlags(r.flags), gpa, size: o.pageSize, arch };
}
