/**
 * The engine's event stream: what the CLI progress, the HTML report's live cousin (the demo) and any
 * other observer consume. Published by the main thread from shared counters at a bounded rate (one
 * tick per `eventIntervalMs`), never from a hot path: a run with no subscriber pays nothing.
 */
import type { RunResult } from './model/result.js';
import type { DecodedFault } from './model/arch/decoded-fault.js';

export type { DecodedFault };

export type VcpuLane = 'running' | 'faulted' | 'waiting' | 'done';

export interface VcpuSnapshot {
  state: VcpuLane;
  /** gpa of the page it waits on, or null while running */
  waitGpa: number | null;
  waitMs: number;
  faults: number;
  accesses: number;
}

export interface StartEvent {
  type: 'start';
  mode: string;
  strategy: string;
  vcpus: number;
  pages: number;
  pageSize: number;
  memslots: Array<{ baseGpa: number; sizeBytes: number }>;
  /** The memory map's cells: cell c covers pages [c * pagesPerCell, (c + 1) * pagesPerCell). */
  cells: number;
  pagesPerCell: number;
  /** Which engine runs it ('virtual': every tMs is virtual time). Absent from older producers. */
  engine?: 'threads' | 'virtual';
  /** Virtual engine: slow-motion pacing, virtual µs per wall-clock ms (null: as fast as it goes). */
  playback?: { virtualUsPerRealMs: number } | null;
}

export interface TickEvent {
  type: 'tick';
  tMs: number;
  presentPages: number;
  faults: number;
  accesses: number;
  /** rates over the last interval */
  faultsPerSec: number;
  accessesPerSec: number;
  bytesReceived: number;
  blockedVcpus: number;
  blocktimeMs: number;
  vcpus: VcpuSnapshot[];
  /** Live latency histogram: counts per bucket N = [2^N us, 2^(N+1) us) (bucket 0 also holds < 1 us). */
  latencyBuckets: number[];
  /** Memory-map cells whose content changed: [cell, present fraction, demand fraction of present, zero fraction of present]. */
  cells: Array<[number, number, number, number]>;
  /**
   * Virtual engine: fault records queued and not yet resolved at this instant (entries on the uffd
   * wait queues, pending or read, plus memory_fault records in the fetcher's inbox): the queue a
   * class watches pile up. Absent from the threaded engine.
   */
  queuedFaults?: number;
  /** With injections (or a run that can be cut live): the migration's state, QEMU's active / postcopy-paused / postcopy-recover. */
  runState?: 'active' | 'paused' | 'recover';
}

export interface FaultEvent {
  type: 'fault';
  tMs: number;
  vcpu: number;
  page: number;
  record: DecodedFault;
}
export interface EndEvent {
  type: 'end';
  result: RunResult;
}
export interface ErrorEvent {
  type: 'error';
  code: string;
  message: string;
}

export type SimEvent = StartEvent | TickEvent | FaultEvent | EndEvent | ErrorEvent;
