// Goal: the threaded and the virtual engine make the same decisions from the one shared model.
// Method: scenarios whose decisions do not depend on timing, run in both engines; the faults, the
// pages demanded and the order in which the source sent every page (recordSendOrder) must be equal.
//  - one vCPU walking its memory with network none: every first touch is one fault, copied locally;
//  - one vCPU touching the top of memory (a trace) while the linear strategy pushes from the bottom
//    over a slow link: the vCPU is done long before the push gets there, so the demanded pages and
//    the push order are the model's alone;
//  - the demand strategy: the demanded pages in fault order, then the rest in address order.
//  - arm64 with the guest's own stage-1 table in guest memory (issue 14): the same fault records in
//    the same order (recordFaultOrder: kind, gpa), walks before the data page, in both records.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { simulate, type OptionsInput, type RunResult } from '../src/index.js';
import { STRATEGY_NAMES } from '../src/model/strategies/index.js';
import { UNDILATED } from './helpers/dilation.js';

const PAGES = 4096; // 16 MiB of 4 KiB pages
const TOP = 8;

function topDownTrace(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pcs-agree-'));
  const file = join(dir, 'top-down.txt');
  const lines = [];
  for (let i = 1; i <= TOP; i++) lines.push(`0 ${i % 2 ? 'R' : 'W'} 0x${((PAGES - i) * 4096).toString(16)}`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

async function both(o: OptionsInput): Promise<[RunResult, RunResult]> {
  // The decisions compared do not depend on the dilation (test/helpers/dilation.ts).
  const threads = await simulate({ timeDilation: UNDILATED, ...o, engine: 'threads' });
  const virtual = await simulate({ ...o, engine: 'virtual' });
  return [threads, virtual];
}

function decisions(r: RunResult) {
  return {
    verified: r.verified,
    faults: r.faults,
    faultsByFlags: r.faultsByFlags,
    accesses: r.accesses,
    pagesDemand: r.pagesDemand,
    pagesPushed: r.pagesPushed,
    zeroPages: r.zeroPages,
    requests: r.requests,
    mergedFaults: r.mergedFaults,
  };
}

describe('both engines make the same decisions', () => {
  it('one vCPU, sequential, network none: same faults, same pages demanded', async () => {
    const [t, v] = await both({ vcpus: 1, memory: '4MiB', workload: 'sequential', partition: true, network: 'none', accesses: 3000, writeRatio: 0.3 });
    expect(decisions(v)).toEqual(decisions(t));
    expect(t.faults).toBe(1024); // 3000 accesses walk all 1024 pages, each first touch one fault
  });

  it('one vCPU on the top of memory, linear push from the bottom: same demanded pages, same push order', async () => {
    const o: OptionsInput = {
      vcpus: 1,
      memory: '16MiB',
      workload: 'trace',
      trace: topDownTrace(),
      strategy: 'linear',
      bandwidth: '1Gbit',
      latency: '50us',
      sendBuffer: '64KiB',
      zeroFraction: 0,
      recordSendOrder: true,
    };
    const [t, v] = await both(o);
    expect(decisions(v)).toEqual(decisions(t));
    // When a demanded page overtakes the push stream is a matter of time; which pages, and in which
    // order each stream sends them, is the model's.
    for (const r of [t, v]) {
      const demanded = r.sendOrder!.filter(([, f]) => f & 2).map(([p]) => p);
      expect(demanded).toEqual(Array.from({ length: TOP }, (_, i) => PAGES - 1 - i));
      const pushed = r.sendOrder!.filter(([, f]) => !(f & 2)).map(([p]) => p);
      expect(pushed).toEqual(Array.from({ length: PAGES - TOP }, (_, i) => i));
    }
  });

  it('the demand strategy: demanded pages in fault order, then the rest in address order', async () => {
    const o: OptionsInput = {
      vcpus: 1,
      memory: '4MiB',
      workload: 'random',
      accesses: 200,
      strategy: 'demand',
      seed: 3,
      recordSendOrder: true,
      writeRatio: 0.5,
    };
    const [t, v] = await both(o);
    expect(decisions(v)).toEqual(decisions(t));
    expect(t.sendOrder).toEqual(v.sendOrder);
    expect(t.sendOrder!.length).toBe(1024);
  });
});

describe('both engines take the same arm64 faults in the same order', () => {
  const cases: Array<[string, OptionsInput]> = [
    ['a page-table walk over a sequential scan, network none', { workload: 'sequential', partition: true, network: 'none', accesses: 3000 }],
    [
      'random accesses, demand only over a link, with instruction fetches and MTE tags',
      {
        workload: 'random',
        strategy: 'demand',
        accesses: 400,
        execRatio: 0.3,
        mteFraction: 0.5,
        seed: 5,
      },
    ],
  ];
  for (const [name, extra] of cases) {
    for (const faultRecord of ['neutral', 'syndrome'] as const) {
      it(`${name}, ${faultRecord} record`, async () => {
        const o: OptionsInput = { vcpus: 1, memory: '4MiB', arch: 'arm64', pageTables: true, faultRecord, recordFaultOrder: true, writeRatio: 0.3, ...extra };
        const [t, v] = await both(o);
        expect(decisions(v)).toEqual(decisions(t));
        expect(v.faultOrder).toEqual(t.faultOrder);
        expect(v.faultRecords).toMatchObject({ arch: 'arm64', record: faultRecord });
        const kinds = (r: RunResult) =>
          Object.fromEntries(
            Object.entries(r.faultRecords.byKind).map(([k, c]) => [k, [c.records, c.roundTrips, c.pagesFetched, c.localResolved, c.avoidableRecords]]),
          );
        expect(kinds(v)).toEqual(kinds(t));
        const order = t.faultOrder![0]!;
        // The first access walks from the root (the top page of the guest). With the neutral record
        // each level is a fault of its own and the data page faults after them; the syndrome record's
        // walk brings the deeper levels and the data page along, so the next fault is another access's.
        expect(order[0]).toEqual(['walk', 4 * 2 ** 20 - 4096]);
        if (faultRecord === 'neutral') {
          expect(order.slice(0, 5).map(([k]) => k)).toEqual(['walk', 'walk', 'walk', 'walk', expect.stringMatching(/^(read|write|exec)$/)]);
          expect(t.faultRecords.byKind.walk.avoidableRecords).toBeGreaterThan(0);
        } else {
          expect(order.slice(1).findIndex(([k]) => k !== 'walk')).toBe(0);
          expect(t.faultRecords.byKind.walk.pagesFetched).toBeGreaterThan(t.faultRecords.byKind.walk.records);
        }
        if (extra.mteFraction) expect(t.faultRecords.byKind.mte.records * t.faultRecords.byKind.exec.records).toBeGreaterThan(0);
      });
    }
  }
});

describe('every strategy runs in both engines', () => {
  for (const strategy of STRATEGY_NAMES) {
    it(`${strategy}: verified in both, with the same fields`, async () => {
      const o: OptionsInput = { vcpus: 2, memory: strategy === 'hugepage' ? '32MiB' : '8MiB', strategy, ...(strategy === 'demand' ? { accesses: 2000 } : {}) };
      const [t, v] = await both(o);
      expect(t.verifyErrors).toEqual([]);
      expect(v.verifyErrors).toEqual([]);
      expect(Object.keys(v).sort()).toEqual(Object.keys(t).sort());
      expect(v.faultBreakdownUs).not.toBeNull();
      if (strategy === 'hybrid') {
        for (const r of [t, v]) {
          expect(r.precopyRounds).toBeGreaterThan(0);
          expect(r.precopyMs).toBeGreaterThan(0);
          expect(r.downtimeMs).toBeGreaterThan(0);
        }
      }
    });
  }
});
