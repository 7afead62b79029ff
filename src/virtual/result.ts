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

export function virtualResult(sim: VirtualSim, wallMs: number, profile: string): VirtualRunResult {
  const src = sim.outbound ? sim.sstats : null;
  if (src) {
    src.bytesToDest = sim.outbound!.bytes;
    src.bytesToSource = sim.inbound!.bytes;
    src.framesSent = sim.outbound!.frames;
  }
  const r2 = (x: number) => Math.round(x * 100) / 100;
  // The uffd's two locks together (fault_pending_wqh.lock and fd_wqh.lock).
  const uffd = sumUffdLockStats(
    sim.uffds.map((q) => ({
      acquires: q.pend.acquires + q.fd.acquires,
      contended: q.pend.contended + q.fd.contended,
      lockWaitUs: r2(q.pend.waitUs + q.fd.waitUs),
      sleeps: 0,
      reads: q.reads,
      wakeWalks: q.wakeWalks,
      wakeWalkEntries: q.wakeWalkEntries,
    })),
  );
  if (uffd) uffd.lockWaitUs = r2(uffd.lockWaitUs);
  const result = buildResult({
    engine: 'virtual',
    opts: sim.opts,
    vcpus: sim.vcpus.map((s) => ({ ...s, accesses: s.reads + s.writes, kindCounts: s.arch.counters.c, faultOrder: s.arch.order })),
    latency: sim.latency,
    source: src,
    fetchers: sim.fstats,
    uffd,
    uffdQueues: sim.uffds.length,
    proof: proveMemory(sim),
    blocktimeUs: sim.blocks.totalUs,
    migrationStartUs: sim.migrationStartUs,
    migrationDoneUs: sim.migrationDoneUs,
    switchStartUs: sim.switchStartUs,
    goUs: sim.goUs,
    timeline: sim.timeline,
    pageMap: sim.map.build(),
    wallMs,
    peakRssBytes: peakRssBytes(),
    engineInfo: { profile, cores: sim.c.cores },
    liveInjections: sim.imp?.live,
    recovery: !sim.imp?.injected
      ? null
      : sim.recovery
        ? sim.recovery.result(sim.outbound!.framesLost + sim.inbound!.framesLost)
        : sim.imp
          ? { timeline: [], pausedMs: 0, framesLost: 0, pagesResent: 0, requestsResent: 0, blocktimePausedMs: 0, recoverMs: 0 }
          : null,
  });
  return result as VirtualRunResult;
}
