// Goal: `postcopy-sim trace` works end to end the way a user meets it: `trace record` records a real
// program (coreutils `sort` on a generated file) under perf and the trace replays verified in both
// engines; without perf, or without permission, it says so in one line with exit code 2; bad
// traces and bad perf script text are one line naming file and line, exit code 2, no stack trace.
// Method: spawn the built CLI. The recording test is skipped, saying why, where perf cannot record
// (no perf, or kernel.perf_event_paranoid too strict for this user); .ci/run installs linux-perf.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { perfEnvironment, perfProblem } from '../src/trace/record.js';
import { needs } from './helpers/tools.js';

const CLI = join(import.meta.dirname, '..', 'dist', 'src', 'cli', 'main.js');
const dir = mkdtempSync(join(tmpdir(), 'pcs-trace-cli-'));

function cli(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000, env, cwd: dir });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function oneLine(stderr: string): string {
  const lines = stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at /);
  return lines[0]!;
}

describe('trace record: what it needs', () => {
  it('names each missing piece in one line', () => {
    expect(perfProblem({ perf: null, paranoid: 2, root: false })).toMatch(/^perf not found: install it \(Debian: apt-get install linux-perf\)/);
    expect(perfProblem({ perf: '/usr/bin/perf', paranoid: null, root: true })).toMatch(/^this kernel has no perf events/);
    expect(perfProblem({ perf: '/usr/bin/perf', paranoid: 3, root: false })).toMatch(
      /^kernel\.perf_event_paranoid is 3, which forbids perf to users other than root/,
    );
    expect(perfProblem({ perf: '/usr/bin/perf', paranoid: 3, root: true })).toBeNull();
    expect(perfProblem({ perf: '/usr/bin/perf', paranoid: 2, root: false })).toBeNull();
  });
  it('without perf: one line, exit code 2, and the program is not run', () => {
    const r = cli(['trace', 'record', '--', 'sh', '-c', 'echo ran'], { ...process.env, PERF: join(dir, 'no-such-perf') });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(oneLine(r.stderr)).toBe(
      'postcopy-sim: error: trace record: perf not found: install it (Debian: apt-get install linux-perf) or set PERF=/path/to/perf',
    );
  });
  it('without a program: one line, exit code 2', () => {
    const r = cli(['trace', 'record', '--out', 'x.gz']);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toMatch(/^postcopy-sim: error: trace record: put the program after --/);
  });
});

const problem = perfProblem(perfEnvironment());
describe.skipIf(problem !== null)(needs('perf', `trace record on a real program${problem ? ` (skipped: ${problem})` : ''}`), () => {
  it('records sort, and the trace replays verified in both engines', () => {
    writeFileSync(join(dir, 'in.txt'), `${Array.from({ length: 20000 }, (_, i) => (i * 7919) % 20011).join('\n')}\n`);
    const r = cli(['trace', 'record', '--out', 'sort.trace.gz', '--', 'sort', '-n', '-o', 'out.txt', 'in.txt']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^postcopy-sim: \d+ page faults of 1 thread \(vCPUs\) over [\d.]+ ms; \d+ areas packed into .* -> sort\.trace\.gz/m);
    expect(readFileSync(join(dir, 'out.txt'), 'utf8').split('\n')[1]).toBe('1'); // sort really ran
    const stats = cli(['trace', 'stats', 'sort.trace.gz', '--json']);
    expect(JSON.parse(stats.stdout)).toMatchObject({
      vcpus: 1,
      header: { version: 2, source: 'perf record -e page-faults -c 1 -d -- sort -n -o out.txt in.txt' },
    });
    for (const engine of ['threads', 'virtual']) {
      const run = cli(['run', '--engine', engine, '--workload', 'trace', '--trace', 'sort.trace.gz', '--json']);
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({ workload: 'trace', vcpus: 1, verified: true });
    }
  });
});

describe('bad traces and perf text: one line naming file and line, exit code 2', () => {
  it('a malformed perf script line', () => {
    writeFileSync(join(dir, 'perf.txt'), 'sort 1/1 1.000001: page-faults: 7f0000000000\nnot perf\n');
    const r = cli(['trace', 'import', 'perf.txt', '--out', 'p.trace']);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toMatch(/^postcopy-sim: error: perf script perf\.txt:2: not a perf script line with pid\/tid, time, event and addr/);
  });
  it('a truncated gzip', () => {
    const text = `# postcopy-sim trace v2\n# source: t\n# page-size: 4096\n# vcpus: 1\n# memory: 1048576\n${Array.from(
      { length: 30000 },
      (_, i) => `${i} 0 R 0x${(((i * 7) % 256) * 4096).toString(16)}`,
    ).join('\n')}\n`;
    const gz = gzipSync(text);
    writeFileSync(join(dir, 'cut.trace.gz'), gz.subarray(0, Math.floor(gz.length / 2)));
    const r = cli(['run', '--workload', 'trace', '--trace', 'cut.trace.gz', '--engine', 'virtual']);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toMatch(/^postcopy-sim: error: trace cut\.trace\.gz:\d+: the gzip stream ends early: the file is truncated$/);
  });
  it('a trace whose address falls outside every memslot', () => {
    writeFileSync(join(dir, 'far.trace'), '0 R 0x1000\n0 W 0x40000000\n');
    const r = cli(['run', '--workload', 'trace', '--trace', 'far.trace', '--vcpus', '1', '--memory', '16MiB']);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toBe(
      'postcopy-sim: error: trace far.trace:2: gpa 0x40000000 is outside every memslot (guest memory ends at 0x1000000; a bigger --memory?)',
    );
  });
  it('a bad regions option names its field', () => {
    const r = cli(['run', '--workload', 'regions', '--run-length', '0']);
    expect(r.code).toBe(2);
    expect(oneLine(r.stderr)).toBe('postcopy-sim: error: runLength: must be a positive integer');
  });
});
