/**
 * The architectural side of one vCPU's guest accesses, for both engines: which stage-2 obstacles one
 * access meets, in the order the hardware and KVM meet them, and what the VMM does about each.
 *
 *   begin(page, access)    a new guest access (draws, from the vCPU's own seeded stream, whether a
 *                          read is an instruction fetch and whether the guest converts the page)
 *   obstacle(pages)        the first thing in its way, or FK_NONE:
 *                            1. the stage-1 walk, root to leaf: a missing page-table page (FK_WALK)
 *                            2. a private/shared mismatch (FK_CONVERT): KVM checks the attribute
 *                               before it looks for the page
 *                            3. the page itself missing (FK_READ / FK_WRITE / FK_EXEC)
 *                            4. an MTE-tagged page whose tags are not restored (FK_MTE)
 *   resolution()           what the VMM does with that record: fetch, convert, restore the tags, or
 *                          (neutral record, MTE) re-enter blind, taking the fault again
 *
 * After each resolution the vCPU re-executes the access from the start, as the hardware retries
 * the faulting instruction: a walk that fetched the page-table page walks again and faults on the
 * data page. Nothing here allocates; the engines call it on every access only when the run models
 * an architectural feature (archActive), so a plain run's access loop is untouched.
 */
import type { ResolvedOptions } from '../config.js';
import { Rng } from '../rng.js';
import { Access } from '../uapi.js';
import { KC_AVOID_RECORDS, KC_AVOID_ROUND_TRIPS, type KindCounters } from './counters.js';
import { dataKind, FK_CONVERT, FK_EXEC, FK_MTE, FK_NONE, FK_READ, FK_WALK } from './fault-kind.js';
import { ATTR_PRIVATE, ATTR_SHARED, TAGS_MISSING, TAGS_OK, type ArchState } from './regions.js';
import { LEVELS, type Stage1Table } from './stage1.js';

export const RES_FETCH = 0;
export const RES_CONVERT = 1;
export const RES_RESTORE_TAGS = 2;
/** Neutral record, MTE: the VMM sees a READ/WRITE on a page it has, takes it for a race and re-enters. */
export const RES_REENTER = 3;

/**
 * The VMM's own work on the vCPU thread (us) for a resolution that needs no page: a conversion or a
 * tag restore, as the options price them; a blind re-entry does none. Both engines charge this.
 */
export function localWorkUs(o: Pick<ResolvedOptions, 'conversionUs' | 'tagRestoreUs'>, res: number): number {
  return res === RES_CONVERT ? o.conversionUs : res === RES_RESTORE_TAGS ? o.tagRestoreUs : 0;
}

/** What the planner needs of a page-state table (both engines' tables have it). */
export interface PresenceView {
  isPresent(page: number): boolean;
}

/** Whether a run models anything beyond plain data faults (else the engines skip this file per access). */
export function archActive(o: Pick<ResolvedOptions, 'execRatio' | 'pageTables' | 'mteFraction' | 'confidential'>): boolean {
  return o.execRatio > 0 || o.pageTables || o.mteFraction > 0 || o.confidential;
}

export class ArchGuest {
  // ---- the current access
  dataPage = 0;
  access: Access = Access.Read;
  write = false;
  intent = ATTR_PRIVATE;
  // ---- its current obstacle
  obKind = FK_NONE;
  obPage = 0;
  obLevel = 3;
  obPrivate = false;
  /** Syndrome record on a walk: the pages the source's walk sends with the table page. */
  readonly ahead = new Int32Array(LEVELS + 1);
  aheadCount = 0;
  private readonly rng: Rng;
  private readonly syndrome: boolean;
  private readonly confidential: boolean;
  /** Neutral record: the page of an MTE fault the VMM re-entered on blind (-1: none). */
  private mteRetry = -1;
  /** Walk records taken by the current access (for what a syndrome record would avoid). */
  private walkRecords = 0;

  constructor(
    private readonly o: Pick<ResolvedOptions, 'seed' | 'execRatio' | 'convertRatio' | 'faultRecord' | 'confidential'>,
    vcpu: number,
    readonly tables: Stage1Table | null,
    readonly state: ArchState,
    private readonly counters: KindCounters,
  ) {
    // Its own stream, so the workload's draws (and a plain run's results) do not move.
    this.rng = new Rng(o.seed, 0x41524348 + vcpu);
    this.syndrome = o.faultRecord === 'syndrome';
    this.confidential = o.confidential;
  }

  begin(page: number, access: Access): void {
    const o = this.o;
    let a = access;
    if (a === Access.Read && o.execRatio > 0 && this.rng.next() < o.execRatio) a = Access.Exec;
    this.dataPage = page;
    this.access = a;
    this.write = a === Access.Write;
    this.walkRecords = 0;
    const attrs = this.state.attrs;
    if (attrs !== null) {
      const cur = Atomics.load(attrs, page);
      // The guest changes its mind about a page (shares a buffer with a device, takes it back);
      // never about its own page tables.
      const flip = o.convertRatio > 0 && this.rng.next() < o.convertRatio && !this.tables?.isTablePage(page);
      this.intent = flip ? (cur === ATTR_PRIVATE ? ATTR_SHARED : ATTR_PRIVATE) : cur;
    }
  }

  obstacle(pages: PresenceView): number {
    const page = this.dataPage,
      t = this.tables;
    if (t !== null) {
      for (let l = 0; l < LEVELS; l++) {
        const tp = t.tablePage(l, page);
        if (!pages.isPresent(tp)) return this.set(FK_WALK, tp, l, this.confidential);
      }
    }
    const { attrs, tags } = this.state;
    if (attrs !== null && Atomics.load(attrs, page) !== this.intent) return this.set(FK_CONVERT, page, 3, this.intent === ATTR_PRIVATE);
    if (!pages.isPresent(page)) return this.set(dataKind(this.access), page, 3, this.confidential && this.intent === ATTR_PRIVATE);
    // Instruction fetches are not tag-checked.
    if (tags !== null && this.access !== Access.Exec && Atomics.load(tags, page) === TAGS_MISSING) return this.set(FK_MTE, page, 3, false);
    this.obKind = FK_NONE;
    return FK_NONE;
  }

  private set(kind: number, page: number, level: number, isPrivate: boolean): number {
    this.obKind = kind;
    this.obPage = page;
    this.obLevel = level;
    this.obPrivate = isPrivate;
    return kind;
  }

  /** What the VMM does with the current obstacle's record (call once per record). */
  resolution(): number {
    switch (this.obKind) {
      case FK_CONVERT:
        return RES_CONVERT;
      case FK_MTE:
        if (this.syndrome) return RES_RESTORE_TAGS;
        // The neutral record says READ or WRITE on a page the VMM has: it re-enters, as on a race;
        // the same fault again on the same page is its cue to restore the tags.
        if (this.mteRetry !== this.obPage) {
          this.mteRetry = this.obPage;
          return RES_REENTER;
        }
        this.mteRetry = -1;
        return RES_RESTORE_TAGS;
      default:
        return RES_FETCH;
    }
  }

  /** The local resolutions' effect on the shared state. */
  applyLocal(res: number): void {
    if (res === RES_CONVERT) Atomics.store(this.state.attrs!, this.obPage, this.intent);
    else if (res === RES_RESTORE_TAGS) Atomics.store(this.state.tags!, this.obPage, TAGS_OK);
  }

  /**
   * Syndrome record on a walk: the record carries the VA, so the source can walk its own copy of the
   * table and send every page the walk still needs (deeper table pages, the data page) in the same
   * round trip. Fills `ahead`; returns how many.
   */
  collectAhead(pages: PresenceView): number {
    let n = 0;
    if (this.syndrome && this.obKind === FK_WALK) {
      for (let l = this.obLevel + 1; l < LEVELS; l++) {
        const tp = this.tables!.tablePage(l, this.dataPage);
        if (!pages.isPresent(tp)) this.ahead[n++] = tp;
      }
      if (!pages.isPresent(this.dataPage)) this.ahead[n++] = this.dataPage;
    }
    this.aheadCount = n;
    return n;
  }

  /** Counts what a syndrome-carrying record would have saved on this record (neutral runs only). */
  noteAvoidable(kind: number, res: number, fetched: boolean): void {
    if (this.syndrome) return;
    const c = this.counters;
    if (kind === FK_WALK) {
      if (this.walkRecords++ > 0) {
        c.add(FK_WALK, KC_AVOID_RECORDS);
        if (fetched) c.add(FK_WALK, KC_AVOID_ROUND_TRIPS);
      }
    } else if (kind <= FK_EXEC && kind >= FK_READ && this.walkRecords > 0) {
      c.add(FK_WALK, KC_AVOID_RECORDS);
      if (fetched) c.add(FK_WALK, KC_AVOID_ROUND_TRIPS);
    } else if (kind === FK_MTE && res === RES_REENTER) c.add(FK_MTE, KC_AVOID_RECORDS);
  }
}
