/**
 * The virtual engine's proof. Memory holds page *versions*, not bytes: the version a page's copy
 * holds (memVer: the source's version the installed frame carried, src/virtual/frame.ts) and the
 * version the guest must see (expVer: the source's version when the guest moved here, hybrid's
 * switch, src/virtual/fetcher.ts); every guest write bumps both, so a read that sees another version
 * than expected, or a page that ends up missing or stale, fails `verified`, as a stale copy fails the
 * threaded engine's byte check. GARBAGE marks a copy published before its bytes landed (the
 * deliberate broken install).
 */
import type { MemoryProof } from '../model/run-result.js';
import { PAGE_PRESENT } from '../model/page-state.js';
import type { VirtualSim } from './sim.js';
import type { VcpuState } from './vcpu-state.js';

/** Version of a page whose bytes have not landed yet (publish-before-copy). Versions wrap below it. */
export const GARBAGE = 0xffff;
export const bump = (v: number): number => (v + 1) % GARBAGE;

/** One guest access to a present page, checked against the version the guest must see. */
export function accessPage(sim: VirtualSim, v: number, s: VcpuState, page: number, write: boolean): void {
  sim.totalAccesses++;
  if (write) {
    s.writes++;
    if (sim.memVer[page] !== GARBAGE) sim.memVer[page] = bump(sim.memVer[page]!);
    sim.expVer[page] = bump(sim.expVer[page]!);
    return;
  }
  s.reads++;
  const got = sim.memVer[page]!,
    want = sim.expVer[page]!;
  if (got !== want) {
    s.badReads++;
    s.firstBadRead ??= `vCPU ${v} read page ${page} at ${sim.now.toFixed(2)} us: ${describe(got, want)}`;
  }
}

/** The end-of-run check of every page: present, and holding the version the guest must see. */
export function proveMemory(sim: VirtualSim): MemoryProof {
  let notPresent = 0,
    wrong = 0,
    firstProblem: string | null = null;
  for (let p = 0; p < sim.pages; p++) {
    if (sim.state[p] !== PAGE_PRESENT) {
      if (!notPresent++) firstProblem ??= `page ${p} is missing`;
    } else if (sim.memVer[p] !== sim.expVer[p]) {
      if (!wrong++) firstProblem ??= `page ${p} holds ${describe(sim.memVer[p]!, sim.expVer[p]!)}`;
    }
  }
  return { pagesNotPresent: notPresent, pagesWrong: wrong, firstProblem };
}

/** What a page's copy holds when it is not what the guest must see (the threaded proof's words). */
function describe(got: number, want: number): string {
  return got === GARBAGE
    ? `garbage (bytes not copied yet), the guest must see version ${want}`
    : `a stale copy: version ${got}, the guest must see version ${want}`;
}
