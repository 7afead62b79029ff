// Goal: the CLI keeps stdout machine-readable, and every bad input is one line on stderr with exit
// code 2 and no stack trace. Method: spawn the built CLI like a user would.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const CLI = join(import.meta.dirname, '..', 'dist', 'src', 'cli', 'main.js');
function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('postcopy-sim run', () => {
  it('--json prints exactly one JSON object with the documented fields', () => {
    const r = cli('run', '--vcpus', '2', '--memory', '8MiB', '--mode', 'uffd', '--handlers', '2', '--json', '--seed', '3');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const j = JSON.parse(lines[0]!);
    for (const k of [
      'mode',
      'vcpus',
      'pageSize',
      'pages',
      'faults',
      'faultsPerSec',
      'faultLatencyUs',
      'blocktimeMs',
      'migrationMs',
      'pagesDemand',
      'pagesPushed',
      'bytesOnWire',
      'verified',
    ]) {
      expect(j).toHaveProperty(k);
    }
    expect(Object.keys(j.faultLatencyUs)).toEqual(expect.arrayContaining(['p50', 'p90', 'p99', 'p999', 'max']));
    expect(j).toMatchObject({ mode: 'uffd', vcpus: 2, handlers: 2, pageSize: 4096, pages: 2048, verified: true });
  });

  it('without --json prints the summary table (no progress bar when piped)', () => {
    const r = cli('run', '--vcpus', '1', '--memory', '4MiB', '--accesses', '2000', '--workload', 'sequential');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^faults\/s\s+[\d,]+$/m);
    expect(r.stdout).toMatch(/^verified\s+true$/m);
    expect(r.stderr).toBe('');
  });

  it('takes options from a scenario file, flags winning', () => {
    const file = join(tmpdir(), `pcs-scenario-${process.pid}.json`);
    writeFileSync(file, JSON.stringify({ description: 'tiny', vcpus: 1, memory: '4MiB', workload: 'random', accesses: 1000 }));
    const j = JSON.parse(cli('run', '--scenario', file, '--vcpus', '2', '--json').stdout);
    expect(j).toMatchObject({ vcpus: 2, workload: 'random', memoryBytes: 4 << 20 });
  });
});

describe('bad input: one line, exit code 2', () => {
  const bad = (args: string[], re: RegExp) => {
    const r = cli(...args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^postcopy-sim: error: /);
    expect(lines[0]).toMatch(re);
    expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/);
  };
  it.each<[string[], RegExp]>([
    [['run', '--vcpu', '4'], /--vcpu: unknown option/],
    [['run', '--vcpus', '0'], /vcpus: /],
    [['run', '--vcpus', 'four'], /vcpus: /],
    [['run', '--memory', '-1GiB'], /memory: /],
    [['run', '--memory=-1GiB'], /memory: /],
    [['run', '--memory', '1000'], /memory: must be a multiple of the page size/],
    [['run', '--memory', 'lots'], /memory: "lots" is not a size/],
    [['run', '--page-size', '8KiB'], /pageSize: must be 4KiB or 2MiB/],
    [['run', '--mode', 'turbo'], /mode: must be one of exit, uffd, none/],
    [['run', '--workload', 'tpcc'], /workload: must be one of/],
    [['run', '--bandwidth', 'fast'], /bandwidth: /],
    [['run', '--latency=-3us'], /latency: /],
    [['run', '--json', 'yes'], /unexpected argument "yes"/],
    [['run', '--scenario', '/nonexistent/file.json'], /--scenario: cannot read/],
    [['frobnicate'], /unknown command "frobnicate"/],
  ])('%j', (args, re) => bad(args, re));

  // Every command's flag errors in the project's words (src/cli/flag-error.ts), naming the flag and
  // the help that lists its flags, never node's own ("Unknown option '--bogus'. To specify ...").
  it.each<[string[], RegExp]>([
    [['calibrate', '--bogus'], /^postcopy-sim: error: --bogus: unknown option \(see: postcopy-sim help calibrate\)$/],
    [['calibrate', '-x'], /^postcopy-sim: error: -x: unknown option \(see: postcopy-sim help calibrate\)$/],
    [['calibrate', '--pages'], /^postcopy-sim: error: --pages: needs a value$/],
    [['calibrate', '-o'], /^postcopy-sim: error: --out: needs a value$/],
    [['calibrate', '--quick=yes'], /^postcopy-sim: error: --quick: is a switch and takes no value$/],
    [['calibrate', 'extra'], /^postcopy-sim: error: extra: unexpected argument \(see: postcopy-sim help calibrate\)$/],
    [['sweep', '--bogus'], /^postcopy-sim: error: --bogus: unknown option \(see: postcopy-sim help sweep\)$/],
    [['trace', 'stats', '--bogus'], /^postcopy-sim: error: trace stats: --bogus: unknown option \(see: postcopy-sim help trace\)$/],
    [['report', '--bogus'], /^postcopy-sim: error: --bogus: unknown option \(see: postcopy-sim help report\)$/],
    [['demo', '--bogus'], /^postcopy-sim: error: --bogus: unknown option \(see: postcopy-sim help demo\)$/],
  ])('%j', (args, re) => bad(args, re));

  it('a scenario file with bad fields names the field path', () => {
    const file = join(tmpdir(), `pcs-bad-scenario-${process.pid}.json`);
    writeFileSync(
      file,
      JSON.stringify({
        vcpus: 2,
        memslots: [
          { base: 0, size: '1MiB' },
          { base: '3MiB', size: 'big' },
        ],
      }),
    );
    bad(['run', '--scenario', file], /memslots\.1\.size: /);
    writeFileSync(file, '{ "vcpus": 2,');
    bad(['run', '--scenario', file], /is not valid JSON/);
    writeFileSync(file, JSON.stringify({ vcpus: 2, wrokload: 'zipf' }));
    bad(['run', '--scenario', file], /unknown option: wrokload/);
  });
});
