/**
 * What the model reads of a recorded trace, with no I/O: a prepared trace names one spool file per
 * vCPU (written and read by src/trace/), and a vCPU's replay is a TraceSource the access stream
 * advances. The engines open the sources (src/trace/replay.ts) and hand them to the model.
 */
import type { TraceHeader } from './trace-format.js';
import type { Access } from './uapi.js';

/** One vCPU's spooled accesses: its record file and how many records it holds. */
export interface VcpuTrace {
  file: string;
  length: number;
}

/** A trace decoded once for a run (src/trace/spool.ts): its header and each vCPU's spool. */
export interface TraceSpool {
  key: string;
  dir: string;
  header: TraceHeader;
  vcpus: VcpuTrace[];
  /** The longest vCPU's recorded span, first access of the trace to its last access (us, unscaled). */
  recordedUs: number;
}

/** One vCPU's replay: next() moves to the following access (wrapping at the end). */
export interface TraceSource {
  gpa: number;
  access: Access;
  /** Guest time before this access, in us, already scaled. */
  gapUs: number;
  next(): void;
}

/** vCPU v's replay, or null when the run has no trace. */
export type TraceOpener = (vcpu: number) => TraceSource | null;
