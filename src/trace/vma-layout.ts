/**
 * Lays a recorded program's memory out as guest-physical memory. A process's address space is
 * mostly holes (the heap near the binary, libraries and stacks terabytes away), so its VMAs are
 * packed one after another from gpa 0, each process's in address order, each keeping the order and
 * the gaps of the pages touched inside it: a VMA becomes its touched extent, first touched page to
 * last, and a VMA never touched takes no guest memory. Pages touched outside every recorded VMA
 * (a stack that grew below its first mapping) become areas of their own, split where two are more
 * than 1 MiB apart.
 *
 * Built in two steps by the converter: add every VMA and touched page (first pass over perf's
 * output), then pack(); after that gpaOf() maps a sample's address to its gpa (second pass).
 */

/** Host page size of the recording: x86-64 Linux's base page. */
export const HOST_PAGE = 4096;
/** Orphan pages further apart than this start a new area. */
const ORPHAN_SPLIT_PAGES = 256;

export interface PackedArea {
  pid: number;
  firstPage: number;
  lastPage: number;
  gpa: number;
  prot: string;
  name: string;
}

interface Vma {
  start: number;
  end: number;
  prot: string;
  name: string;
}

class Space {
  /** non-overlapping, sorted by start: a later map over part of an earlier one replaces that part */
  vmas: Vma[] = [];
  readonly touched = new Set<number>();
  areas: PackedArea[] = [];
}

export class VmaLayout {
  private readonly spaces = new Map<number, Space>();
  private packedBytes = 0;

  addVma(pid: number, start: number, bytes: number, prot: string, name: string): void {
    const sp = this.space(pid);
    sp.vmas = overlay(sp.vmas, { start: pageOf(start), end: pageOf(start + bytes - 1) + 1, prot, name });
  }

  touch(pid: number, addr: number): void {
    this.space(pid).touched.add(pageOf(addr));
  }

  /** Packs every process's areas from gpa 0 in the order the processes first appeared. */
  pack(): void {
    let gpa = 0;
    for (const [pid, sp] of this.spaces) {
      sp.areas = areasOf(pid, sp);
      for (const a of sp.areas) {
        a.gpa = gpa;
        gpa += (a.lastPage - a.firstPage + 1) * HOST_PAGE;
      }
    }
    this.packedBytes = gpa;
  }

  /** Guest memory the packed layout needs. */
  get memoryBytes(): number {
    return this.packedBytes;
  }

  /** Every packed area, in gpa order. */
  areas(): PackedArea[] {
    return [...this.spaces.values()].flatMap((s) => s.areas);
  }

  /** The area holding `addr` of process `pid` (after pack), or undefined. */
  areaOf(pid: number, addr: number): PackedArea | undefined {
    const areas = this.spaces.get(pid)?.areas;
    if (!areas) return undefined;
    const page = pageOf(addr);
    let lo = 0,
      hi = areas.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1,
        a = areas[mid]!;
      if (page < a.firstPage) hi = mid - 1;
      else if (page > a.lastPage) lo = mid + 1;
      else return a;
    }
    return undefined;
  }

  /** The gpa of `addr` in `area`: the area's base plus the offset from its first touched page. */
  static gpaIn(area: PackedArea, addr: number): number {
    return area.gpa + (addr - area.firstPage * HOST_PAGE);
  }

  private space(pid: number): Space {
    let s = this.spaces.get(pid);
    if (!s) {
      s = new Space();
      this.spaces.set(pid, s);
    }
    return s;
  }
}

function pageOf(addr: number): number {
  return Math.floor(addr / HOST_PAGE);
}

/**
 * `v` mapped over `list`: what it covers of earlier VMAs is gone (the dynamic loader maps a whole
 * library, then maps each segment over it with its own protection).
 */
function overlay(list: Vma[], v: Vma): Vma[] {
  const out: Vma[] = [];
  for (const x of list) {
    if (x.end <= v.start || x.start >= v.end) {
      out.push(x);
      continue;
    }
    if (x.start < v.start) out.push({ ...x, end: v.start });
    if (x.end > v.end) out.push({ ...x, start: v.end });
  }
  out.push(v);
  return out.sort((a, b) => a.start - b.start);
}

/** One process's areas: each VMA trimmed to its touched extent, plus the orphan clusters; by address. */
function areasOf(pid: number, sp: Space): PackedArea[] {
  const merged = sp.vmas;
  const pages = [...sp.touched].sort((a, b) => a - b);
  const out: PackedArea[] = [];
  let orphan: PackedArea | null = null;
  let open: PackedArea | null = null;
  let lastInVma = -1; // an orphan cluster never spans a VMA's area, so areas never overlap
  let vi = 0;
  for (const p of pages) {
    while (vi < merged.length && merged[vi]!.end <= p) {
      vi++;
      open = null;
    }
    const v = merged[vi];
    if (v && p >= v.start) {
      if (!open) {
        open = { pid, firstPage: p, lastPage: p, gpa: 0, prot: v.prot, name: v.name || '//anon' };
        out.push(open);
      }
      open.lastPage = lastInVma = p;
      continue;
    }
    if (!orphan || p - orphan.lastPage > ORPHAN_SPLIT_PAGES || lastInVma > orphan.lastPage) {
      orphan = { pid, firstPage: p, lastPage: p, gpa: 0, prot: 'rw-p', name: '[unmapped]' };
      out.push(orphan);
    }
    orphan.lastPage = p;
  }
  return out.sort((a, b) => a.firstPage - b.firstPage);
}
