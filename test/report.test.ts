// Goal: `postcopy-sim report` turns real saved results into one offline HTML file whose every
// chart is there WITH data, reads bench sweeps generically, and refuses bad input in one line.
// Method: real simulate() runs on tiny guests, the report parsed back with linkedom; no timings.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseHTML } from 'linkedom';
import { beforeAll, describe, expect, it } from 'vitest';
import { reportCommand } from '../src/cli/see.js';
import { simulate, SimError, type RunResult } from '../src/index.js';
import { renderReport, SECTION_IDS } from '../src/report/index.js';

// The virtual engine: its timeline does not depend on how loaded the machine is (a threaded run can end
// within one sampling interval and leave a one-point line).
const tiny = { engine: 'virtual', vcpus: 2, memory: '8MiB', tailAccesses: 2000, seed: 5, bandwidth: '1Gbit' } as const;
let exit: RunResult, uffd: RunResult, oneVcpu: RunResult;

beforeAll(async () => {
  // JSON round trip: the report reads what a user saved, not live objects.
  const save = (r: RunResult) => JSON.parse(JSON.stringify(r)) as RunResult;
  exit = save(await simulate({ ...tiny, mode: 'exit' }));
  uffd = save(await simulate({ ...tiny, mode: 'uffd' }));
  oneVcpu = save(await simulate({ ...tiny, mode: 'exit', vcpus: 1 }));
});

function sections(html: string) {
  const { document } = parseHTML(html);
  const get = (id: string) => {
    const s = document.getElementById(id);
    expect(s, `section #${id}`).not.toBeNull();
    return s!;
  };
  /** Data marks of a Plot chart: the paths of line marks, the circles of dot marks, the rects of cell marks. */
  const marks = (id: string, kind: 'line' | 'dot' | 'cell') => {
    const sel = kind === 'line' ? 'g[aria-label="line"] path' : kind === 'dot' ? 'g[aria-label="dot"] circle' : 'g[aria-label="cell"] rect';
    return [...get(id).querySelectorAll(sel)] as Array<{ getAttribute(n: string): string | null }>;
  };
  return { document, get, marks };
}

/** A line with data: its path has more than one point. */
const drawn = (p: { getAttribute(n: string): string | null }) => (p.getAttribute('d') ?? '').split(/[LH V]/).length > 2;

describe('the report of real runs', () => {
  let html: string;
  beforeAll(() => {
    html = renderReport([exit, uffd]);
  });

  it('has the headline table with one column per run', () => {
    const { get } = sections(html);
    const head = [...get(SECTION_IDS.summary).querySelectorAll('table tr:first-child th')].map((t) => t.textContent);
    expect(head).toEqual(['', 'exit', 'uffd · 1 handler']);
    expect(get(SECTION_IDS.summary).textContent).toContain(exit.faults.toLocaleString('en-US'));
  });

  it('plots the fault latency CDF of each run', () => {
    const { marks } = sections(html);
    const lines = marks(SECTION_IDS.latencyCdf, 'line');
    expect(lines).toHaveLength(2);
    expect(lines.every(drawn)).toBe(true);
    expect(marks(SECTION_IDS.latencyCdf, 'dot').length).toBe(exit.latencyCdf.length + uffd.latencyCdf.length);
  });

  it('plots fault rate and guest progress over time', () => {
    const { marks } = sections(html);
    const rate = marks(SECTION_IDS.faultRate, 'line');
    expect(rate).toHaveLength(2);
    expect(rate.every(drawn)).toBe(true);
    const progress = marks(SECTION_IDS.progress, 'line');
    expect(progress.length).toBe(4); // pages present + accesses, per run
    expect(progress.every(drawn)).toBe(true);
  });

  it('draws the memory map: every cell, when and how it arrived', () => {
    const { get } = sections(html);
    const map = get(SECTION_IDS.memoryMap);
    const panels = [...map.querySelectorAll('g[aria-label="cell"]')];
    expect(panels).toHaveLength(4); // when + how, per run
    for (const p of panels) expect(p.querySelectorAll('rect').length).toBe(exit.pageMap!.cells);
    // "when": early and late pages get different colours; "how": pushed pages and demand-fetched ones.
    const fills = (p: (typeof panels)[number]) => new Set([...p.querySelectorAll('rect')].map((r) => r.getAttribute('fill')));
    expect(fills(panels[0]!).size).toBeGreaterThan(2);
    expect(exit.pagesDemand).toBeGreaterThan(0);
    expect(fills(panels[1]!).size).toBeGreaterThanOrEqual(2);
  });

  it('is self-contained: no script, no external reference, no http(s) URL', () => {
    expect(html).not.toMatch(/https?:\/\//);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/\s(src|href)=/i);
    expect(html).not.toMatch(/@import|url\(/i);
  });

  it('has no throughput chart when the runs are not a vCPU sweep', () => {
    expect(sections(html).document.getElementById(SECTION_IDS.throughput)).toBeNull();
  });

  it('renders one saved `run --json` object', () => {
    const { get, marks } = sections(renderReport(exit));
    expect(get(SECTION_IDS.summary).querySelectorAll('table tr:first-child th')).toHaveLength(2);
    for (const id of [SECTION_IDS.latencyCdf, SECTION_IDS.faultRate, SECTION_IDS.progress]) expect(marks(id, 'line').length).toBeGreaterThan(0);
    expect(marks(SECTION_IDS.memoryMap, 'cell').length).toBe(2 * exit.pageMap!.cells);
  });
});

describe('the status band of a run with injections', () => {
  it('draws active, paused and recover spans in order, marks each injection and tabulates recovery', async () => {
    const run = JSON.parse(
      JSON.stringify(await simulate({ ...tiny, engine: 'virtual', mode: 'uffd', memory: '64MiB', inject: ['link-down@5ms+10ms', 'latency@40ms+5ms:1ms'] })),
    ) as RunResult;
    const html = renderReport([run, exit]);
    const { get } = sections(html);
    const band = get(SECTION_IDS.recovery);
    // one bar per span: active, paused, recover, active (only the run with injections gets a band)
    const bars = [...band.querySelectorAll('g[aria-label="bar"] rect')];
    expect(bars).toHaveLength(run.recovery!.timeline.length + 1);
    expect(run.recovery!.timeline.map((t) => t.state)).toEqual(['paused', 'recover', 'active']);
    expect([...band.querySelectorAll('g[aria-label="text"] text')].map((t) => t.textContent)).toEqual(['link-down@5ms+10ms', 'latency@40ms+5ms:1ms']);
    expect(band.querySelector('table')!.textContent).toContain(`${run.recovery!.pausedMs.toFixed(1)} ms`);
  });

  it('is left out when no run had injections', () => {
    const { document } = sections(renderReport([exit, uffd]));
    expect(document.getElementById(SECTION_IDS.recovery)).toBeNull();
  });
});

describe('throughput vs vCPU count', () => {
  it('from runs that differ only in vCPUs', () => {
    const { get, marks } = sections(renderReport([oneVcpu, exit]));
    expect(marks(SECTION_IDS.throughput, 'line')).toHaveLength(1);
    expect(marks(SECTION_IDS.throughput, 'dot')).toHaveLength(2);
    expect(get(SECTION_IDS.throughput).textContent).toContain('vCPUs');
  });

  it('from a bench results file (flat cells with a column and a vCPU count)', () => {
    const cells = ['exit', 'uffd-1'].flatMap((column, i) =>
      [1, 2, 4].map((vcpus) => ({ column, vcpus, pages: 4096, pagesPerSec: 1000 * vcpus * (i + 1), verified: true })),
    );
    const bench = {
      scenario: 'paging-rate',
      date: '2026-11-25T00:00:00Z',
      seed: 1,
      machine: { cpuModel: 'test cpu', cores: 2, commit: 'abc1234' },
      notes: ['a note'],
      body: { rows: [1, 2, 4], columns: ['exit', 'uffd-1'], cells },
    };
    const html = renderReport(bench);
    const { get, marks } = sections(html);
    expect(marks(SECTION_IDS.throughput, 'line')).toHaveLength(2);
    expect(marks(SECTION_IDS.throughput, 'dot')).toHaveLength(6);
    const table = get(SECTION_IDS.summary).textContent!;
    expect(table).toContain('uffd-1');
    expect(table).toContain('12,000'); // uffd-1 at 4 vCPUs
    expect(html).toContain('test cpu');
    expect(html).toContain('a note');
  });

  it('from rows whose cells are keyed by vCPU count', () => {
    const bench = {
      body: {
        rows: [
          { label: 'exit', cells: { 1: { pagesPerSec: 10 }, 2: { pagesPerSec: 19 }, 8: { pagesPerSec: 60 } } },
          { label: 'uffd', cells: { 1: { pagesPerSec: 9 }, 2: null, 8: { pagesPerSec: 4 } } },
        ],
      },
    };
    const { marks } = sections(renderReport(bench));
    expect(marks(SECTION_IDS.throughput, 'dot')).toHaveLength(5);
  });

  it('renders the real paging-rate results file when the bench has produced one', () => {
    let data: unknown;
    try {
      data = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'bench', 'results', 'paging-rate.json'), 'utf8'));
    } catch {
      return;
    }
    const { marks } = sections(renderReport(data));
    expect(marks(SECTION_IDS.throughput, 'line').length).toBeGreaterThan(0);
  });
});

describe('bad input is one line naming the problem', () => {
  const bad = (input: unknown, re: RegExp) => {
    let err: unknown;
    try {
      renderReport(input);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SimError);
    expect((err as SimError).code).toBe('BAD_INPUT');
    expect((err as SimError).message).not.toContain('\n');
    expect((err as SimError).message).toMatch(re);
  };
  it('not results at all', () => {
    bad(null, /expected a JSON object or array/);
    bad(42, /expected a JSON object or array/);
    bad([], /empty array/);
    bad({ hello: 'world' }, /no run results and no vCPU sweep/);
    bad([exit, { hello: 1 }], /^\[1\]: not a postcopy-sim run result/);
  });
  it('a run result with a missing or broken field', () => {
    const { latencyCdf: _l, ...noCdf } = exit;
    bad(noCdf, /"latencyCdf" is missing/);
    bad({ ...exit, timeline: [{ tMs: 'soon' }] }, /timeline\[0\]\.tMs: expected a number/);
    bad({ ...exit, pageMap: { ...exit.pageMap!, demand: [1] } }, /pageMap\.demand: has 1 entries/);
    bad([exit, { ...uffd, faults: '12' }], /^\[1\]\.faults: expected a number/);
  });
});

describe('postcopy-sim report FILE -o OUT', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pcs-report-'));
  it('writes the HTML file', async () => {
    const input = join(dir, 'run.json');
    const out = join(dir, 'report.html');
    writeFileSync(input, JSON.stringify([exit, uffd]));
    expect(await reportCommand([input, '-o', out])).toBe(0);
    const html = readFileSync(out, 'utf8');
    for (const id of [SECTION_IDS.summary, SECTION_IDS.latencyCdf, SECTION_IDS.faultRate, SECTION_IDS.progress, SECTION_IDS.memoryMap])
      expect(html).toContain(`id="${id}"`);
  });
  it('a missing file, bad JSON or a bad flag is BAD_INPUT', async () => {
    const fail = async (argv: string[], re: RegExp) => {
      const e = await reportCommand(argv).then(
        () => null,
        (x: unknown) => x,
      );
      expect(e).toBeInstanceOf(SimError);
      expect((e as SimError).code).toBe('BAD_INPUT');
      expect((e as SimError).message).toMatch(re);
    };
    await fail([join(dir, 'nope.json')], /cannot read .*nope\.json: ENOENT/);
    writeFileSync(join(dir, 'bad.json'), '{ not json');
    await fail([join(dir, 'bad.json')], /bad\.json is not valid JSON/);
    writeFileSync(join(dir, 'other.json'), '{"a": 1}');
    await fail([join(dir, 'other.json')], /other\.json: no run results/);
    await fail([], /name the results file/);
    await fail(['--frobnicate'], /^--frobnicate: unknown option \(see: postcopy-sim help report\)$/);
  });
});
