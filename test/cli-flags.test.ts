// Goal: the command line does what its help says: --version, per-command help, units that mean what
// they say (b a bit, B a byte), flags that do not apply rejected in one line naming the flag, a summary
// table that tells the truth and fits 100 columns, compare runnable on its defaults, exit codes documented.
// Method: spawn the built CLI like a user would (small guests, behaviour only), and call the unit
// parsers, the table formatter and the progress bar's stop path directly.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseRate, parseSize } from '../src/units.js';
import { resolveOptions } from '../src/options.js';
import { liveBars, progressHooks, stopAllBars } from '../src/cli/progress.js';
import { UNDILATED } from './helpers/dilation.js';
import { needs } from './helpers/tools.js';

const ROOT = join(import.meta.dirname, '..');
const CLI = join(ROOT, 'dist', 'src', 'cli', 'main.js');
function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
function bad(args: string[], re: RegExp) {
  const r = cli(...args);
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^postcopy-sim: error: /);
  expect(lines[0]).toMatch(re);
}
const TINY = ['--vcpus', '1', '--memory', '4MiB', '--accesses', '2000', '--workload', 'sequential'];
// compare's table and bars do not depend on the dilation; auto's probes would cost ~10 s a run (test/helpers/dilation.ts).
const UNDILATED_CLI = ['--time-dilation', String(UNDILATED)];

describe('--version (item 1)', () => {
  const version = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version as string;
  it.each(['--version', '-V'])('%s prints the package version and exits 0', (flag) => {
    const r = cli(flag);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${version}\n`);
  });
});

describe('units mean what they say (item 3)', () => {
  it('b is a bit, B a byte', () => {
    expect(parseRate('10GBps')).toBe(80e9);
    expect(parseRate('100MBps')).toBe(800e6);
    expect(parseRate('1GB/s')).toBe(8e9);
    expect(parseRate('25Gbps')).toBe(25e9);
    expect(parseRate('25Gb/s')).toBe(25e9);
    expect(parseRate('10Gbit')).toBe(10e9);
    expect(parseRate('1MiB/s')).toBe(8 * 1024 ** 2);
    expect(parseRate('1Gibit')).toBe(1024 ** 3);
  });
  it('a size where a rate belongs, or a shouting unit, is rejected with the bit/byte hint', () => {
    expect(() => parseRate('10GB')).toThrow(/unknown rate unit "GB".*b is a bit, B a byte/);
    expect(() => parseRate('10GBPS')).toThrow(/unknown rate unit/);
  });
  it('the CLI takes --bandwidth 10GBps as 80 Gbit/s', () => {
    const j = JSON.parse(cli('run', ...TINY, '--bandwidth', '10GBps', '--json').stdout);
    expect(j.bandwidthBps).toBe(80e9);
  });
  it('memory: M and MiB are binary, MB decimal; a decimal size that does not fill pages suggests MiB', () => {
    expect(parseSize('64M')).toBe(64 * 1024 ** 2);
    expect(parseSize('64MiB')).toBe(64 * 1024 ** 2);
    expect(parseSize('64MB')).toBe(64e6);
    expect(resolveOptions({ memory: '64MB' }).memoryBytes).toBe(64e6); // 15625 whole 4KiB pages
    expect(() => resolveOptions({ memory: '64MB', pageSize: '2MiB' })).toThrow(/memory: must be a multiple of the page size.*use KiB, MiB, GiB/);
    bad(['run', '--memory', '100MB', '--page-size', '2MiB'], /memory: .*MiB/);
    bad(['run', '--bandwidth', '10GB'], /bandwidth: .*b is a bit, B a byte/);
  });
  it('the help text says that case matters', () => {
    expect(cli('help', 'run').stdout).toMatch(/Case matters: b is a bit, B a byte/);
  });
});

describe('flags that do not apply are rejected (item 4)', () => {
  it.each<[string[], RegExp]>([
    [['compare', '--strategy', 'linear'], /--strategy: compare runs several strategies.*--strategies/],
    [['run', '--mode', 'exit', '--handlers', '4'], /--handlers: applies only to --mode uffd/],
    [['run', '--handlers', '2'], /--handlers: applies only to --mode uffd \(mode is exit\)/],
    [['run', '--mode', 'none', '--uffd-per-vcpu'], /--uffd-per-vcpu: applies only to --mode uffd/],
    [['start', '--mode', 'uffd'], /--mode: start runs both/],
    [['run', '--vcpus', '-2'], /^postcopy-sim: error: vcpus: must be a positive integer$/],
    [['run', '--vcpus', '1.5'], /vcpus: must be a positive integer/],
    [['run', '--vcpus'], /--vcpus: needs a value/],
  ])('%j', (args, re) => bad(args, re));
  it('--handlers is fine with --mode uffd', () => {
    const r = cli('run', ...TINY, '--mode', 'uffd', '--handlers', '2', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).handlers).toBe(2);
  });
});

describe('the summary table tells the truth (item 5)', () => {
  it('network none prints no link rate; exec faults are counted', () => {
    const r = cli('run', ...TINY, '--network', 'none', '--exec-ratio', '0.5');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^link\s+no network: all memory local$/m);
    expect(r.stdout).not.toMatch(/10Gbit/);
    const m = /^faults \(read\/write\/exec\)\s+[\d,]+ \(([\d,]+)\/([\d,]+)\/([\d,]+)\)$/m.exec(r.stdout);
    expect(m).not.toBeNull();
    expect(Number(m![3]!.replace(/,/g, ''))).toBeGreaterThan(0);
  });
  it('a trace run prints no made-up write share', () => {
    const trace = join(mkdtempSync(join(tmpdir(), 'pcs-flags-')), 'w.trace');
    writeFileSync(
      trace,
      '# postcopy-sim trace v2\n# source: test\n# page-size: 4096\n# vcpus: 1\n# memory: 65536\n' +
        '0 0 W 0x0\n1000 0 W 0x1000\n2500 0 W 0x2000\n3000 0 R 0x3000\n',
    );
    const r = cli('run', '--workload', 'trace', '--trace', trace, '--trace-timing', 'asap');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^workload\s+trace$/m);
    expect(r.stdout).not.toMatch(/% writes/);
  });
});

describe('compare on its defaults (items 5, 8)', () => {
  it('runs without --accesses (skipping demand, with a note) and its table fits 100 columns', () => {
    const r = cli('compare', ...UNDILATED_CLI, '--vcpus', '1', '--memory', '8MiB', '--strategies', 'linear,prepaging,stride,preempt');
    expect(r.code, r.stderr).toBe(0);
    for (const line of r.stdout.split('\n')) expect(line.length).toBeLessThanOrEqual(100);
    expect(r.stdout.split('\n')[0]).toMatch(/^\s+linear\s+prepaging\s+stride\s+preempt$/); // one table, strategies as columns
    const d = cli('compare', ...UNDILATED_CLI, '--vcpus', '1', '--memory', '8MiB', '--json');
    expect(d.code, d.stderr).toBe(0);
    expect(d.stderr).toMatch(/skipping demand: it needs --accesses/);
    const names = (JSON.parse(d.stdout) as { strategy: string }[]).map((x) => x.strategy);
    expect(names).not.toContain('demand');
    expect(names).toContain('linear');
  });
});

describe('help (items 9, 11)', () => {
  it("help COMMAND and COMMAND --help print the same, with the command's own flags", () => {
    const a = cli('help', 'compare');
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(cli('compare', '--help').stdout);
    expect(a.stdout).toMatch(/--strategies LIST/);
    expect(a.stdout).not.toMatch(/^ {2}--strategy S/m);
    expect(cli('help', 'run').stdout).toMatch(/^ {2}--strategy S/m);
    expect(cli('help', 'start').stdout).not.toMatch(/^ {2}--mode MODE/m);
    expect(cli('help', 'sweep').stdout).toMatch(/usage: postcopy-sim sweep/);
    expect(cli('help', 'calibrate').stdout).toMatch(/-o, --out FILE/);
  });
  it('help lists the exit codes the CLI uses', () => {
    const h = cli('help').stdout;
    for (const code of ['0', '1', '2', '130']) expect(h).toMatch(new RegExp(`^ {2}${code}\\s+\\S`, 'm'));
    expect(cli('frobnicate').code).toBe(2);
  });
});

describe('the progress bar stops on every path (item 2)', () => {
  it('a started bar is stopped by stop() and by stopAllBars(), and the cursor is shown again', () => {
    const out = Object.assign(new PassThrough(), { isTTY: true, columns: 80 });
    let written = '';
    out.on('data', (d: Buffer) => {
      written += d.toString();
    });
    const a = progressHooks(true, 'a', out);
    a.hooks.onEvent!({ type: 'start', pages: 10 } as never);
    expect(liveBars()).toBe(1);
    a.stop();
    expect(liveBars()).toBe(0);
    const b = progressHooks(true, 'b', out);
    b.hooks.onEvent!({ type: 'start', pages: 10 } as never);
    stopAllBars(true, out);
    expect(liveBars()).toBe(0);
    const showCursor = '\x1b[?25h';
    expect(written.slice(-showCursor.length)).toBe(showCursor);
  });
});

// On a real terminal (a pseudo-terminal from util-linux `script`, when there is one).
const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;
describe.skipIf(!hasScript)(needs('script', 'on a terminal (items 2, 10)'), () => {
  const onPty = (args: string, interrupt: boolean) =>
    new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = spawn('script', ['-qec', `${process.execPath} ${CLI} ${args}`, '/dev/null'], { stdio: ['pipe', 'pipe', 'inherit'] });
      let out = '';
      let sent = false;
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        // Ctrl-C once the progress bar shows: the terminal's line discipline turns it into SIGINT.
        if (interrupt && !sent && /pages \|/.test(out)) {
          sent = true;
          child.stdin.write('\x03');
        }
      });
      child.on('close', (code) => resolve({ code, out }));
    });
  it('compare draws its bars (undilated runs go one after another), exits 0 by itself, and shows the cursor again', async () => {
    const r = await onPty(`compare ${UNDILATED_CLI.join(' ')} --vcpus 1 --memory 8MiB --strategies linear,stride`, false);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/linear( \[|: time dilation)/);
    expect(r.out).toMatch(/stride( \[|: time dilation)/);
    expect(r.out.lastIndexOf('\x1b[?25h')).toBeGreaterThanOrEqual(r.out.lastIndexOf('\x1b[?25l')); // shown after the last hide, if bars hid it
  });
  it('Ctrl-C mid-run: exit 130, cursor shown, one line saying what was discarded', async () => {
    const r = await onPty('run --vcpus 2 --memory 1GiB --think 20us', true);
    expect(r.code).toBe(130);
    expect(r.out.lastIndexOf('\x1b[?25h')).toBeGreaterThan(r.out.lastIndexOf('\x1b[?25l'));
    expect(r.out).toMatch(/postcopy-sim: interrupted: the migrating run in progress was discarded; nothing was written/);
  });
});
