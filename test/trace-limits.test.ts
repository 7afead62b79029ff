// Goal: reading a trace is bounded (issue 23, "Bounded trace reading"): a line longer than the
// documented limit is an error naming the file and the line, found without reading the rest of the
// file; an error message quotes at most ~200 characters of the input.
// Method: forEachLine on files with a line just at and just over MAX_LINE_CHARS; a file with no
// newline at all (several limits long) through `run` and `trace import` as child processes (exit 2,
// one short line); a long bad field in a trace line, a long size and a long --inject spec.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { clip, ECHO_CHARS } from '../src/errors.js';
import { forEachLine, MAX_LINE_CHARS } from '../src/trace/lines.js';
import { resolveOptions } from '../src/options.js';

const dir = mkdtempSync(join(tmpdir(), 'postcopy-trace-limits-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const cli = (...args: string[]) => spawnSync(process.execPath, ['dist/src/cli/main.js', ...args], { encoding: 'utf8', timeout: 60_000 });

describe('a line longer than the limit', () => {
  it('is read up to the limit and refused one past it, naming the file and the line', async () => {
    const ok = join(dir, 'ok.txt'),
      bad = join(dir, 'bad.txt');
    writeFileSync(ok, `a\nb\n${'x'.repeat(MAX_LINE_CHARS)}\n`);
    writeFileSync(bad, `a\nb\n${'x'.repeat(MAX_LINE_CHARS + 1)}\nd\n`);
    const lengths: number[] = [];
    expect(await forEachLine(ok, 'trace', (l) => lengths.push(l.length))).toBe(3);
    expect(lengths).toEqual([1, 1, MAX_LINE_CHARS]);
    const seen: string[] = [];
    await expect(forEachLine(bad, 'trace', (l) => seen.push(l))).rejects.toThrow(`trace ${bad}:3: the line is longer than ${MAX_LINE_CHARS} characters`);
    expect(seen).toEqual(['a', 'b']);
  });
  it.each([
    [['run', '--engine', 'virtual', '--workload', 'trace', '--trace'], 'trace'],
    [['trace', 'import'], 'perf script'],
  ])('a file without a newline: %j is one short line, exit 2', (args, what) => {
    const file = join(dir, `nonl-${what.replace(' ', '-')}.trace`);
    writeFileSync(file, `0 R 0x${'f'.repeat(8 * MAX_LINE_CHARS)}`);
    const r = cli(...args, file, ...(what === 'perf script' ? ['--out', join(dir, 'out.trace')] : []));
    expect(r.error).toBeUndefined();
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      `postcopy-sim: error: ${what} ${file}:1: the line is longer than ${MAX_LINE_CHARS} characters (the limit of a line; is this a ${what} file?)\n`,
    );
  });
});

describe('error messages quote a bounded part of the input', () => {
  const long = 'y'.repeat(10_000);
  it('clip keeps ECHO_CHARS characters and says how long the input was', () => {
    expect(clip('short')).toBe('short');
    expect(clip(long)).toBe(`${'y'.repeat(ECHO_CHARS)}... (10000 characters)`);
  });
  it('a bad field in a trace line', () => {
    const file = join(dir, 'field.trace');
    writeFileSync(file, `0 R 0x1000\n0 R ${long}\n`);
    const r = cli('run', '--engine', 'virtual', '--workload', 'trace', '--trace', file);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^postcopy-sim: error: trace ${file}:2: gpa "y{${ECHO_CHARS}}\\.\\.\\. \\(10000 characters\\)"`));
    expect(r.stderr.length).toBeLessThan(ECHO_CHARS + file.length + 200);
  });
  it.each([[{ memory: long }], [{ bandwidth: long }], [{ latency: long }], [{ inject: [long] }], [{ vcpus: long }]])('%#: an option', (input) => {
    let message = '';
    try {
      resolveOptions(input as never);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/^[a-z.0-9]+: /i);
    expect(message.length).toBeLessThan(ECHO_CHARS + 200);
  });
});
