/**
 * The virtual engine's observer: the guest-progress timeline, progress callbacks, and the event
 * stream (src/events.ts) on the virtual clock. A tick describes the state at a tick boundary, built
 * between two events from what the engine already keeps; it reads state and never schedules
 * anything, so a run with onEvent is the same run as without. What the actors mark as they go (the
 * cells that changed, the latency histogram) is in the state's EventMarks (event-marks.ts).
 */
import { Errors } from '../errors.js';
import type { DecodedFault, SimEvent, VcpuSnapshot } from '../events.js';
import { blocktimeUs } from '../model/blocktime.js';
import { gpaOfPage } from '../model/memslots.js';
import { pushSample } from '../model/timeline.js';
import { decodedFault } from '../model/arch/vcpu-faults.js';
import { DONE, SLEEP, WAKING } from './kernel.js';
import type { VirtualSim } from './sim.js';

export class EventStream {
  readonly emit: ((e: SimEvent) => void) | null;
  readonly everyUs: number;
  nextUs = Infinity;
  private readonly faultsSeen: Float64Array;
  private last = { tUs: 0, faults: 0, accesses: 0 };

  constructor(private readonly sim: VirtualSim) {
    const hooks = sim.hooks;
    this.emit = hooks.onEvent ?? null;
    this.everyUs = hooks.eventIntervalUs ?? (hooks.eventIntervalMs ?? 100) * (hooks.playback ? hooks.playback.virtualUsPerRealMs : 1000);
    if (this.emit && !(this.everyUs > 0)) throw Errors.badInput('eventIntervalUs', 'the tick interval must be positive');
    this.faultsSeen = new Float64Array(this.emit ? sim.opts.vcpus : 0);
  }

  /** The timeline (and progress callback) up to virtual time tUs; `final` adds the last sample. */
  sample(tUs: number, final = false): void {
    const sim = this.sim;
    while (sim.nextSampleUs <= tUs || final) {
      let faults = 0;
      for (const s of sim.vcpus) faults += s.faults;
      const sample = {
        tMs: Math.round(Math.min(tUs, sim.nextSampleUs) / 10) / 100,
        accesses: sim.totalAccesses,
        faults,
        presentPages: sim.presentPages,
        blockedVcpus: sim.blocks.blocked,
      };
      if (pushSample(sim.timeline, sample)) sim.sampleEveryUs *= 2;
      sim.nextSampleUs += sim.sampleEveryUs;
      if (final) break;
    }
    const hooks = sim.hooks;
    if (hooks.onProgress && tUs >= sim.nextProgressUs) {
      sim.nextProgressUs = tUs + (hooks.progressMs ?? 100) * 1000;
      hooks.onProgress({ tMs: tUs / 1000, presentPages: sim.presentPages, pages: sim.pages, faults: sim.totalFaults, accesses: sim.totalAccesses });
    }
  }

  start(): void {
    if (!this.emit) return;
    const o = this.sim.opts,
      m = this.sim.map;
    this.emit({
      type: 'start',
      mode: o.mode,
      strategy: o.strategy,
      vcpus: o.vcpus,
      pages: o.pages,
      pageSize: o.pageSize,
      memslots: o.memslots.map((s) => ({ baseGpa: s.baseGpa, sizeBytes: s.sizeBytes })),
      cells: m.cells,
      pagesPerCell: m.pagesPerCell,
      engine: 'virtual',
      playback: this.sim.hooks.playback ? { virtualUsPerRealMs: this.sim.hooks.playback.virtualUsPerRealMs } : null,
    });
    this.nextUs = this.everyUs;
  }

  /** Before an event at tUs: the state at the last boundary <= tUs is the state now, before tUs's events. */
  tickUpTo(tUs: number): void {
    if (tUs < this.nextUs) return;
    const boundary = this.nextUs + Math.floor((tUs - this.nextUs) / this.everyUs) * this.everyUs;
    this.tick(boundary);
    this.nextUs = boundary + this.everyUs;
  }

  finalTick(): void {
    if (this.emit) this.tick(this.sim.now);
  }

  /** Publishes the state at virtual time tUs: each vCPU's latest new fault, then a tick. Reads only. */
  tick(tUs: number): void {
    const emit = this.emit!,
      sim = this.sim;
    const vcpus: VcpuSnapshot[] = [];
    let accesses = 0;
    for (let v = 0; v < sim.opts.vcpus; v++) {
      const s = sim.vcpus[v]!,
        t = sim.threads[v]!;
      const blocked = s.entryPage >= 0 && t.state !== DONE;
      const n = s.reads + s.writes;
      accesses += n;
      vcpus.push({
        state: t.state === DONE ? 'done' : !blocked ? 'running' : t.state === SLEEP || t.state === WAKING ? 'waiting' : 'faulted',
        waitGpa: blocked ? gpaOfPage(sim.opts.memslots, sim.opts.pageSize, s.entryPage) : null,
        waitMs: blocked ? Math.round(Math.max(0, tUs - s.faultStartUs)) / 1000 : 0,
        faults: s.faults,
        accesses: n,
      });
      if (s.faults !== this.faultsSeen[v] && s.lastPage >= 0) {
        this.faultsSeen[v] = s.faults;
        emit({ type: 'fault', tMs: Math.round(s.faultStartUs) / 1000, vcpu: v, page: s.lastPage, record: this.decode(v, s.lastPage) });
      }
    }
    const faults = sim.totalFaults;
    const dt = (tUs - this.last.tUs) / 1e6;
    const rate = (d: number) => (dt > 0 ? Math.round(d / dt) : 0);
    const marks = sim.marks;
    const cells = marks.dirtyCells.map((c) => {
      marks.cellDirty[c] = 0;
      return sim.map.cellView(c);
    });
    marks.dirtyCells.length = 0;
    let queued = sim.faultInbox.length - sim.faultHead;
    for (const q of sim.uffds) queued += q.pendingCount + q.waitingCount;
    emit({
      type: 'tick',
      tMs: Math.round(tUs) / 1000,
      presentPages: sim.presentPages,
      faults,
      accesses,
      faultsPerSec: rate(faults - this.last.faults),
      accessesPerSec: rate(accesses - this.last.accesses),
      bytesReceived: sim.fstats.reduce((a, st) => a + st.bytesReceived, 0),
      blockedVcpus: sim.blocks.blocked,
      blocktimeMs: Math.round(blocktimeUs(sim.blocks, tUs)) / 1000,
      vcpus,
      latencyBuckets: marks.latencyBuckets.slice(),
      cells,
      queuedFaults: queued,
      ...(sim.recovery ? { runState: sim.recovery.state } : {}),
    });
    this.last = { tUs, faults, accesses };
  }

  private decode(v: number, page: number): DecodedFault {
    const o = this.sim.opts,
      a = this.sim.vcpus[v]!.arch;
    return decodedFault(o, a.tables, a.last, gpaOfPage(o.memslots, o.pageSize, page), v);
  }
}
