// Goal: the demo server's pause control over HTTP: a virtual run started with a condition pauses on
// that fault, single-steps one fault at a time and resumes to its end; a threaded run cannot pause;
// bad conditions are one-line 400s; the link of a run on either engine can be cut live (not a run
// without a link), and the migration pauses, recovers and verifies; the six lessons are valid
// virtual-engine plans.
// Method: a real server on port 0, raw requests and an SSE reader (test/demo-client.ts); waits on
// the events the server streams, never on sleeps or timings.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planDemoRun } from '../src/demo/params.js';
import { startDemoServer, type DemoServer } from '../src/demo/server.js';
import { http, ofRun, postJson, sse, useServer } from './demo-client.js';

let server: DemoServer;
useServer(() => server);
beforeAll(async () => {
  server = await startDemoServer({ port: 0, maxVcpus: 4, maxMemoryBytes: 64 * 2 ** 20 });
});
afterAll(async () => {
  await server?.close();
});

describe('pause, single-step and resume over HTTP (issue 14)', () => {
  it('a virtual run started with `until` pauses on that fault; step and resume move it on; it ends', async () => {
    const events = sse();
    const start = await postJson('/api/start', {
      engine: 'virtual',
      mode: 'exit',
      vcpus: 1,
      memory: '8MiB',
      workload: 'random',
      strategy: 'demand',
      accesses: 100,
      arch: 'arm64',
      pageTables: 'true',
      speed: 'x10',
      until: { fault: ['walk'] },
    });
    expect(start.status).toBe(200);
    const run = JSON.parse(start.body).run;
    await events.until((m) => ofRun(m, run, 'playback').some((p) => p.paused), 'the pause on the first walk');
    const faults = () => ofRun(events.messages, run, 'fault') as Array<{ record: { arch: { kind: string; level: number } } }>;
    expect(faults().at(-1)!.record.arch.kind).toBe('walk');
    const seen = faults().length;
    const step = await postJson('/api/step', {});
    expect(JSON.parse(step.body)).toMatchObject({ run, paused: false, until: { fault: 'any' } });
    await events.until((m) => ofRun(m, run, 'playback').filter((p) => p.paused).length >= 2, 'the pause after one step');
    expect(faults().length).toBe(seen + 1);
    expect(faults().at(-1)!.record.arch.level).toBe(1);
    expect((await postJson('/api/resume', { until: { fault: 'bogus' } })).body).toMatch(/until\.fault/);
    expect((await postJson('/api/resume', {})).status).toBe(200);
    await events.until((m) => ofRun(m, run, 'end').length === 1, 'the end');
    events.close();
  });

  it('refuses to pause a threaded run (409) and a bad condition at start (400)', async () => {
    const r = await postJson('/api/start', { mode: 'exit', vcpus: 1, memory: '8MiB', speed: 'x10' });
    expect(r.status).toBe(200);
    const p = await postJson('/api/pause', {});
    expect(p.status).toBe(409);
    expect(JSON.parse(p.body).error).toMatch(/virtual engine/);
    await postJson('/api/stop', {});
    const bad = await postJson('/api/start', { engine: 'virtual', until: { queuedAtLeast: 0 } });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body).error).toMatch(/^until\.queuedAtLeast/);
  });

  it('cuts the link of a playing virtual run: the migration pauses, recovers and verifies (issue 12)', async () => {
    const events = sse();
    // Paused at the first fault (so the cut surely lands before the migration ends), cut, resumed.
    const start = await postJson('/api/start', {
      engine: 'virtual',
      mode: 'uffd',
      vcpus: 2,
      memory: '32MiB',
      workload: 'random',
      strategy: 'linear',
      speed: 'realtime',
      until: { fault: 'any' },
    });
    expect(start.status).toBe(200);
    const run = JSON.parse(start.body).run;
    type Tick = { runState?: string };
    const states = () => (ofRun(events.messages, run, 'tick') as Tick[]).map((t) => t.runState);
    await events.until((m) => ofRun(m, run, 'playback').some((p) => p.paused), 'the pause on the first fault');
    expect(states().at(-1)).toBe('active');
    expect((await postJson('/api/cut-link', { durationMs: 0 })).body).toMatch(/durationMs/);
    expect((await postJson('/api/cut-link', { durationMs: 5 })).status).toBe(200);
    expect((await postJson('/api/resume', {})).status).toBe(200);
    await events.until(() => states().includes('paused'), 'a tick while paused');
    await events.until((m) => ofRun(m, run, 'end').length === 1, 'the end');
    const seen = states().filter((x, i, a) => x !== a[i - 1]);
    expect(seen.slice(0, 2)).toEqual(['active', 'paused']);
    const result = (
      ofRun(events.messages, run, 'end')[0] as {
        result: { verified: boolean; recovery: { timeline: Array<{ state: string }>; injections: Array<{ spec: string }> } };
      }
    ).result;
    expect(result.verified).toBe(true);
    expect(result.recovery.timeline.map((t) => t.state)).toEqual(['paused', 'recover', 'active']);
    expect(result.recovery.injections.map((i) => i.spec)).toEqual([expect.stringMatching(/^link-down@[\d.]+(us|ms)\+5ms$/)]);
    events.close();
  });

  it('cuts the link of a threaded run: its ticks carry the migration state, which pauses, recovers and verifies (issue 23)', async () => {
    const events = sse();
    const start = await postJson('/api/start', {
      engine: 'threads',
      mode: 'exit',
      vcpus: 2,
      memory: '32MiB',
      workload: 'random',
      strategy: 'linear',
      speed: 'x10',
    });
    expect(start.status).toBe(200);
    const run = JSON.parse(start.body).run;
    await events.until((m) => ofRun(m, run, 'run').length > 0, 'the run message');
    expect(ofRun(events.messages, run, 'run')[0]).toMatchObject({ pausable: false, cuttable: true });
    type Tick = { runState?: string; presentPages: number };
    const ticks = () => ofRun(events.messages, run, 'tick') as Tick[];
    // Cut once pages arrive, long before the last one: 32 MiB at 1 Gbit/s slowed x10 takes seconds.
    await events.until(() => ticks().some((t) => t.presentPages > 0), 'the first page');
    expect(ticks().at(-1)!.runState).toBe('active');
    expect((await postJson('/api/cut-link', { durationMs: 'long' })).body).toMatch(/durationMs/);
    expect((await postJson('/api/cut-link', { durationMs: 5 })).status).toBe(200);
    await events.until((m) => ofRun(m, run, 'end').length + ofRun(m, run, 'error').length === 1, 'the end');
    expect(ofRun(events.messages, run, 'error')).toEqual([]);
    // The monitor samples the state every 10 ms of wall time: a recover shorter than that (one
    // bitmap crossing the link) may fall between two samples; the pause (5 ms + the 50 ms reconnect) cannot.
    const seen = ticks()
      .map((t) => t.runState)
      .filter((x, i, a) => x !== a[i - 1]);
    expect(seen.filter((x) => x !== 'recover')).toEqual(['active', 'paused', 'active']);
    const result = (
      ofRun(events.messages, run, 'end')[0] as {
        result: { verified: boolean; recovery: { timeline: Array<{ state: string }>; injections: Array<{ spec: string }> } };
      }
    ).result;
    expect(result.verified).toBe(true);
    expect(result.recovery.timeline.map((t) => t.state)).toEqual(['paused', 'recover', 'active']);
    expect(result.recovery.injections.map((i) => i.spec)).toEqual([expect.stringMatching(/^link-down@[\d.]+(us|ms)\+5ms$/)]);
    events.close();
  });

  it('refuses to cut the link of a run without one (409), on either engine', async () => {
    for (const engine of ['threads', 'virtual']) {
      const r = await postJson('/api/start', { engine, mode: 'exit', vcpus: 1, memory: '8MiB', network: 'none', speed: 'x10' });
      expect(r.status).toBe(200);
      const cut = await postJson('/api/cut-link', {});
      expect(cut.status, engine).toBe(409);
      expect(JSON.parse(cut.body).error).toMatch(/modelled link/);
      await postJson('/api/stop', {});
    }
  });

  it('offers the six lessons, each run a valid virtual-engine plan', async () => {
    const cfg = JSON.parse((await http('GET', '/api/config')).body);
    const lessons = cfg.choices.lessons as Array<{ id: string; runs: Array<{ controls: Record<string, string> }>; steps: Array<{ run: number }> }>;
    expect(lessons).toHaveLength(6);
    for (const l of lessons) {
      for (const run of l.runs) expect(planDemoRun(run.controls).effective.engine).toBe('virtual');
      for (const s of l.steps) expect(s.run).toBeLessThan(l.runs.length);
    }
  });
});
