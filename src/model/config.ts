/**
 * A run's configuration as the model and both engines read it: numbers with units in their names,
 * names from fixed lists. Plain types with no validation: src/options.ts produces a ResolvedOptions
 * from its zod schema, so the model never depends on how options are parsed.
 */
import type { ArchName, RecordName } from './arch/record.js';
import type { Injection } from './injections.js';
import type { StrategyName } from './strategies/index.js';
import type { TraceSpool } from './trace-source.js';

export const MODES = ['exit', 'uffd', 'none'] as const;
export const WORKLOADS = ['sequential', 'random', 'zipf', 'regions', 'trace'] as const;
export const TRACE_TIMINGS = ['recorded', 'asap'] as const;

export type Mode = (typeof MODES)[number];
export type Workload = (typeof WORKLOADS)[number];

export interface Memslot {
  slot: number;
  baseGpa: number;
  sizeBytes: number;
  firstPage: number;
  pages: number;
}

/** Resolved options: numbers with units in their names. */
export interface ResolvedOptions {
  vcpus: number;
  memoryBytes: number;
  pageSize: number;
  pageShift: number;
  pages: number;
  memslots: Memslot[];
  mode: Mode;
  handlers: number;
  uffdPerVcpu: boolean;
  workload: Workload;
  zipfExponent: number;
  regionMinPages: number;
  regionTail: number;
  runPages: number;
  phaseAccesses: number;
  trace: string | undefined;
  traceTiming: 'recorded' | 'asap';
  traceTimeScale: number;
  /** workload 'trace': the trace decoded for the engines (set by prepareTrace, src/trace/spool.ts). */
  traceSpool?: TraceSpool;
  writeRatio: number;
  partition: boolean;
  accesses: number | undefined;
  tailAccesses: number;
  network: 'link' | 'none';
  bandwidthBps: number;
  latencyUs: number;
  msgOverheadBytes: number;
  sendBufferBytes: number;
  zeroFraction: number;
  strategy: StrategyName;
  precopyRounds: number;
  dirtyRateBytesPerSec: number;
  seed: number;
  prefault: boolean;
  vcpuNice: number;
  thinkUs: number;
  spinUs: number;
  serviceSpinUs: number;
  watchdogUs: number;
  /** D, or 'auto' (decided at the start of a threaded run, src/threads/dilation.ts). */
  timeDilation: number | 'auto';
  /** Auto dilation: the wall time (us) the dilated migration may take (src/threads/dilation.ts). */
  wallBudgetUs: number;
  unsafePublishBeforeCopyUs: number;
  injectFault: 'none' | 'source-dies' | 'fetcher-dies' | 'vcpu-dies' | 'handler-dies';
  inject: Injection[];
  reconnectUs: number;
  unsafeForgetResend: boolean;
  injectBug: 'none' | 'skip-resend' | 'lose-discard' | 'install-old-version';
  engine: 'threads' | 'virtual';
  costs: string | undefined;
  profile: 'this-host' | 'large-host';
  cores: number | undefined;
  uffdMode: 'missing' | 'minor';
  wakeBatch: number;
  exitResolver: 'fetcher' | 'vcpu';
  recordSendOrder: boolean;
  arch: ArchName;
  faultRecord: RecordName;
  execRatio: number;
  pageTables: boolean;
  mteFraction: number;
  confidential: boolean;
  sharedFraction: number;
  convertRatio: number;
  conversionUs: number;
  tagRestoreUs: number;
  recordFaultOrder: boolean;
}
