// Goal: the benchmark harness (bench/) keeps working: every scenario runs, fills every cell of its
// table with a verified run, writes its JSON with the machine facts, and the report, the runner's
// command line and the README generator accept what the scenarios produce, so `npm run bench`
// cannot rot between releases.
// Method: each scenario function on a tiny size (1 MiB per vCPU, 16 MiB guests, 50 ms floors) into a
// temporary directory; assertions on the shape of the results, never on a timing or a target.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRunnerArgs } from '../bench/index.js';
import { resolveBenchOptions } from '../bench/common.js';
import { computeTargets, failures, loadResults, renderSummary, type Results } from '../bench/report.js';
import { runFloors } from '../bench/scenarios/floors.js';
import { KERNEL_COLUMNS, runKernel } from '../bench/scenarios/kernel.js';
import { failedRow, medianRow, runNetwork, type NetworkRow } from '../bench/scenarios/network.js';
import { findCell, PAGING_COLUMNS, runPagingRate } from '../bench/scenarios/paging-rate.js';
import { runScale } from '../bench/scenarios/scale.js';
import { runPipeline } from '../bench/scenarios/pipeline.js';
import { runPublished } from '../bench/scenarios/published.js';
import { runSoak } from '../bench/scenarios/soak.js';
import { renderFaultRecords, runFaultRecords } from '../bench/scenarios/fault-records.js';
import { ENGINE_SPEED_MODES, runEngineSpeed } from '../bench/scenarios/engine-speed.js';

let outDir = '';
const quiet = { seed: 3, log: () => {} };
const results: Results = {};

beforeAll(() => {
  outDir = mkdtempSync(join(tmpdir(), 'postcopy-bench-'));
});
afterAll(() => {
  rmSync(outDir, { recursive: true, force: true });
});

function written(name: string): Record<string, unknown> {
  const file = join(outDir, `${name}.json`);
  expect(existsSync(file)).toBe(true);
  const j = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  expect(j.scenario).toBe(name);
  expect(j.seed).toBe(3);
  const m = j.machine as Record<string, unknown>;
  expect(m.cores).toBeGreaterThan(0);
  expect(typeof m.cpuModel).toBe('string');
  expect(m.totalMemoryBytes).toBeGreaterThan(0);
  expect(m.node).toBe(process.version);
  expect(typeof j.date).toBe('string');
  return j;
}

describe('scenarios on tiny sizes', () => {
  it('published: both profiles, the series and the KVM Userfault table, every cell verified; a sensitivity row per cost', async () => {
    const { body, summary } = await runPublished({ quick: true, mibPerVcpu: 1, seriesVcpus: [1, 2, 4], noCrossCheck: true, noExtras: true, log: () => {} });
    expect(body.profiles.map((p) => p.profile)).toEqual(['this-host', 'large-host']);
    for (const p of body.profiles) {
      expect(p.series.map((s) => s.vcpus)).toEqual([1, 2, 4]);
      expect([...p.series.flatMap((s) => [s.uffd, s.exits]), ...p.userfault.flatMap((u) => Object.values(u.cells))].every((c) => c.verified)).toBe(true);
    }
    expect(body.sensitivity.length).toBeGreaterThan(2);
    expect(summary).toMatch(/Profile large-host/);
  });
  it('soak: every plan as predicted, none hung; the long runs verified', async () => {
    const { body } = await runSoak({ quick: true, log: () => {} });
    for (const p of body.plans) {
      expect(p.wrong).toEqual([]);
      expect(p.hung).toBe(0);
    }
    expect(body.long.every((l) => l.verified)).toBe(true);
  }, 300_000);
  it('fault-records: neutral and syndrome per arch, a uffd row, verified; the syndrome record never takes more walk records', async () => {
    const r = await runFaultRecords({ ...quiet, outDir, memoryMiB: 8, threadsMemoryMiB: 4, accesses: 300 });
    results['fault-records'] = r;
    written('fault-records');
    expect(r.body.rows).toHaveLength(8);
    for (const row of r.body.rows) {
      expect(row.error, `${row.engine} ${row.arch} ${row.mode} ${row.record}`).toBeUndefined();
      expect(row.verified).toBe(true);
      expect(row.byKind.walk.records).toBeGreaterThan(0);
    }
    const arm = (mode: string, record: string) =>
      r.body.rows.find((x) => x.engine === 'virtual' && x.arch === 'arm64' && x.mode === mode && x.record === record)!;
    expect(arm('exit', 'syndrome').byKind.walk.records).toBeLessThanOrEqual(arm('exit', 'neutral').byKind.walk.records);
    expect(arm('exit', 'neutral').byKind.mte.records).toBeGreaterThan(arm('exit', 'syndrome').byKind.mte.records);
    expect(arm('uffd', 'neutral').byKind.walk.uffdLost).toBe(arm('uffd', 'neutral').byKind.walk.records);
    const md = renderFaultRecords(r.body);
    expect(md).toMatch(/virtual engine, arm64/);
    expect(md).toMatch(/\| walk \|/);
  });

  it('paging-rate: every vCPU count x fault path present, verified, one fault per page', async () => {
    const r = await runPagingRate({ ...quiet, outDir, rows: [1, 2], mibPerVcpu: 1 });
    results['paging-rate'] = r;
    expect(r.body.cells).toHaveLength(2 * PAGING_COLUMNS.length);
    for (const v of [1, 2]) {
      for (const col of PAGING_COLUMNS) {
        const c = r.body.cells.find((x) => x.vcpus === v && x.column === col)!;
        expect(c, `${v} ${col}`).toBeDefined();
        expect(c.error, `${v} ${col}`).toBeUndefined();
        expect(c.verified).toBe(true);
        expect(c.pages).toBe(v * 256);
        expect(c.faults).toBe(col === 'none' ? 0 : v * 256);
        expect(c.pagesPerSec).toBeGreaterThan(0);
        expect(c.perVcpuPagesPerSec).toBeGreaterThan(0);
        expect(c.guestMs).toBeGreaterThan(0);
        expect(c.threads).toBeGreaterThanOrEqual(v);
      }
    }
    written('paging-rate');
  });

  it('floors: the four round trips, the page copy, and a ratio per fault path', async () => {
    const r = await runFloors({
      ...quiet,
      outDir,
      durationMs: 50,
      ...(results['paging-rate'] ? { pagingRate: results['paging-rate'].body } : { mibPerVcpu: 1 }),
    });
    results.floors = r;
    for (const m of ['atomicsBlocking', 'atomicsSpin', 'messagePort', 'messagePortPolled'] as const) {
      expect(r.body.floors[m].roundTripsPerSec).toBeGreaterThan(0);
    }
    expect(r.body.floors.pageCopy.page4kNs).toBeGreaterThan(0);
    expect(r.body.ratios.map((x) => x.column).sort()).toEqual(['exit', 'exit-self', 'uffd-1', 'uffd-n', 'uffd-pervcpu']);
    for (const x of r.body.ratios) {
      expect(x.floor).toBe(x.column === 'exit' ? 'messagePortPolled' : 'atomicsSpin');
      expect(x.ratio).toBeGreaterThan(0);
      expect(Number.isFinite(x.ratio)).toBe(true);
    }
    written('floors');
  });

  it('kernel: three variants per row and the ratios, or one skip reason', async () => {
    const r = await runKernel({
      ...quiet,
      outDir,
      rows: [1],
      mibPerThread: 1,
      calibrate: false,
      ...(results['paging-rate'] ? { pagingRate: results['paging-rate'].body } : {}),
    });
    results.kernel = r;
    if (r.body.skipped) {
      expect(r.body.skipReason).toMatch(/\S/);
      expect(r.body.cells).toEqual([]);
    } else {
      expect(r.body.cells.map((c) => c.column)).toEqual([...KERNEL_COLUMNS]);
      for (const c of r.body.cells) {
        expect(c.run.verified).toBe(true);
        expect(c.run.pages).toBe(256);
        expect(c.run.pagesPerSec).toBeGreaterThan(0);
      }
      expect(r.body.ratios).toHaveLength(1);
      expect(r.body.ratios[0]!.exitVsBest).toBeGreaterThan(0);
      expect(r.body.simSource).toBe('paging-rate of this run');
    }
    written('kernel');
  });

  it('network: a bandwidth run several times is the run with the median utilisation, every run kept, a failure last', () => {
    const run = (u: number | null, migrationMs: number): NetworkRow =>
      u === null ? failedRow(25, 'x') : { ...failedRow(25, ''), error: undefined, verified: true, wireMs: 316, linkUtilisation: u, migrationMs };
    const m = medianRow([run(0.8, 400), run(0.9, 360), run(0.85, 380)]);
    expect(m).toMatchObject({ linkUtilisation: 0.85, migrationMs: 380, runUtilisations: [0.8, 0.9, 0.85] });
    expect(medianRow([run(null, 0), run(0.9, 360), run(0.7, 450)])).toMatchObject({ linkUtilisation: 0.7, runUtilisations: [null, 0.9, 0.7] });
    expect(medianRow([run(0.9, 360)]).runUtilisations).toBeUndefined();
  });

  it('network: a row per bandwidth with the wire-time bound and the utilisation', async () => {
    const r = await runNetwork({ ...quiet, outDir, memoryMiB: 16, vcpus: 2, bandwidthsGbit: [1, 10], runs: 1 });
    results.network = r;
    expect(r.body.rows.map((x) => x.gbit)).toEqual([1, 10]);
    for (const x of r.body.rows) {
      expect(x.error).toBeUndefined();
      expect(x.verified).toBe(true);
      expect(x.wireMs).toBeGreaterThan(0);
      expect(x.migrationMs).toBeGreaterThan(0);
      expect(x.linkUtilisation).toBeGreaterThanOrEqual(0); // rounded to 2 decimals by the simulator
      expect(x.linkUtilisation).toBeLessThanOrEqual(1);
      expect(x.pagesDemand + x.pagesPushed).toBe(16 * 256);
    }
    written('network');
  });

  it('pipeline: host time per pushed page, per pass and per half', async () => {
    const r = await runPipeline({ ...quiet, outDir, memoryMiB: 4, passes: 2 });
    results.pipeline = r;
    expect(r.body.passes).toHaveLength(2);
    for (const p of r.body.passes) {
      expect(p.perPageUs).toBeGreaterThan(0);
      expect(p.cpuUs).toBeGreaterThan(0);
      expect(p.sourceUs + p.destinationUs).toBeCloseTo(p.perPageUs, 6);
    }
    expect(r.body.bestUs).toBeLessThanOrEqual(r.body.medianUs);
    written('pipeline');
  });

  it('scale: one child process per size, its own peak RSS, a growth step', async () => {
    const r = await runScale({ ...quiet, outDir, sizesMiB: [16, 32], vcpus: 2 });
    results.scale = r;
    expect(r.body.rows.map((x) => x.guestMiB)).toEqual([16, 32]);
    for (const x of r.body.rows) {
      expect(x.error).toBeUndefined();
      expect(x.verified).toBe(true);
      expect(x.peakRssBytes).toBeGreaterThan(x.guestBytes);
      expect(x.wallMs).toBeGreaterThan(0);
    }
    expect(r.body.idleRssBytes).toBeGreaterThan(0);
    expect(r.body.growth).toHaveLength(1);
    expect(typeof r.body.linear).toBe('boolean');
    written('scale');
  });

  it('engine-speed: both modes, every run timed, every access a fault, verified; not the target size, so not judged', async () => {
    const r = await runEngineSpeed({ ...quiet, outDir, vcpus: 8, accessesPerVcpu: 64, runs: 3 });
    results['engine-speed'] = r;
    expect(r.body.rows.map((x) => x.mode)).toEqual([...ENGINE_SPEED_MODES]);
    for (const x of r.body.rows) {
      expect(x.verified).toBe(true);
      expect(x.faults).toBe(8 * 64);
      expect(x.runs).toHaveLength(3);
      for (const y of x.runs) expect(y.faultsPerHostSec).toBeGreaterThan(0);
      expect(x.runs.map((y) => y.faultsPerHostSec)).toContain(x.medianFaultsPerHostSec);
      expect(x.command).toContain(`--mode ${x.mode}`);
    }
    written('engine-speed');
  });
});

describe('report, runner and README generator', () => {
  it('judges the soak: a hung plan, a plan not as predicted or heap growth of 5% fails it; RSS growth alone does not; growth held against the guest memory is not judged', () => {
    const plan = { engine: 'virtual', plans: 10, asPredicted: 10, verified: 9, lost: 1, hung: 0, wrong: [] };
    const long = {
      engine: 'virtual',
      faults: 1000,
      wallMs: 1,
      rssWarmMiB: 100,
      rssEndMiB: 130,
      growth: 0.3,
      verified: true,
      heapWarmMiB: 50,
      heapEndMiB: 51,
      guestMiB: 0,
      heapGrowth: 0.02,
    };
    const judge = (p: object, l: object) => {
      const t = computeTargets({ soak: { scenario: 'soak', body: { plans: [{ ...plan, ...p }], long: [{ ...long, ...l }] } } as never });
      return [t.find((x) => x.id === 'soak-plans')!.status, t.find((x) => x.id === 'soak-growth')!.status];
    };
    expect(judge({}, {})).toEqual(['met', 'met']);
    expect(judge({ hung: 1 }, {})).toEqual(['not met', 'met']);
    expect(judge({ asPredicted: 9 }, {})).toEqual(['not met', 'met']);
    expect(judge({}, { heapGrowth: 0.05 })).toEqual(['met', 'not met']);
    expect(judge({}, { verified: false })).toEqual(['met', 'not met']);
    expect(judge({}, { guestMiB: undefined })).toEqual(['met', 'not measured']);
    // Whether the tree was clean is judged from each result's own record of it.
    const machine = (dirty: boolean | null) => ({ machine: { dirty, commit: 'abc1234' } });
    const tree = (r: object) => computeTargets(r as never).find((x) => x.id === 'clean-tree')!;
    expect(tree({ published: machine(false), workloads: machine(false) }).status).toBe('met');
    expect(tree({ published: machine(false), workloads: machine(true) })).toMatchObject({
      status: 'not met',
      measured: '1 of 2 from a dirty or unrecorded tree: workloads (abc1234)',
    });
    expect(tree({ published: machine(null) }).status).toBe('not met');
    // A docs generator's results count too, and one that records no machine is not clean.
    expect(tree({ published: machine(false), strategies: {} })).toMatchObject({
      status: 'not met',
      measured: '1 of 2 from a dirty or unrecorded tree: strategies (no machine recorded)',
    });
    expect(tree({ published: machine(false), 'workloads-table': machine(false) }).measured).toBe('all 2 clean');
    expect(tree({}).status).toBe('not measured');
    expect(computeTargets({}).find((x) => x.id === 'soak-growth')!.status).toBe('not measured');
  });

  it('renders every section and judges every target from the results', () => {
    const md = renderSummary(results);
    for (const h of ['Paging rate', 'Runtime floors', 'Kernel baseline', 'Pipeline', 'Scale', 'Network', 'Engine speed', 'Bench time', 'Targets'])
      expect(md).toContain(h);
    const targets = computeTargets(results);
    expect(targets.map((t) => t.id)).toEqual([
      'exit-p50',
      'exit-self-p50',
      'exit-vs-kernel',
      'exit-self-vs-kernel',
      'shape-shared',
      'shape-pervcpu',
      'rss',
      'link',
      'pipeline',
      'link10',
      'link25',
      'scale4096',
      'scale16384',
      'soak-plans',
      'soak-growth',
      'clean-tree',
      'front-door-start',
      'front-door-compare',
      'front-door-trace-compare',
      'engine-speed-exit',
      'engine-speed-uffd',
      'bench-quick',
    ]);
    // The exit-p50 target is judged from its grid cell: p50 <= 10 us is met. Move the cell either side.
    const exitCell = findCell(results['paging-rate']!.body, 1, 'exit')!;
    const judged = (p50: number) => {
      const body = {
        ...results['paging-rate']!.body,
        cells: results['paging-rate']!.body.cells.map((c) => (c === exitCell ? { ...c, faultLatencyUs: { ...c.faultLatencyUs, p50 } } : c)),
      };
      return computeTargets({ ...results, 'paging-rate': { ...results['paging-rate']!, body } }).find((t) => t.id === 'exit-p50')!.status;
    };
    expect(targets.find((t) => t.id === 'exit-p50')!.status).toBe(exitCell.faultLatencyUs.p50 <= 10 ? 'met' : 'not met');
    expect([judged(9.9), judged(10), judged(10.1)]).toEqual(['met', 'met', 'not met']);
    // Tiny sizes have no 4 GiB row nor a 1 GiB network guest: those targets are not measured, never guessed.
    for (const id of ['rss', 'link10', 'link25', 'scale4096', 'scale16384', 'engine-speed-exit', 'engine-speed-uffd'])
      expect(targets.find((t) => t.id === id)!.status).toBe('not measured');
    expect(failures(results)).toEqual([]);
    // What the scenarios wrote renders the same as what they returned.
    expect(renderSummary(loadResults(outDir))).toBe(md);
  });

  it('parses its command line strictly', () => {
    expect(parseRunnerArgs([])).toMatchObject({
      scenarios: [
        'paging-rate',
        'floors',
        'kernel',
        'pipeline',
        'scale',
        'network',
        'published',
        'soak',
        'workloads',
        'fault-records',
        'front-door',
        'engine-speed',
      ],
      help: false,
    });
    expect(parseRunnerArgs(['--quick', '--seed', '9', 'network', 'floors'])).toMatchObject({
      scenarios: ['floors', 'network'],
      options: { quick: true, full: false, seed: 9 },
    });
    expect(() => parseRunnerArgs(['--bogus'])).toThrow('unknown option --bogus');
    expect(() => parseRunnerArgs(['nope'])).toThrow(/unknown scenario "nope"/);
    expect(() => parseRunnerArgs(['--quick', '--full'])).toThrow(/exclude/);
    expect(() => parseRunnerArgs(['--seed', '-1'])).toThrow(/--seed/);
  });

  it('a quick run writes to bench/results/quick/, never over the committed full results', () => {
    expect(resolveBenchOptions({ quick: true }).outDir).toMatch(/bench[/\\]results[/\\]quick$/);
    expect(resolveBenchOptions({}).outDir).toMatch(/bench[/\\]results$/);
    expect(resolveBenchOptions({ quick: true, outDir: '/elsewhere' }).outDir).toBe('/elsewhere');
  });

  it('the built runner answers a bad flag with one line on stderr and exit code 2', () => {
    const r = spawnSync(process.execPath, ['dist/bench/index.js', '--bogus'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('scripts/readme-bench.mjs rewrites only the marked section, from the JSON results', () => {
    const readme = join(outDir, 'README.md');
    const marks = ['<!-- bench', 'start -->', '<!-- bench', 'end -->'];
    writeFileSync(readme, `# title\n\nbefore\n\n${marks[0]}:${marks[1]}\nstale\n${marks[2]}:${marks[3]}\n\nafter\n`);
    const run = (...extra: string[]) =>
      spawnSync(process.execPath, ['scripts/readme-bench.mjs', '--results', outDir, '--readme', readme, ...extra], { encoding: 'utf8' });
    expect(run('--check').status).toBe(1);
    expect(run().status).toBe(0);
    const text = readFileSync(readme, 'utf8');
    expect(text).not.toContain('stale');
    expect(text.startsWith('# title\n\nbefore\n\n')).toBe(true);
    expect(text.endsWith('\n\nafter\n')).toBe(true);
    expect(text).toContain('### Latest run');
    expect(text).toContain('#### Targets');
    expect(run('--check').status).toBe(0);
    writeFileSync(readme, '# no markers\n');
    const bad = run();
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/no ".*" \.\.\. ".*" section/);
  });
});
