/**
 * What bounds a finished virtual run, from its kernel lines: the line that was busy (held, or
 * moving between cores) for the largest share of the guest's time, and whether that share makes
 * the run serial-bound (one line busy most of the time: adding vCPUs only queues them) or
 * latency-bound (every line has idle time: the round trip of one fault sets the rate). Also the
 * uffd queue's shape: wake-walk entries, how many of them were cold, and empty reads per fault;
 * and, for one shared uffd, its regime (backlog: readers busy, walks long; convoy: the queue nearly
 * empty, every fault wakes sleeping readers).
 */
import type { Serial } from './kernel.js';
import type { VirtualSim } from './sim.js';

/** A line busy at least this share of the guest's time is what the run queues on. */
export const SERIAL_BOUND_SHARE = 0.8;

export interface LineShare {
  line: string;
  busyShare: number;
  transfers: number;
  peakContenders: number;
}
export interface RunBreakdown {
  bound: 'serial' | 'latency';
  /** the busiest line */
  busiest: LineShare;
  walkEntriesPerFault: number;
  coldEntryShare: number;
  emptyReadsPerFault: number;
  /** one shared uffd only: backlog when a wake walk sees at least a quarter of the vCPUs queued */
  regime: 'backlog' | 'convoy' | null;
}

function lines(sim: VirtualSim): Serial[] {
  const out: Serial[] = [sim.mm, sim.mmu, sim.lines.mmUsers, sim.lines.vma, sim.lines.exitUffd.file, sim.lines.exitUffd.ctxRef, sim.lines.exitUffd.mapChanging];
  for (const u of sim.uffds) out.push(u.pend, u.fd, u.lines.file, u.lines.ctxRef, u.lines.mapChanging);
  return out;
}

export function runBreakdown(sim: VirtualSim, guestUs: number, faults: number): RunBreakdown {
  let best: Serial | null = null;
  for (const l of lines(sim)) if (!best || l.heldUs > best.heldUs) best = l;
  const share = guestUs > 0 ? best!.heldUs / guestUs : 0;
  let entries = 0,
    cold = 0,
    empty = 0;
  for (const u of sim.uffds) {
    entries += u.wakeWalkEntries;
    cold += u.walkColdEntries;
    empty += u.emptyReads;
  }
  const walks = sim.uffds.reduce((a, u) => a + u.wakeWalks, 0);
  const perFault = (n: number) => (faults > 0 ? n / faults : 0);
  const vcpus = sim.vcpus.length;
  return {
    bound: share >= SERIAL_BOUND_SHARE ? 'serial' : 'latency',
    busiest: { line: best!.name, busyShare: share, transfers: best!.word.transfers, peakContenders: best!.word.peakContenders },
    walkEntriesPerFault: perFault(entries),
    coldEntryShare: entries > 0 ? cold / entries : 0,
    emptyReadsPerFault: perFault(empty),
    regime: sim.uffds.length === 1 ? (walks > 0 && entries / walks >= vcpus / 4 ? 'backlog' : 'convoy') : null,
  };
}
