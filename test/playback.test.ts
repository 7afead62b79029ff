// Goal: a played-back virtual run can be paused on the event it should explain (the next walk fault,
// a queue threshold), single-stepped one fault at a time, and resumed to its end, and pausing never
// changes the run: its result equals the same run played straight through.
// Method: simulateVirtual with playback and a PlaybackControl; the test waits on the control's state
// changes (never on sleeps) and reads the fault events the run emitted.
import { describe, expect, it } from 'vitest';
import { resolveOptions, type OptionsInput } from '../src/options.js';
import { simulateVirtual } from '../src/virtual/engine.js';
import { PlaybackControl, type PlaybackState } from '../src/playback.js';
import type { FaultEvent, SimEvent } from '../src/events.js';

const OPTS: OptionsInput = {
  engine: 'virtual',
  vcpus: 1,
  memory: '4MiB',
  arch: 'arm64',
  pageTables: true,
  workload: 'random',
  strategy: 'demand',
  accesses: 200,
  seed: 2,
};

/** Resolves at the next state change for which `pred` holds (the control calls and drops every listener on each change). */
function nextState(changes: Array<(s: PlaybackState) => void>, pred: (s: PlaybackState) => boolean): Promise<PlaybackState> {
  return new Promise((resolve) => {
    const listen = (s: PlaybackState) => {
      if (pred(s)) resolve(s);
      else changes.push(listen);
    };
    changes.push(listen);
  });
}

describe('pause, single-step, resume', () => {
  it('pauses on the first walk fault, steps fault by fault, runs to the end unchanged', async () => {
    const listeners: Array<(s: PlaybackState) => void> = [];
    const control = new PlaybackControl((s) => {
      for (const l of listeners.splice(0)) l(s);
    });
    const faults: FaultEvent[] = [];
    const onEvent = (e: SimEvent) => {
      if (e.type === 'fault') faults.push(e);
      control.observe(e);
    };
    control.resume({ fault: ['walk'] });
    const firstPause = nextState(listeners, (s) => s.paused);
    const run = simulateVirtual(resolveOptions(OPTS), { onEvent, control, playback: { virtualUsPerRealMs: 1e6 }, eventIntervalUs: 1e6 });
    const p1 = await firstPause;
    expect(p1.reason).toMatch(/^fault: walk/);
    expect(faults.at(-1)!.record.arch!.kind).toBe('walk');
    expect(faults.at(-1)!.record.arch!.hardware.registers[0]!.fields.find((f) => f.name === 'S1PTW')!.value).toBe(1);
    const seen = faults.length;
    // Two single steps: each stops at exactly one more fault (the walk's next level, then the next).
    for (let i = 1; i <= 2; i++) {
      const paused = nextState(listeners, (s) => s.paused);
      control.step();
      await paused;
      expect(faults.length).toBe(seen + i);
    }
    expect(faults[seen]!.record.arch!.level).toBe(1);
    control.resume();
    const r = await run;
    const straight = await simulateVirtual(resolveOptions(OPTS));
    const strip = (x: typeof r) => ({ ...x, wallMs: 0, peakRssBytes: 0 });
    expect(strip(r)).toEqual(strip(straight));
  });

  it('pauses once a tick shows the condition (a queue of faults), and not before', async () => {
    const listeners: Array<(s: PlaybackState) => void> = [];
    const control = new PlaybackControl((s) => {
      for (const l of listeners.splice(0)) l(s);
    });
    let lastTick: SimEvent | null = null;
    const onEvent = (e: SimEvent) => {
      if (e.type === 'tick') lastTick = e;
      control.observe(e);
    };
    control.resume({ queuedAtLeast: 8 });
    const paused = nextState(listeners, (s) => s.paused);
    const o = resolveOptions({
      engine: 'virtual',
      vcpus: 16,
      memory: '16MiB',
      mode: 'uffd',
      workload: 'sequential',
      partition: true,
      network: 'none',
      accesses: 256,
      cores: 20,
    });
    const run = simulateVirtual(o, { onEvent, control, playback: { virtualUsPerRealMs: 1e5 }, eventIntervalUs: 20 });
    expect((await paused).reason).toBe('condition met');
    expect((lastTick as unknown as { queuedFaults: number }).queuedFaults).toBeGreaterThanOrEqual(8);
    control.resume();
    expect((await run).verified).toBe(true);
  });
});
