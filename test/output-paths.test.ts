// Goal: every -o / --out is probed before the work and written atomically (issue 23, "Output paths"):
// an unwritable path is one line naming the flag, exit 2, before calibrate measures or trace import
// converts, never a stack trace; a written file appears whole under its name, with no temporary
// file left beside it, and a failed write leaves what was there.
// Method: the CLI as a child process on paths that cannot be written (a missing directory, a
// directory as the file, a directory under /proc that cannot be made); writeAtomically, probeWritable
// and makeDirs on a temporary directory.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { probeWritable, writeAtomically } from '../src/cli/output-file.js';
import { makeDirs } from '../src/make-dirs.js';

const dir = mkdtempSync(join(tmpdir(), 'postcopy-out-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const cli = (...args: string[]) => spawnSync(process.execPath, ['dist/src/cli/main.js', ...args], { encoding: 'utf8', timeout: 30_000 });
const missing = join(dir, 'no-such-dir', 'out.json');

describe('an unwritable output path is refused before the work', () => {
  it.each([
    [['calibrate', '-o', missing], '--out'],
    [['calibrate', '--quick', '-o', dir], '--out'],
    [['trace', 'import', 'package.json', '--out', missing], '--out'],
    [['report', 'package.json', '-o', missing], '--output'],
  ])('%j', (args, flag) => {
    const r = cli(...args);
    expect(r.error).toBeUndefined(); // it did not measure until the spawn's timeout
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^postcopy-sim: error: ${flag}: cannot write [^\\n]+\\n$`));
  });
});

describe('an output directory that cannot be made', () => {
  // mkdirSync(dir, { recursive: true }) spun forever on /proc/nope (the sweep hung, deaf to SIGTERM);
  // makeDirs fails with ENOENT instead. /proc exists on Linux only.
  it.skipIf(process.platform !== 'linux')('sweep -o /proc/nope/x.jsonl: one line naming --output, exit 2', () => {
    const r = cli('sweep', 'examples/sweeps/link.json', '-o', '/proc/nope/x.jsonl');
    expect(r.error).toBeUndefined(); // no hang: the spawn's timeout did not fire
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('postcopy-sim: error: --output: cannot create the directory of /proc/nope/x.jsonl: ENOENT\n');
  });
  it('makeDirs makes the missing parents, accepts what exists, and refuses under a file', () => {
    const deep = join(dir, 'm1', 'm2', 'm3');
    makeDirs(deep);
    makeDirs(deep);
    expect(readdirSync(join(dir, 'm1', 'm2'))).toEqual(['m3']);
    writeFileSync(join(dir, 'plain'), '');
    expect(() => makeDirs(join(dir, 'plain', 'sub'))).toThrow(/ENOTDIR/);
  });
});

describe('atomic writes', () => {
  it('a written file is whole and nothing is left beside it', () => {
    const file = join(dir, 'a.txt');
    writeAtomically(file, 'first\n', '--out');
    writeAtomically(file, 'second\n', '--out');
    expect(readFileSync(file, 'utf8')).toBe('second\n');
    expect(readdirSync(dir).filter((f) => f.includes('partial'))).toEqual([]);
  });
  it('a failed write leaves what was there and no temporary file', () => {
    const target = join(dir, 'taken');
    mkdirSync(target);
    writeFileSync(join(target, 'keep'), 'kept');
    expect(() => writeAtomically(target, 'x', '--out')).toThrow(/^--out: cannot write .*taken: E/);
    expect(readFileSync(join(target, 'keep'), 'utf8')).toBe('kept');
    expect(readdirSync(dir).filter((f) => f.includes('partial'))).toEqual([]);
  });
  it('the probe leaves nothing behind and names the flag', () => {
    probeWritable(join(dir, 'probe.json'), '-o');
    expect(readdirSync(dir).filter((f) => f.startsWith('.probe') || f === 'probe.json')).toEqual([]);
    expect(() => probeWritable(dir, '-o')).toThrow(/^-o: cannot write .*: it is a directory$/);
  });
  it('report -o writes the report under its name only', () => {
    const results = join(dir, 'run.json');
    const run = cli('run', '--engine', 'virtual', '--vcpus', '2', '--memory', '8MiB', '--json');
    expect(run.status).toBe(0);
    writeFileSync(results, run.stdout);
    const out = join(dir, 'report.html');
    const r = cli('report', results, '-o', out);
    expect(r.status).toBe(0);
    expect(readFileSync(out, 'utf8')).toMatch(/^<!doctype html>/i);
    expect(readdirSync(dir).filter((f) => f.includes('partial'))).toEqual([]);
  });
});
