// Goal: `postcopy-sim report` reads sweep results (validated line by line against the result
// schema), plots a metric along any swept option with one line per series and a heatmap of two
// options, shows the same numbers in a table, exports one CSV row per cell, and refuses bad lines
// and bad flags in one line.
// Method: one real 16-cell virtual sweep (mode x vcpus x workload x 2 seeds) run by the CLI; the
// report parsed back with linkedom; numbers checked against means computed here from the lines.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseHTML } from 'linkedom';
import { beforeAll, describe, expect, it } from 'vitest';
import { reportCommand } from '../src/cli/see.js';
import { SimError } from '../src/errors.js';
import { readSweepLines, sweepCsv, sweepPlot } from '../src/report/sweep-input.js';
import { fmt, renderSweepReport, SWEEP_SECTION_IDS } from '../src/report/sweep-report.js';
import type { SweepRecord } from '../src/sweep/schema.js';
import { cli, readRecords, scratch, TINY, writeSweep } from './sweep-helpers.js';

const dir = scratch('sweep-report');
const results = join(dir, 'r.jsonl');
let records: SweepRecord[];

beforeAll(() => {
  const file = writeSweep(dir, 'r', { base: TINY, axes: { grid: { mode: ['exit', 'uffd'], vcpus: [1, 2], workload: ['random', 'sequential'] } }, seeds: 2 });
  const r = cli(['sweep', file], { cwd: dir });
  expect(r.code, r.stderr).toBe(0);
  records = readRecords(results);
});

function marks(html: string, id: string, kind: 'line' | 'dot' | 'cell') {
  const { document } = parseHTML(html);
  const s = document.getElementById(id);
  expect(s, `section #${id}`).not.toBeNull();
  const sel = kind === 'line' ? 'g[aria-label="line"] path' : kind === 'dot' ? 'g[aria-label="dot"] circle' : 'g[aria-label="cell"] rect';
  return [...s!.querySelectorAll(sel)];
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('plots along any swept option', () => {
  it('default: x is the numeric option, one series per combination of the others, seeds averaged', () => {
    const p = sweepPlot(records);
    expect(p.axes).toEqual(['mode', 'vcpus', 'workload']);
    expect(p.x).toBe('vcpus');
    expect(p.seriesNames).toEqual([
      'mode=exit · workload=random',
      'mode=exit · workload=sequential',
      'mode=uffd · workload=random',
      'mode=uffd · workload=sequential',
    ]);
    const pt = p.points.find((q) => q.series === 'mode=uffd · workload=random' && q.x === 2)!;
    const cells = records.filter((r) => r.cell.params.mode === 'uffd' && r.cell.params.workload === 'random' && r.cell.params.vcpus === 2);
    expect(pt.n).toBe(2);
    expect(pt.value).toBeCloseTo(mean(cells.map((r) => r.result!.faultsPerSec)), 9);

    const html = renderSweepReport(records);
    expect(marks(html, SWEEP_SECTION_IDS.lines, 'line')).toHaveLength(4);
    expect(marks(html, SWEEP_SECTION_IDS.lines, 'dot')).toHaveLength(8);
    expect(marks(html, SWEEP_SECTION_IDS.heatmap, 'cell')).toHaveLength(8);
    expect(html).toContain(`<td>${fmt(pt.value)}</td>`);
  });

  it('--x and --series pick the options; the rest are averaged and the report says so', () => {
    const p = sweepPlot(records, { x: 'mode', series: 'vcpus', metric: 'faultLatencyUs.p99' });
    expect(p.seriesNames).toEqual(['vcpus=1', 'vcpus=2']);
    expect(p.averaged).toEqual(['workload']);
    const pt = p.points.find((q) => q.series === 'vcpus=1' && q.x === 'exit')!;
    expect(pt.n).toBe(4); // 2 workloads x 2 seeds
    const cells = records.filter((r) => r.cell.params.mode === 'exit' && r.cell.params.vcpus === 1);
    expect(pt.value).toBeCloseTo(mean(cells.map((r) => r.result!.faultLatencyUs.p99)), 9);
    const html = renderSweepReport(records, { x: 'mode', series: 'vcpus', metric: 'faultLatencyUs.p99' });
    expect(marks(html, SWEEP_SECTION_IDS.lines, 'line')).toHaveLength(2);
    expect(marks(html, SWEEP_SECTION_IDS.heatmap, 'cell')).toHaveLength(4);
    expect(html).toContain('Averaged over workload');
  });

  it('one swept option: lines, and no heatmap', () => {
    const one = records.filter((r) => r.cell.params.mode === 'exit' && r.cell.params.workload === 'random');
    const html = renderSweepReport(one);
    expect(marks(html, SWEEP_SECTION_IDS.lines, 'line')).toHaveLength(1);
    expect(marks(html, SWEEP_SECTION_IDS.heatmap, 'cell')).toHaveLength(0);
    expect(html).toContain('A heatmap needs two swept options');
    expect(html).toContain('12 of the sweep&#39;s 16 cells are not in this file');
  });
});

describe('options zipped with x', () => {
  it('travel along the x axis instead of splitting the series', () => {
    const zdir = scratch('sweep-report-zip');
    const file = writeSweep(zdir, 'z', { base: TINY, axes: { grid: { mode: ['exit', 'uffd'] }, zip: [{ vcpus: [1, 2], memory: ['16MiB', '32MiB'] }] } });
    expect(cli(['sweep', file], { cwd: zdir }).code).toBe(0);
    const p = sweepPlot(readRecords(join(zdir, 'z.jsonl')));
    expect(p.x).toBe('vcpus');
    expect(p.tied).toEqual(['memory']);
    expect(p.seriesNames).toEqual(['mode=exit', 'mode=uffd']);
    expect(p.points.every((q) => q.n === 1)).toBe(true);
    expect(renderSweepReport(readRecords(join(zdir, 'z.jsonl')))).toContain('memory changes together with vcpus (zipped), so it is not a series.');
  });
});

describe('CSV export', () => {
  it('one row per cell in cell order: swept options in run units, status, metrics', () => {
    const csv = sweepCsv(records).trim().split('\n');
    expect(csv[0]).toBe(
      'cell,mode,vcpus,workload,seed,status,faultsPerSec,perVcpuPagesPerSec,faultLatencyUs.p50,faultLatencyUs.p99,faultLatencyUs.max,blocktimeMs,migrationMs,guestMs,faults,pagesDemand,pagesPushed,bytesOnWire,verified',
    );
    expect(csv).toHaveLength(17);
    const r3 = records.find((r) => r.cell.index === 3)!;
    expect(csv[4]!.split(',').slice(0, 7)).toEqual([
      '3',
      String(r3.cell.params.mode),
      String(r3.cell.params.vcpus),
      String(r3.cell.params.workload),
      String(r3.cell.params.seed),
      'ok',
      String(r3.result!.faultsPerSec),
    ]);
    expect(csv[4]!.endsWith(',true')).toBe(true);
  });

  it('postcopy-sim report --format csv', async () => {
    const out = join(dir, 'r.csv');
    expect(await reportCommand([results, '--format', 'csv', '--metric', 'zeroPages', '-o', out])).toBe(0);
    expect(readFileSync(out, 'utf8').split('\n')[0]!.endsWith(',verified,zeroPages')).toBe(true);
  });
});

describe('bad sweep input: BAD_INPUT naming the line and the field', () => {
  const fail = async (argv: string[], re: RegExp) => {
    const e = await reportCommand(argv).then(
      () => null,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(SimError);
    expect((e as SimError).code).toBe('BAD_INPUT');
    expect((e as SimError).message).toMatch(re);
  };
  it('a line that breaks the schema', async () => {
    const lines = readFileSync(results, 'utf8').split('\n');
    const broken = JSON.parse(lines[2]!);
    broken.result.faults = 'many';
    lines[2] = JSON.stringify(broken);
    const file = join(dir, 'broken.jsonl');
    writeFileSync(file, lines.join('\n'));
    await fail([file], /broken\.jsonl: line 3 is not a valid sweep result \(docs\/sweep-result\.schema\.json\): result\.faults: /);
  });
  it('flags that name nothing swept, or a metric that is not a number', async () => {
    await fail([results, '--x', 'bandwidth'], /--x: "bandwidth" is not swept in this file \(swept: mode, vcpus, workload\)/);
    await fail([results, '--x', 'vcpus', '--series', 'vcpus'], /--series: is the same option as --x/);
    await fail([results, '--metric', 'strategy'], /--metric: "strategy" is not a number in every result/);
    await fail([results, '--format', 'pdf'], /--format: must be html or csv/);
    const run = join(dir, 'run.json');
    writeFileSync(run, JSON.stringify(records[0]!.result));
    await fail([run, '--x', 'vcpus'], /--x: applies to sweep results/);
  });
  it('a torn last line (a sweep still writing) is left out with a note', () => {
    const text = readFileSync(results, 'utf8');
    const { records: got, tornTail } = readSweepLines(text.slice(0, text.length - 50));
    expect(tornTail).toBe(true);
    expect(got).toHaveLength(15);
    expect(renderSweepReport(got, {}, true)).toContain('The last line was cut off');
  });
});
