/**
 * What a trace holds, measured by reading it once (streamed): its header, how many vCPUs and
 * distinct pages, how long it ran, and its spatial locality (src/model/locality.ts). `trace stats`
 * prints it; the workloads bench uses it to say why a strategy did or did not win on a trace.
 */
import { Locality, type LocalitySummary } from '../model/locality.js';
import type { TraceHeader } from '../model/trace-format.js';
import { forEachAccess } from './read.js';

export interface TraceStats {
  file: string;
  header: TraceHeader;
  vcpus: number;
  durationUs: number | null;
  distinctPages: number;
  locality: LocalitySummary;
}

/** Reads a whole trace (streamed) and measures it. */
export async function traceStats(file: string): Promise<TraceStats> {
  const loc = new Locality();
  let maxVcpu = -1,
    lastUs = 0;
  const header = await forEachAccess(file, (a, _where, h) => {
    if (a.vcpu > maxVcpu) maxVcpu = a.vcpu;
    if (a.timeUs > lastUs) lastUs = a.timeUs;
    loc.add(a.vcpu, Math.floor(a.gpa / h.pageSize), h.version === 2 ? a.timeUs : NaN);
  });
  const s = loc.summary();
  return { file, header, vcpus: maxVcpu + 1, durationUs: header.version === 2 ? lastUs : null, distinctPages: s.firstTouches, locality: s };
}
