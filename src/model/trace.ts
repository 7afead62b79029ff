/**
 * The trace workload as the engines see it: replay a recorded stream of guest accesses instead of
 * a synthetic workload. The format is trace-format.ts (v1 hand-written lines, v2 recorded with
 * timestamps, maybe gzipped); prepareTrace (trace-spool.ts) decodes and checks it once, before the
 * run, and each vCPU replays its own accesses in order through a TraceCursor, which both engines
 * build the same way.
 */
import { Errors } from '../errors.js';
import type { ResolvedOptions } from '../options.js';
import { TraceCursor, type VcpuTrace } from './trace-cursor.js';

export type { VcpuTrace } from './trace-cursor.js';
export { prepareTrace } from './trace-spool.js';

/** Every vCPU's spooled accesses; the trace must have been prepared (simulate() does it). */
export function loadTrace(opts: ResolvedOptions): VcpuTrace[] {
  if (!opts.traceSpool) throw Errors.badInput('trace', 'the trace was not prepared: run it through simulate(), or await prepareTrace(options) first');
  return opts.traceSpool.vcpus;
}

/** vCPU `trace`'s replay, timed as the options say. */
export function openTrace(trace: VcpuTrace, opts: Pick<ResolvedOptions, 'traceTiming' | 'traceTimeScale'>): TraceCursor {
  return new TraceCursor(trace, opts.traceTiming === 'asap' ? 0 : opts.traceTimeScale);
}
