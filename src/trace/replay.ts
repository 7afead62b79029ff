/**
 * The trace workload as the engines see it: replay a recorded stream of guest accesses instead of
 * a synthetic workload. The format is src/model/trace-format.ts (v1 hand-written lines, v2 recorded
 * with timestamps, maybe gzipped); prepareTrace (spool.ts) decodes and checks it once, before the
 * run, and each vCPU replays its own accesses in order through a TraceCursor, which both engines
 * build the same way and hand to the model as its TraceSource.
 */
import { Errors } from '../errors.js';
import type { ResolvedOptions } from '../model/config.js';
import type { TraceOpener, VcpuTrace } from '../model/trace-source.js';
import { TraceCursor } from './cursor.js';

export type { VcpuTrace } from '../model/trace-source.js';
export { prepareTrace } from './spool.js';

/** Every vCPU's spooled accesses; the trace must have been prepared (simulate() does it). */
export function loadTrace(opts: ResolvedOptions): VcpuTrace[] {
  if (!opts.traceSpool) throw Errors.badInput('trace', 'the trace was not prepared: run it through simulate(), or await prepareTrace(options) first');
  return opts.traceSpool.vcpus;
}

/** vCPU `trace`'s replay, timed as the options say. */
export function openTrace(trace: VcpuTrace, opts: Pick<ResolvedOptions, 'traceTiming' | 'traceTimeScale'>): TraceCursor {
  return new TraceCursor(trace, opts.traceTiming === 'asap' ? 0 : opts.traceTimeScale);
}

/** Opens each vCPU's replay on demand (null for every vCPU when the run's workload is not a trace). */
export function traceOpener(opts: ResolvedOptions): TraceOpener {
  if (opts.workload !== 'trace') return () => null;
  const traces = loadTrace(opts);
  return (v) => openTrace(traces[v]!, opts);
}
