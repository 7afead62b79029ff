// Goal: time dilation is an option like any other (validated, one line naming the field, exit 2),
// defaults to auto wherever a link is modelled, is reported in every result (the virtual engine
// reports 1), stretches every modelled duration D-fold on the wall while reporting modelled time,
// and gives compare a degradation baseline in modelled time.
// Method: option parsing directly; small runs on real threads. The one wall-clock assertion is a
// lower bound the model guarantees (the link's own time, stretched D-fold, cannot be beaten);
// nothing asserts how fast this machine is.
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatDilation, formatPlanLine } from '../src/cli/format.js';
import { compare } from '../src/compare.js';
import { simulate } from '../src/index.js';
import { Link } from '../src/model/link.js';
import { PAGE_HEADER_BYTES } from '../src/model/page-flags.js';
import type { DilationReport } from '../src/model/result.js';
import { resolveOptions } from '../src/options.js';
import { modelledFaultUs } from '../src/threads/dilation.js';

describe('--time-dilation as an option', () => {
  it('is auto where a link is modelled and 1 where none is', () => {
    expect(resolveOptions({}).timeDilation).toBe('auto');
    expect(resolveOptions({ network: 'none', accesses: 10 }).timeDilation).toBe(1);
    expect(resolveOptions({ mode: 'none' }).timeDilation).toBe(1);
    expect(resolveOptions({ engine: 'virtual' }).timeDilation).toBe(1);
    expect(resolveOptions({ timeDilation: '40' }).timeDilation).toBe(40);
    expect(resolveOptions({ timeDilation: 2.5 }).timeDilation).toBe(2.5);
  });
  it.each([['0'], ['fast'], [''], [-3], ['1e9']])('rejects %j with one line naming the field', (v) => {
    expect(() => resolveOptions({ timeDilation: v as never })).toThrow(/^timeDilation: must be auto or a number from 1 to 100000$/);
  });
  it('the CLI takes --time-dilation, and a bad one is one line on stderr and exit code 2', () => {
    const cli = join(import.meta.dirname, '..', 'dist', 'src', 'cli', 'main.js');
    const r = spawnSync(process.execPath, [cli, 'run', '--time-dilation', '0'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('postcopy-sim: error: timeDilation: must be auto or a number from 1 to 100000\n');
    const help = spawnSync(process.execPath, [cli, 'help', 'run'], { encoding: 'utf8' });
    expect(help.stdout).toMatch(/--time-dilation D/);
  });
  it('the plan line says D, why, and the wall time; the summary row says the shares', () => {
    const d: DilationReport = {
      factor: 57,
      auto: true,
      accessUs: 0.3,
      measuredUs: { fault: 295, page: 0.9, access: 0.3 },
      modelledFaultUs: 103.4,
      predictedShare: 0.05,
      share: 0.031,
      linkStallShare: 0.004,
      wallEstimateMs: 12_300,
      wallBudgetMs: 20_000,
      budgetBound: false,
      neededFactor: 57,
    };
    expect(formatPlanLine(d, 'migrating')).toBe(
      'migrating: time dilation 57x (simulator 5.0% of a 103.4 us fault, measured at start): at least 12.3 s of wall time',
    );
    expect(formatDilation(d)).toBe('57x auto (simulator 3.1% of a fault, link idle 0.4%)');
    expect(formatDilation({ ...d, share: null, linkStallShare: null })).toBe('57x auto (simulator 5.0% of a fault)');
    expect(formatPlanLine({ ...d, factor: 1 }, 'migrating')).toBeNull();
  });
});

describe('a dilated run', () => {
  it('stretches modelled time D-fold on the wall and reports modelled time', async () => {
    let plan: DilationReport | null = null;
    const r = await simulate(
      { vcpus: 2, memory: '8MiB', bandwidth: '2Gbit', accesses: 3000, timeDilation: 20, seed: 2 },
      {
        onPlan: (p) => {
          plan = p;
        },
      },
    );
    expect(r.verifyErrors).toEqual([]);
    expect(plan).not.toBeNull();
    expect(r.dilation).toMatchObject({ factor: 20, auto: false });
    expect(r.dilation.accessUs).toBeGreaterThan(0); // the guest is paced to its measured compute
    // Every page crossed the modelled link, so the migration lasted at least its wire time; on the
    // wall that is D times longer, whatever the host.
    const wireMs = (r.bytesToDest * 8e3) / r.bandwidthBps!;
    expect(r.migrationMs).toBeGreaterThanOrEqual(wireMs * 0.99);
    expect(r.wallMs).toBeGreaterThanOrEqual(20 * wireMs * 0.99);
    expect(r.dilation.share).not.toBeNull();
  });
  it('auto measures the simulator and picks D from it', async () => {
    const r = await simulate({ vcpus: 1, memory: '4MiB', bandwidth: '2Gbit', accesses: 2000, seed: 2 });
    const d = r.dilation;
    expect(r.verified).toBe(true);
    expect(d.auto).toBe(true);
    expect(d.measuredUs).not.toBeNull();
    expect(d.factor).toBeGreaterThanOrEqual(1);
    expect(d.modelledFaultUs).toBeGreaterThan(100); // two 50 us latencies and a page at 2 Gbit/s
    // D is the smallest whole factor meeting the three bounds (README "Honest time"), recomputed here
    // from the measurements the run reports: the fault share, the page pipeline, the cores.
    const m = d.measuredUs!;
    const o = resolveOptions({ vcpus: 1, memory: '4MiB', bandwidth: '2Gbit' });
    const pageWireUs = new Link({ bandwidthBps: o.bandwidthBps, latencyUs: o.latencyUs, overheadBytes: o.msgOverheadBytes }).serialiseUs(
      o.pageSize + PAGE_HEADER_BYTES + o.msgOverheadBytes,
    );
    // The report rounds modelledFaultUs to 0.01 us; a slack on it once let D-1 pass as meeting the
    // bound (CI: 398/68 us against 5% of 117.01 us). The model's own value is exact.
    const faultUs = modelledFaultUs(o);
    expect(d.modelledFaultUs).toBeCloseTo(faultUs, 2);
    const meets = (D: number) => m.fault / D <= 0.05 * faultUs * (1 + 1e-12) && m.page / D <= 0.5 * pageWireUs * (1 + 1e-12) && 2 / D <= availableParallelism();
    // The wall budget may cap D below what the bounds need; the report then says so, and the D the
    // bounds needed (neededFactor) must be the smallest that meets them.
    const needed = d.budgetBound ? d.neededFactor! : d.factor;
    if (d.budgetBound) expect(d.factor, JSON.stringify(d)).toBeLessThan(needed);
    if (needed < 1000) expect(meets(needed), JSON.stringify(d)).toBe(true);
    if (needed > 1) expect(meets(needed - 1), JSON.stringify(d)).toBe(false);
    expect(d.predictedShare!).toBeCloseTo(m.fault / d.factor / d.modelledFaultUs, 2);
  });
  it('the virtual engine refuses it (an ignored flag is an error) and reports 1', async () => {
    await expect(simulate({ engine: 'virtual', vcpus: 2, memory: '8MiB', accesses: 1000, timeDilation: 30 })).rejects.toThrow(
      /^timeDilation: is for the threaded engine/,
    );
    const r = await simulate({ engine: 'virtual', vcpus: 2, memory: '8MiB', accesses: 1000 });
    expect(r.dilation.factor).toBe(1);
  });
});

describe('a fair degradation baseline', () => {
  it('a dilated compare computes it in modelled time from the paced guest, with no second run', async () => {
    const rs = await compare({ vcpus: 2, memory: '8MiB', bandwidth: '2Gbit', accesses: 3000, timeDilation: 20, seed: 4 }, ['linear']);
    const r = rs[0]!;
    expect(r.verified).toBe(true);
    // Two paced vCPUs, no think time: each does one access per accessUs modelled us.
    expect(r.baselineAccessesPerSec).toBe(Math.round((2 * 1e6) / r.dilation.accessUs));
    expect(r.degradation).not.toBeNull();
    expect(r.degradation!).toBeLessThanOrEqual(1);
  });
});
