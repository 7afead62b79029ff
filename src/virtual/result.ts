/**
 * The virtual engine's totals, handed to the model's result builder (src/model/run-result.ts), the
 * same one the threaded engine uses.
 */
import { peakRssBytes } from '../rss.js';
import { buildResult } from '../model/run-result.js';
import type { RunResult } from '../model/result.js';
import { sumUffdLockStats } from '../model/stats.js';
import { proveMemory } from './oracle.js';
import type { VirtualSim } from './sim.js';

export type VirtualRunResult = Omit<RunResult, 'engine'> & { engine: 'virtual' };

export function virtualResult(sim: VirtualSim, wallMs: number): VirtualRunResult {
  const src = sim.outbound ? sim.sstats : null;
  if (src) { src.bytesToDest = sim.outbound!.bytes; src.bytesToSource = sim.inbound!.bytes; src.framesSent = sim.outbound!.frames; }
  const r2 = (x: number) => Math.round(x * 100) / 100;
  const uffd = sumUffdLockStats(sim.uffds.map((q) => ({
    acquires: q.lock.acquires, contended: q.lock.contended, lockWaitUs: q.lock.lockWaitUs, sleeps: 0,
    reads: q.reads, wakeWalks: q.wakeWalks, wakeWalkEntries: q.wakeWalkEntries,
  })));
  if (uffd) uffd.lockWaitUs = sim.uffds.reduce((a, q) => r2(a + q.lock.lockWaitUs), 0); // rounded as it accumulates
  const result = buildResult({
    engine: 'virtual', opts: sim.opts,
    vcpus: sim.vcpus.map((s) => ({ ...s, accesses: s.reads + s.writes, kindCounts: s.arch.counters.c, faultOrder: s.arch.order })),
    latency: sim.latency, source: src, fetchers: sim.fstats, uffd, uffdQueues: sim.uffds.length,
    proof: proveMemory(sim), blocktimeUs: sim.blocks.totalUs,
    migrationStartUs: sim.migrationStartUs, migrationDoneUs: sim.migrationDoneUs, switchStartUs: sim.switchStartUs, goUs: sim.goUs,
    timeline: sim.timeline, pageMap: sim.map.build(), wallMs, peakRssBytes: peakRssBytes(),
  });
  return result as VirtualRunResult;
}
