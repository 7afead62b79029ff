/**
 * The guest's own stage-1 page table, living in guest memory: after the switch to postcopy its
 * pages are as missing on the destination as any data page, so the hardware's walk faults on them.
 *
 * Shape (arm64 4 KiB granule with 48-bit VAs; x86 4-level paging is the same shape: PML4, PDPT, PD,
 * PT): four levels of 512-entry tables, one 4 KiB page each; a leaf (level 3) table maps 512 pages
 * (2 MiB), a level-2 table 1 GiB, a level-1 table 512 GiB, and one root.
 *
 * The guest maps all of its memory once, contiguously: data page p (dense index) is at
 * VA = VA_BASE + p * 4096, the way a process maps a buffer or a kernel its linear map. Its tables sit
 * in the top pages of guest memory (root highest, then level 1, 2 and the leaves below), so a
 * bottom-up push reaches them last, and they are themselves mapped like any page.
 *
 *   page:  0 ........................ first ... leaves | L2 | L1 | root (= pages - 1)
 *
 * Descriptor contents are not stored: they are this pure function of the page index, which the
 * hardware walker (a vCPU) and the source (resolving a walk for a syndrome-carrying record) share.
 * The table pages' bytes are the source image like any page's.
 */
export const LEVELS = 4;
export const ENTRIES = 512;
export const TABLE_PAGE_BYTES = 4096;
/** Where the guest maps its memory: a user-space-like address, below 2^53 so a double holds it. */
export const VA_BASE = 0x7f00_0000_0000;

export class Stage1Table {
  /** Table pages per level, root first. */
  readonly perLevel: readonly number[];
  /** First page of each level's tables (dense page index). */
  private readonly firstOfLevel: Int32Array;
  /** Lowest table page: pages >= this hold the table. */
  readonly firstTablePage: number;
  readonly tablePages: number;

  constructor(readonly pages: number) {
    const leaves = Math.ceil(pages / ENTRIES);
    const l2 = Math.ceil(leaves / ENTRIES);
    const l1 = Math.ceil(l2 / ENTRIES);
    this.perLevel = [1, l1, l2, leaves];
    this.tablePages = 1 + l1 + l2 + leaves;
    if (this.tablePages >= pages) throw new RangeError(`a ${pages}-page guest has no room for its ${this.tablePages} page-table pages`);
    this.firstOfLevel = new Int32Array(LEVELS);
    let top = pages;
    for (let l = 0; l < LEVELS; l++) {
      top -= this.perLevel[l]!;
      this.firstOfLevel[l] = top;
    }
    this.firstTablePage = top;
  }

  /** The page holding the level-`level` descriptor the walk to data page `page` reads. */
  tablePage(level: number, page: number): number {
    // A level-l table covers 512^(4-l) pages; level 0 is the one root.
    const span = level === 0 ? Infinity : level === 1 ? ENTRIES ** 3 : level === 2 ? ENTRIES ** 2 : ENTRIES;
    return this.firstOfLevel[level]! + (level === 0 ? 0 : Math.floor(page / span));
  }

  /** Index of the descriptor within its table page (VA bits [47:39], [38:30], [29:21], [20:12]). */
  entryIndex(level: number, page: number): number {
    return Math.floor(this.va(page) / (TABLE_PAGE_BYTES * ENTRIES ** (LEVELS - 1 - level))) % ENTRIES;
  }

  va(page: number): number {
    return VA_BASE + page * TABLE_PAGE_BYTES;
  }

  isTablePage(page: number): boolean {
    return page >= this.firstTablePage;
  }

  /** Which level a table page belongs to (-1: a data page). */
  levelOf(page: number): number {
    for (let l = LEVELS - 1; l >= 0; l--) if (page >= this.firstOfLevel[l]! && page < this.firstOfLevel[l]! + this.perLevel[l]!) return l;
    return -1;
  }
}
