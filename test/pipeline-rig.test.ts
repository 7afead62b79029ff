// Goal: the pipeline rig that the probe times and the service threads warm up on moves real pages
// through the real code: every pass installs every page exactly once, pushed or demanded, and each
// installed page holds the source image's bytes, over an instant link and over a modelled one; the
// warm-up runs once per thread and page size (an instant link, then the run's own), skips pages too
// large to warm, and a threaded run whose services warmed up still verifies. A ring's prefault
// changes no byte of the frames in it.
// Method: rigs on small guests; the guest is scribbled over between passes, so a page that was not
// installed again (or installed from the wrong slot) fails the end-of-run proof (verifyPages); the
// fetcher's counters of the pass say how each page came. The prefault runs between a writer's
// frames and the reader's reads of them.
import { expect, it } from 'vitest';
import { PipelineRig } from '../src/threads/pipeline-rig.js';
import { rigOptions, warmUpOptions } from '../src/threads/pipeline-probe.js';
import { openShared } from '../src/threads/shared.js';
import { verifyPages } from '../src/threads/verify.js';
import { WARM_UP_LINK_MIN_BPS, WARM_UP_LINK_PAGES, WARM_UP_PAGES, warmUpPipeline } from '../src/threads/warm-up.js';
import { allocateWire, WireRing } from '../src/threads/wire.js';
import { simulate } from '../src/index.js';

const MiB = 1024 * 1024;

function scribble(rig: PipelineRig): void {
  for (const words of openShared(rig.shared).mem.slotWords) words.fill(0x5a5a5a5a);
}

it('pushes every page once per pass, each holding the image bytes', () => {
  const rig = new PipelineRig(rigOptions(4096, 1 * MiB));
  expect(rig.pages).toBe(256);
  for (let pass = 0; pass < 3; pass++) {
    scribble(rig);
    const p = rig.pass();
    expect(p.cpuUs).toBeGreaterThan(0);
    expect(p.sourceUs + p.destinationUs).toBeCloseTo(p.perPageUs, 6);
    expect(rig.lastStats).toMatchObject({ installedPushed: 256, installedDemand: 0, installedZero: 0, eexist: 0 });
    expect(verifyPages(rig.shared, 0, rig.pages)).toMatchObject({ pagesChecked: 256, pagesNotPresent: 0, pagesWrong: 0, firstProblem: null });
  }
});

it('with demands and zero pages, every page still comes once, by demand or by push, and verifies', () => {
  const rig = new PipelineRig(rigOptions(4096, 2 * MiB, { zeroFraction: 0.25, sendBufferBytes: 256 * 1024 }), 16);
  for (let pass = 0; pass < 2; pass++) {
    rig.pass();
    const s = rig.lastStats!;
    expect(s.installedDemand).toBeGreaterThan(0);
    expect(s.installedDemand + s.installedPushed).toBe(512);
    expect(s.installedZero).toBeGreaterThan(0);
    expect(s.requestsSent).toBeGreaterThanOrEqual(s.installedDemand);
    expect(s.eexist).toBe(0);
    expect(verifyPages(rig.shared, 0, rig.pages)).toMatchObject({ pagesNotPresent: 0, pagesWrong: 0 });
  }
});

it("warms up once per thread and page size, on an instant link and then on the run's own, and not for huge pages", () => {
  const link = { bandwidthBps: 25e9, latencyUs: 50 };
  const warm = warmUpOptions({ pageSize: 4096, zeroFraction: 0.1, strategy: 'prepaging', ...link })!;
  expect(warm.rig.strategy).toBe('prepaging');
  expect(warm.linkRig.strategy).toBe('prepaging');
  expect(warm.linkRig).toMatchObject({ bandwidthBps: 25e9, latencyUs: 50 });
  expect(warm.rig.bandwidthBps).toBeGreaterThan(warm.linkRig.bandwidthBps);
  expect(warmUpOptions({ pageSize: 4096, zeroFraction: 0, strategy: 'linear', bandwidthBps: 1e9, latencyUs: 50 })!.linkRig.bandwidthBps).toBe(
    WARM_UP_LINK_MIN_BPS,
  ); // a slow link's warm-up runs at the floor
  expect(warmUpOptions({ pageSize: 4096, zeroFraction: 0.1, strategy: 'hybrid', ...link })!.rig.strategy).toBe('linear'); // precopy: a rig only pushes
  expect(warmUpOptions({ pageSize: 4096, zeroFraction: 0.1, strategy: 'preempt', ...link })!.rig.strategy).toBe('linear'); // its demands go to the preempt thread
  expect(warmUpOptions({ pageSize: 2 * MiB, zeroFraction: 0, strategy: 'hugepage', ...link })).toBeUndefined();
  expect(warmUpPipeline(warm)).toBeGreaterThanOrEqual(WARM_UP_PAGES + WARM_UP_LINK_PAGES);
  expect(warmUpPipeline(warm)).toBe(0);
});

it('a rig over a modelled link, where frames arrive in the future, still installs every page once', () => {
  const rig = new PipelineRig(rigOptions(4096, 1 * MiB, { link: { bandwidthBps: 10e9, latencyUs: 50 }, sendBufferBytes: 256 * 1024 }), 16);
  rig.pass();
  const s = rig.lastStats!;
  expect(s.installedDemand + s.installedPushed).toBe(256);
  expect(verifyPages(rig.shared, 0, rig.pages)).toMatchObject({ pagesNotPresent: 0, pagesWrong: 0 });
});

it('threaded runs whose source and fetcher warmed up verify, whatever their strategy and fault path', async () => {
  for (const extra of [{}, { strategy: 'preempt' }, { strategy: 'prepaging' }, { mode: 'uffd', handlers: 1 }] as const) {
    const r = await simulate({ vcpus: 2, memory: 8 * MiB, bandwidth: '10Gbit', latency: '50us', network: 'link', timeDilation: 1, seed: 3, ...extra });
    expect(r.verified).toBe(true);
    expect(r.pagesDemand + r.pagesPushed).toBe(2048);
  }
});

it('prefaulting a ring leaves the frames in it as they were', () => {
  const ring = new WireRing(allocateWire({ recordBytes: 64 * 1024, slots: 8, slotBytes: 4096 }));
  for (let i = 0; i < 6; i++) {
    const at = ring.reserve(2, i, i + 1, i + 2, true, i * 10);
    ring.payload.fill(i * 1000 + 7, at, at + 1024);
  }
  ring.publish();
  ring.prefault();
  for (let i = 0; i < 6; i++) {
    expect(ring.peek()).toBe(i * 10);
    expect([ring.kind, ring.a, ring.b, ring.c]).toEqual([2, i, i + 1, i + 2]);
    expect(ring.payloadView()!.every((w) => w === i * 1000 + 7)).toBe(true);
    ring.consume();
  }
  expect(ring.peek()).toBe(-1);
});
