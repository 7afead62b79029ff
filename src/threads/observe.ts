/**
 * The main thread's view of a running migration: reads the shared counters and builds the event
 * stream (src/events.ts) and the memory map. Off every hot path: it runs on the main thread's
 * sampling timer and only reads shared memory.
 */
import {
  ARRIVED_DEMAND,
  ARRIVED_ZERO,
  CTL_BLOCKED_VCPUS,
  CTL_LATENCY_BUCKETS,
  CTL_PRESENT_PAGES,
  CTL_RX_KIB,
  CTL_WORDS,
  LATENCY_BUCKETS,
  CTL_RUN_STATE,
  RUN_STATES,
  TIME_ALL_BLOCKED_TOTAL_US,
  TIME_OFFSET_BYTES,
  TIME_WORDS,
  VCPU_DONE,
  VCPU_RUNNING,
  VCPU_STRIDE,
  VS_ACCESSES,
  VS_FAULTS,
  VS_LAST_DATA_PAGE,
  VS_LAST_FAULT_US,
  VS_LAST_KIND,
  VS_LAST_PAGE,
  VS_STATE,
  VS_WAIT_PAGE,
  VS_WAIT_SINCE_US,
  TIME_GO_US,
} from './layout.js';
import type { SimEvent, VcpuLane, VcpuSnapshot } from '../events.js';
import { GuestMemory } from './guest-memory.js';
import type { ResolvedOptions } from '../options.js';
import type { SharedState } from './protocol.js';
import type { PageMap } from '../model/result.js';
import { mapGeometry, PageMapBuilder } from '../model/page-map.js';
import { decodedFault, stage1Of, unpackLastFault } from '../model/arch/vcpu-faults.js';

/** The memory map of a finished run, from when and how each page arrived. */
export function pageMap(opts: ResolvedOptions, shared: SharedState): PageMap {
  const map = new PageMapBuilder(opts.pages);
  const ms = new Float32Array(shared.arrivalMsSab);
  const mem = GuestMemory.fromShared(shared);
  if (opts.mode === 'none') map.recordAllPresent();
  else for (let p = 0; p < opts.pages; p++) if (ms[p]! > 0) map.record(p, ms[p]!, mem.arrivedHow(p));
  return map.build();
}

const LANES: VcpuLane[] = ['running', 'faulted', 'waiting', 'done'];

export class EventPublisher {
  private readonly ctl: Int32Array;
  private readonly times: Float64Array;
  private readonly vstats: Float64Array;
  private readonly arrivalMs: Float32Array;
  private readonly mem: GuestMemory;
  private readonly cells: number;
  private readonly pagesPerCell: number;
  private readonly cellPresent: Int32Array;
  private readonly cellDemand: Int32Array;
  private readonly lastFaults: Float64Array;
  private last = { tMs: 0, faults: 0, accesses: 0 };
  private readonly tables: ReturnType<typeof stage1Of>;
  /** The source runs a recovery (injections planned, or a link that may be cut live): ticks carry its state. */
  private readonly hasRunState: boolean;

  constructor(
    private readonly opts: ResolvedOptions,
    shared: SharedState,
    private readonly emit: (e: SimEvent) => void,
  ) {
    this.ctl = new Int32Array(shared.ctlSab, 0, CTL_WORDS);
    this.times = new Float64Array(shared.ctlSab, TIME_OFFSET_BYTES, TIME_WORDS);
    this.vstats = new Float64Array(shared.vcpuStatsSab);
    this.arrivalMs = new Float32Array(shared.arrivalMsSab);
    this.mem = GuestMemory.fromShared(shared);
    ({ cells: this.cells, pagesPerCell: this.pagesPerCell } = mapGeometry(opts.pages));
    this.cellPresent = new Int32Array(this.cells).fill(-1);
    this.cellDemand = new Int32Array(this.cells);
    this.lastFaults = new Float64Array(opts.vcpus);
    this.tables = stage1Of(opts);
    this.hasRunState = shared.wireToDest.length > 0 && (opts.inject.length > 0 || shared.liveLinkCuts);
  }

  start(): void {
    this.emit({
      type: 'start',
      engine: 'threads',
      mode: this.opts.mode,
      strategy: this.opts.strategy,
      vcpus: this.opts.vcpus,
      pages: this.opts.pages,
      pageSize: this.opts.pageSize,
      memslots: this.opts.memslots.map((m) => ({ baseGpa: m.baseGpa, sizeBytes: m.sizeBytes })),
      cells: this.cells,
      pagesPerCell: this.pagesPerCell,
    });
  }

  tick(tMs: number): void {
    const o = this.opts;
    const vcpus: VcpuSnapshot[] = [];
    let faults = 0,
      accesses = 0;
    const nowUs = this.times[TIME_GO_US]! + tMs * 1000;
    for (let v = 0; v < o.vcpus; v++) {
      const b = v * VCPU_STRIDE;
      const state = this.vstats[b + VS_STATE]!;
      const waitPage = this.vstats[b + VS_WAIT_PAGE]!;
      const f = this.vstats[b + VS_FAULTS]!;
      faults += f;
      accesses += this.vstats[b + VS_ACCESSES]!;
      const waiting = waitPage > 0 && state !== VCPU_RUNNING && state !== VCPU_DONE;
      vcpus.push({
        state: LANES[state] ?? 'running',
        waitGpa: waiting ? this.mem.gpaOfPage(waitPage - 1) : null,
        waitMs: waiting ? Math.max(0, (nowUs - this.vstats[b + VS_WAIT_SINCE_US]!) / 1000) : 0,
        faults: f,
        accesses: this.vstats[b + VS_ACCESSES]!,
      });
      if (f !== this.lastFaults[v]) {
        this.lastFaults[v] = f;
        const page = this.vstats[b + VS_LAST_PAGE]!;
        const last = unpackLastFault(this.vstats[b + VS_LAST_KIND]!, page, this.vstats[b + VS_LAST_DATA_PAGE]!);
        this.emit({
          type: 'fault',
          tMs: Math.max(0, (this.vstats[b + VS_LAST_FAULT_US]! - this.times[TIME_GO_US]!) / 1000),
          vcpu: v,
          page,
          record: decodedFault(this.opts, this.tables, last, this.mem.gpaOfPage(page), v),
        });
      }
    }
    const dt = Math.max(1e-3, (tMs - this.last.tMs) / 1000);
    const latencyBuckets: number[] = [];
    for (let i = 0; i < LATENCY_BUCKETS; i++) latencyBuckets.push(Atomics.load(this.ctl, CTL_LATENCY_BUCKETS + i));
    this.emit({
      type: 'tick',
      tMs: Math.round(tMs * 10) / 10,
      presentPages: Atomics.load(this.ctl, CTL_PRESENT_PAGES),
      faults,
      accesses,
      faultsPerSec: Math.round((faults - this.last.faults) / dt),
      accessesPerSec: Math.round((accesses - this.last.accesses) / dt),
      bytesReceived: Atomics.load(this.ctl, CTL_RX_KIB) * 1024,
      blockedVcpus: Atomics.load(this.ctl, CTL_BLOCKED_VCPUS),
      blocktimeMs: Math.round(this.times[TIME_ALL_BLOCKED_TOTAL_US]! / 100) / 10,
      vcpus,
      latencyBuckets,
      cells: this.changedCells(),
      ...(this.hasRunState ? { runState: RUN_STATES[Atomics.load(this.ctl, CTL_RUN_STATE)] ?? 'active' } : {}),
    });
    this.last = { tMs, faults, accesses };
  }

  private changedCells(): Array<[number, number, number, number]> {
    const out: Array<[number, number, number, number]> = [];
    const ppc = this.pagesPerCell;
    for (let c = 0; c < this.cells; c++) {
      let present = 0,
        demand = 0,
        zero = 0;
      const end = Math.min(this.opts.pages, (c + 1) * ppc);
      for (let p = c * ppc; p < end; p++) {
        if (this.opts.mode === 'none' || this.arrivalMs[p]! > 0) {
          present++;
          const how = this.mem.arrivedHow(p);
          if (how & ARRIVED_DEMAND) demand++;
          if (how & ARRIVED_ZERO) zero++;
        }
      }
      if (present !== this.cellPresent[c] || demand !== this.cellDemand[c]) {
        this.cellPresent[c] = present;
        this.cellDemand[c] = demand;
        const n = end - c * ppc;
        out.push([
          c,
          Math.round((present / n) * 100) / 100,
          present ? Math.round((demand / present) * 100) / 100 : 0,
          present ? Math.round((zero / present) * 100) / 100 : 0,
        ]);
      }
    }
    return out;
  }
}
