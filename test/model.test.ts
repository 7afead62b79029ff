// Goal: the model's decisions, which both engines run, hold on their own, without threads.
// Method: each piece driven directly with tiny inputs whose outcome is worked out by hand.
import { createHistogram } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { decideFault, FAULT_MERGED, FAULT_PRESENT, FAULT_REQUEST } from '../src/model/fault-decision.js';
import { gpaOfPage, pageOfGpa, pagesPerUffd, uffdOfPage } from '../src/model/memslots.js';
import { ARRIVED_DEMAND, ARRIVED_ZERO, PageMapBuilder } from '../src/model/page-map.js';
import { PAGE_FLAG_DEMAND, PAGE_FLAG_PREFETCH, PAGE_FLAG_ZERO } from '../src/model/page-flags.js';
import { PAGE_MISSING, PAGE_PRESENT, PAGE_REQUESTED, type PageStates } from '../src/model/page-state.js';
import { PrecopyRounds } from '../src/model/precopy.js';
import { buildResult, type RunTotals, type VcpuTotals } from '../src/model/run-result.js';
import { SendPolicy } from '../src/model/send-policy.js';
import { latencyBucket, newFetcherStats, newSourceStats } from '../src/model/stats.js';
import { createStrategy } from '../src/model/strategies/index.js';
import { MAX_TIMELINE_SAMPLES, pushSample } from '../src/model/timeline.js';
import { resolveOptions } from '../src/options.js';
import { formatInjection, parseInjection } from '../src/model/injections.js';

/** The model's precopy reads no trace in these runs. */
const noTrace = () => null;

class Table implements PageStates {
  constructor(readonly s: Uint8Array) {}
  claim(p: number): boolean {
    if (this.s[p] !== PAGE_MISSING) return false;
    this.s[p] = PAGE_REQUESTED;
    return true;
  }
  isPresent(p: number): boolean {
    return this.s[p] === PAGE_PRESENT;
  }
}

describe('the fault decision', () => {
  it('requests a missing page once, merges the next fault, sees a present page', () => {
    const pages = new Table(new Uint8Array([PAGE_MISSING, PAGE_PRESENT]));
    const st = newFetcherStats('fetcher');
    expect(decideFault(pages, 0, st)).toBe(FAULT_REQUEST);
    expect(decideFault(pages, 0, st)).toBe(FAULT_MERGED);
    expect(decideFault(pages, 1, st)).toBe(FAULT_PRESENT);
    expect(st).toMatchObject({ faultRecords: 3, mergedFaults: 1, alreadyPresent: 1 });
    expect(decideFault(pages, 0, null)).toBe(FAULT_MERGED); // a vCPU resolving its own exit counts nothing
  });
});

describe('the statistics', () => {
  it('start every counter and microsecond total at zero (the totals are created as doubles, then zeroed)', () => {
    for (const st of [newFetcherStats('fetcher'), newSourceStats()])
      for (const [k, v] of Object.entries(st)) if (k !== 'role') expect([k, v, Object.is(v, -0)]).toEqual([k, 0, false]);
    const src = newSourceStats();
    src.linkStallUsTotal += 2.5;
    expect(src.linkStallUsTotal).toBe(2.5);
  });
});

describe('the send policy', () => {
  const policy = (strategy: string) => new SendPolicy(8, createStrategy(strategy as never, { pages: 8, vcpus: 1, precopyRounds: 2 }), newSourceStats());

  it('never sends a page twice; a request for a sent page is counted, not sent', () => {
    const p = policy('linear');
    expect(p.nextPush()).toBe(0);
    const prefetch: number[] = [];
    expect(p.onRequest(0, 0, 0, prefetch)).toBe(false);
    expect(p.onRequest(5, 0, 0, prefetch)).toBe(true);
    expect(p.claim(5)).toBe(true);
    expect(p.claim(5)).toBe(false);
    expect(p.stats).toMatchObject({ requestsReceived: 2, requestsForSentPages: 1 });
    const order: number[] = [];
    for (let q = p.nextPush(); q >= 0; q = p.nextPush()) order.push(q);
    expect(order).toEqual([6, 7, 1, 2, 3, 4]); // linear restarts its scan after the requested page (QEMU)
  });

  it('routes demanded pages to the urgent socket only for preempt; counts what went out', () => {
    expect(policy('linear').isUrgent(PAGE_FLAG_DEMAND)).toBe(false);
    const p = policy('preempt');
    expect(p.isUrgent(PAGE_FLAG_DEMAND)).toBe(true);
    expect(p.isUrgent(PAGE_FLAG_PREFETCH)).toBe(false);
    p.countSent(3, PAGE_FLAG_DEMAND, true, 10, 25, 40);
    p.countSent(4, PAGE_FLAG_ZERO, false, 0, 0, 30);
    expect(p.stats).toMatchObject({ pagesSent: 2, pagesDemand: 1, pagesUrgent: 1, pagesPushed: 1, zeroPages: 1, demandQueueUsTotal: 15, lastArriveUs: 40 });
  });

  it("hybrid's switch leaves exactly the stale pages to send", () => {
    const p = policy('hybrid');
    p.resetTo([6, 2]);
    expect(p.unsent).toBe(2);
    expect([p.nextPush(), p.nextPush(), p.nextPush()]).toEqual([2, 6, -1]);
  });
});

describe('memslots', () => {
  const o = resolveOptions({
    memslots: [
      { base: 0, size: '1MiB' },
      { base: '4MiB', size: '1MiB' },
    ],
    vcpus: 2,
  });
  it('maps gpa <-> dense page across a hole, and -1 outside every memslot', () => {
    expect(pageOfGpa(o.memslots, 4096, 0x400000 + 4096)).toBe(257);
    expect(gpaOfPage(o.memslots, 4096, 257)).toBe(0x401000);
    expect(pageOfGpa(o.memslots, 4096, 0x200000)).toBe(-1);
  });
  it('gives each uffd its vCPU slice', () => {
    expect(pagesPerUffd(o)).toBe(256);
    expect([uffdOfPage(10, 2, 256), uffdOfPage(300, 2, 256), uffdOfPage(300, 1, 256)]).toEqual([0, 1, 0]);
  });
});

describe('statistics', () => {
  it('latency buckets are [2^N, 2^(N+1)) us, capped', () => {
    expect([latencyBucket(0.5), latencyBucket(2), latencyBucket(3.9), latencyBucket(4), latencyBucket(1e12)]).toEqual([0, 1, 1, 2, 23]);
  });
  it('the timeline halves its resolution when full', () => {
    const tl = [];
    let halvings = 0;
    for (let i = 0; i < MAX_TIMELINE_SAMPLES; i++) if (pushSample(tl, { tMs: i, accesses: 0, faults: 0, presentPages: 0, blockedVcpus: 0 })) halvings++;
    expect(halvings).toBe(1);
    expect(tl.length).toBe(MAX_TIMELINE_SAMPLES / 2);
    expect(tl[1]!.tMs).toBe(2);
  });
  it('the page map averages arrival per cell and forgets a discarded page', () => {
    const m = new PageMapBuilder(4);
    m.record(0, 10, ARRIVED_DEMAND);
    m.record(1, 30, ARRIVED_ZERO);
    m.record(2, 5, 0);
    m.forget(2, 5, 0);
    expect(m.build()).toEqual({ cells: 4, pagesPerCell: 1, arrivalMs: [10, 30, 0, 0], demand: [1, 0, 0, 0], zero: [0, 1, 0, 0] });
  });
});

describe('precopy rounds', () => {
  it('dirty each page at most once per round, hot pages first, deterministically', () => {
    const o = resolveOptions({ memory: '4MiB', strategy: 'hybrid', dirtyRate: '400MiB', seed: 5 });
    const a = new PrecopyRounds(o, noTrace).dirtied(10_000),
      b = new PrecopyRounds(o, noTrace).dirtied(10_000);
    expect(a).toEqual(b);
    expect(new Set(a).size).toBe(a.length);
    expect(a.length).toBeGreaterThan(0);
    expect(a.length).toBeLessThanOrEqual(1024);
  });
});

describe('the result builder', () => {
  it('derives rates, blocktime and the verdict the same way for any engine', () => {
    const o = resolveOptions({ vcpus: 2, memory: '1MiB', network: 'none', accesses: 100 });
    const v = (faults: number, runUs: number, firstBadRead: string | null = null): VcpuTotals => ({
      accesses: 100,
      faults,
      faultsRead: faults,
      faultsWrite: 0,
      faultsExec: 0,
      blockedUs: 1000,
      runUs,
      badReads: firstBadRead ? 1 : 0,
      firstBadRead,
      resumeLagUsTotal: 0,
      selfInstalled: 0,
      selfEexist: 0,
      selfRequests: 0,
    });
    const fetcher = { ...newFetcherStats('fetcher'), installedDemand: 30, installedPushed: 226, eexist: 2 };
    const totals: RunTotals = {
      engine: 'virtual',
      opts: o,
      vcpus: [v(10, 1e6), v(20, 2e6)],
      latency: createHistogram(),
      source: null,
      fetchers: [fetcher],
      uffd: null,
      uffdQueues: 0,
      proof: { pagesNotPresent: 0, pagesWrong: 0, firstProblem: null },
      blocktimeUs: 1500,
      migrationStartUs: 0,
      migrationDoneUs: 3000,
      switchStartUs: 0,
      goUs: 0,
      timeline: [],
      pageMap: null,
      wallMs: 1,
      peakRssBytes: 1,
    };
    const r = buildResult(totals);
    expect(r).toMatchObject({
      faults: 30,
      faultsPerSec: 15,
      guestMs: 2000,
      perVcpuPagesPerSec: 10,
      blocktimeMs: 1.5,
      migrationMs: 3,
      pagesDemand: 30,
      pagesPushed: 226,
      duplicatePages: 2,
      verified: true,
    });
    const bad = buildResult({
      ...totals,
      vcpus: [v(1, 1, 'vCPU 0 read a stale page')],
      proof: { pagesNotPresent: 2, pagesWrong: 0, firstProblem: 'page 7 is missing' },
    });
    expect(bad.verified).toBe(false);
    expect(bad.verifyErrors).toEqual(['vCPU 0 read a stale page (1 bad reads on this vCPU)', '2 pages never arrived; page 7 is missing']);
  });
});

describe('injection specs', () => {
  it.each([
    'link-down@5ms+10ms',
    'link-down@5ms+10ms:bulk',
    'bandwidth@0ms+20ms:800Mbit',
    'latency@1500us+2ms:250us',
    'loss@0ms+30ms:10',
    'handler-crash@3ms+1ms:restart',
    'fetcher-crash@500us',
  ])('%s is written back as itself', (spec) => {
    expect(formatInjection(parseInjection(spec))).toBe(spec);
  });
});
