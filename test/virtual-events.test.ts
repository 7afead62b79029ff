// Goal: the virtual engine speaks the same event stream as the threaded engine (start, ticks with
// vCPU lanes, decoded faults, end), observing never changes the run, and slow-motion playback stops
// on its signal. Method: small runVirtual/simulateVirtual runs with fixed costs; every assertion is
// on the events' content and order, never on wall-clock timing.
import { describe, expect, it } from 'vitest';
import type { FaultEvent, SimEvent, StartEvent, TickEvent } from '../src/events.js';
import { mapGeometry } from '../src/model/page-map.js';
import { resolveOptions, SimError, type OptionsInput } from '../src/index.js';
import { runVirtual, simulateVirtual } from '../src/virtual/engine.js';

import { COSTS } from './helpers/virtual-costs.js';
const SMALL: OptionsInput = {
  engine: 'virtual',
  vcpus: 4,
  memory: '1MiB',
  workload: 'sequential',
  partition: true,
  network: 'none',
  accesses: 64,
  writeRatio: 0.3,
};
const opts = (o: OptionsInput) => ({ ...resolveOptions(o), costModel: COSTS });
const stripWall = (r: object) => JSON.stringify({ ...r, wallMs: 0, peakRssBytes: 0 });

function collect(o: OptionsInput, eventIntervalUs = 50) {
  const events: SimEvent[] = [];
  const result = runVirtual(opts(o), COSTS, { onEvent: (e) => events.push(e), eventIntervalUs });
  return { events, result };
}

describe('the virtual engine emits the event stream', () => {
  it('start, ticks, decoded uffd_msg faults, a last tick and end, with sane values', () => {
    const { events, result } = collect({ ...SMALL, mode: 'uffd' });
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('start');
    expect(types.at(-1)).toBe('end');
    expect(types.at(-2)).toBe('tick');
    const start = events[0] as StartEvent;
    expect(start).toMatchObject({ mode: 'uffd', vcpus: 4, pages: 256, pageSize: 4096, engine: 'virtual', playback: null, ...mapGeometry(256) });
    const ticks = events.filter((e): e is TickEvent => e.type === 'tick');
    expect(ticks.length).toBeGreaterThan(3);
    for (let i = 1; i < ticks.length; i++) {
      expect(ticks[i]!.tMs).toBeGreaterThanOrEqual(ticks[i - 1]!.tMs);
      expect(ticks[i]!.faults).toBeGreaterThanOrEqual(ticks[i - 1]!.faults);
      expect(ticks[i]!.presentPages).toBeGreaterThanOrEqual(ticks[i - 1]!.presentPages);
    }
    for (const t of ticks) {
      expect(t.vcpus).toHaveLength(4);
      expect(t.latencyBuckets).toHaveLength(24);
      expect(t.blockedVcpus).toBe(t.vcpus.filter((v) => v.waitGpa !== null).length);
      for (const v of t.vcpus) if (v.state === 'waiting') expect(v.waitGpa).not.toBeNull();
    }
    const last = ticks.at(-1)!;
    expect(last).toMatchObject({ presentPages: 256, faults: result.faults, accesses: result.accesses, blockedVcpus: 0, queuedFaults: 0 });
    expect(last.vcpus.every((v) => v.state === 'done')).toBe(true);
    expect(last.latencyBuckets.reduce((a, b) => a + b, 0)).toBe(result.faults);
    expect(last.blocktimeMs).toBeCloseTo(result.blocktimeMs, 1);
    // Every cell turned fully present at some point.
    const cells = new Map<number, number>();
    for (const t of ticks) for (const [c, p] of t.cells) cells.set(c, p);
    expect(cells.size).toBe(start.cells);
    expect([...cells.values()].every((p) => p === 1)).toBe(true);
    // Faults: decoded as a uffd_msg, at most one per vCPU between two ticks, in the vCPU's own slice.
    const faults = events.filter((e): e is FaultEvent => e.type === 'fault');
    expect(faults.length).toBeGreaterThan(0);
    for (const f of faults) {
      expect(f.record).toMatchObject({ kind: 'uffd_msg', event: 0x12, ptid: f.vcpu, address: f.page * 4096 });
      expect(Math.floor(f.page / 64)).toBe(f.vcpu);
    }
    let since = new Set<number>();
    for (const e of events) {
      if (e.type === 'tick') since = new Set();
      if (e.type === 'fault') {
        expect(since.has(e.vcpu)).toBe(false);
        since.add(e.vcpu);
      }
    }
    expect((events.at(-1) as { result: unknown }).result).toBe(result);
    // The fault-time breakdown, as the threaded engine reports it (uffd mode: no record to a fetcher).
    expect(result.faultBreakdownUs?.toFetcher).toBe(0);
    expect(result.faultBreakdownUs!.toResume).toBeGreaterThanOrEqual(0);
  });

  it('exit mode decodes a memory_fault record with exactly one of READ/WRITE/EXEC', () => {
    const { events } = collect({ ...SMALL, mode: 'exit' });
    const f = events.find((e): e is FaultEvent => e.type === 'fault')!;
    expect(f.record).toMatchObject({ kind: 'memory_fault', exitReason: 39, size: 4096, gpa: f.page * 4096 });
    if (f.record.kind === 'memory_fault') expect(f.record.flagNames.filter((n) => ['READ', 'WRITE', 'EXEC'].includes(n))).toHaveLength(1);
  });

  it('shows the queue piling up behind one uffd reader, and none with exits resolved on the vCPU', () => {
    const many: OptionsInput = { ...SMALL, vcpus: 16, memory: '4MiB', accesses: 64 };
    const peak = (o: OptionsInput) => {
      const ticks = collect(o, 20).events.filter((e): e is TickEvent => e.type === 'tick');
      return {
        queued: Math.max(...ticks.map((t) => t.queuedFaults ?? 0)),
        waiting: Math.max(...ticks.map((t) => t.vcpus.filter((v) => v.state === 'waiting').length)),
      };
    };
    const uffd = peak({ ...many, mode: 'uffd', handlers: 1 });
    expect(uffd.queued).toBeGreaterThan(8);
    expect(uffd.waiting).toBeGreaterThan(8);
    expect(peak({ ...many, mode: 'exit', exitResolver: 'vcpu' }).queued).toBe(0);
  });

  it('a mode none run has every cell present from the first tick', () => {
    const { events } = collect({ ...SMALL, mode: 'none' });
    const first = events.find((e): e is TickEvent => e.type === 'tick')!;
    expect(first.cells.length).toBe((events[0] as StartEvent).cells);
    expect(first.presentPages).toBe(256);
  });

  it('a bad run reports an error event and throws', () => {
    const events: SimEvent[] = [];
    expect(() => runVirtual({ ...opts({ ...SMALL, mode: 'exit' }), injectFault: 'vcpu-dies' }, COSTS, { onEvent: (e) => events.push(e) })).toThrow(SimError);
    expect(events).toEqual([expect.objectContaining({ type: 'error', code: 'BAD_INPUT' })]);
  });
});

describe('observing never changes the run', () => {
  it('identical results with and without onEvent, and with playback', async () => {
    for (const mode of ['uffd', 'exit'] as const) {
      const o: OptionsInput = {
        ...SMALL,
        mode,
        vcpus: 6,
        memory: '2MiB',
        workload: 'zipf',
        partition: false,
        network: 'link',
        accesses: 500,
        bandwidth: '1Gbit',
      };
      const plain = runVirtual(opts(o), COSTS);
      const watched = runVirtual(opts(o), COSTS, { onEvent: () => {}, eventIntervalUs: 7 });
      const played = await simulateVirtual(opts(o), { onEvent: () => {}, playback: { virtualUsPerRealMs: 1e6 } });
      expect(plain.verified).toBe(true);
      expect(stripWall(watched)).toBe(stripWall(plain));
      expect(stripWall(played)).toBe(stripWall(plain));
    }
  });
});

describe('slow-motion playback', () => {
  it('yields to the event loop and stops on its signal with ABORTED', async () => {
    const controller = new AbortController();
    const events: SimEvent[] = [];
    // 1 virtual µs per real ms: this run would take minutes; the first tick stops it.
    const run = simulateVirtual(opts({ ...SMALL, mode: 'uffd' }), {
      signal: controller.signal,
      playback: { virtualUsPerRealMs: 1 },
      eventIntervalMs: 5,
      onEvent: (e) => {
        events.push(e);
        if (e.type === 'tick') controller.abort();
      },
    });
    let settled = false;
    void run.then(
      () => {
        settled = true;
      },
      () => {
        settled = true;
      },
    );
    await new Promise((r) => setImmediate(r));
    expect(settled).toBe(false); // paced: the run is still going after an event-loop turn
    const err = await run.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SimError);
    expect((err as SimError).code).toBe('ABORTED');
    expect(events.map((e) => e.type).filter((t) => t !== 'fault')).toEqual(['start', 'tick', 'error']);
    expect(events.at(-1)).toMatchObject({ type: 'error', code: 'ABORTED' });
  });

  it('an already aborted signal stops before the start', async () => {
    const events: SimEvent[] = [];
    const err = await simulateVirtual(opts({ ...SMALL, mode: 'exit' }), {
      signal: AbortSignal.abort(),
      playback: { virtualUsPerRealMs: 10 },
      onEvent: (e) => events.push(e),
    }).then(
      () => null,
      (e: unknown) => e,
    );
    expect((err as SimError).code).toBe('ABORTED');
    expect(events.map((e) => e.type)).toEqual(['error']);
  });
});
