// Goal: `postcopy-sim sweep FILE` writes one valid, self-describing line per cell; a virtual cell's
// line re-creates its run exactly through `run --scenario`; re-running skips what is written; a
// torn last line is cut off and its cell run again; a sweep killed with SIGKILL mid-run resumes to
// the same results as an uninterrupted run; SIGINT stops cleanly (exit 130); failed cells are
// results; threaded-engine cells run one at a time and the output says so; the progress bar is
// drawn on a terminal and stopped on every path.
// Method: the built CLI on tiny virtual-engine sweeps in scratch directories; results compared
// byte for byte apart from the wall-clock and host fields.
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CellPool, WorkerDied } from '../src/sweep/pool.js';
import { RESULT_SCHEMA_NAME, RESULT_SCHEMA_VERSION } from '../src/sweep/schema.js';
import { CLI, cleanEnv, cli, cliChild, exited, readRecords, scratch, stableLines, TINY, until, writeSweep } from './sweep-helpers.js';
import { needs } from './helpers/tools.js';

const lineCount = (path: string) => {
  try {
    return readFileSync(path, 'utf8').split('\n').length - 1;
  } catch {
    return 0;
  }
};

describe('a small grid', () => {
  const dir = scratch('sweep-run');
  const spec = { name: 'grid', base: TINY, axes: { grid: { mode: ['exit', 'uffd'], vcpus: [1, 2] } }, seeds: 2 };
  const file = writeSweep(dir, 'grid', spec);
  const out = join(dir, 'grid.jsonl');
  let first: ReturnType<typeof cli>;
  beforeAll(() => {
    first = cli(['sweep', file, '--jobs', '2'], { cwd: dir });
  });

  it('writes one schema-valid line per cell, with its provenance', () => {
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toBe('');
    expect(first.stderr).toMatch(/^sweep grid: 8 cells; 0 already in grid\.jsonl; running 8 virtual on 2 workers$/m);
    const recs = readRecords(out);
    expect(recs.map((r) => r.cell.index).sort((a, b) => a - b)).toEqual([...Array(8).keys()]);
    const r = recs[0]!;
    expect(r).toMatchObject({ schema: RESULT_SCHEMA_NAME, schemaVersion: RESULT_SCHEMA_VERSION, status: 'ok', error: null });
    expect(r.tool.name).toBe('postcopy-sim');
    expect(r.tool.version).toBe(JSON.parse(readFileSync(join(import.meta.dirname, '..', 'package.json'), 'utf8')).version);
    expect(r.tool.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(r.sweep).toMatchObject({ name: 'grid', cells: 8, axes: ['mode', 'vcpus', 'seed'] });
    expect(r.run.host.cpus).toBeGreaterThan(0);
    expect(r.run.shard).toBe('0/1');
    for (const rec of recs) {
      expect(rec.result!.mode).toBe(rec.cell.params.mode);
      expect(rec.result!.vcpus).toBe(rec.cell.params.vcpus);
      expect(rec.result!.seed).toBe(rec.cell.params.seed);
    }
  });

  it("a line's options are a scenario that re-creates the cell exactly", () => {
    const rec = readRecords(out).find((r) => r.cell.index === 5)!;
    const scenario = join(dir, 'cell5.json');
    writeFileSync(scenario, JSON.stringify(rec.options));
    const r = cli(['run', '--scenario', scenario, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const again = JSON.parse(r.stdout);
    for (const k of ['wallMs', 'peakRssBytes']) {
      delete again[k];
      delete (rec.result as Record<string, unknown>)[k];
    }
    expect(again).toEqual(rec.result);
  });

  it('running again skips every cell already written', () => {
    const before = readFileSync(out);
    const r = cli(['sweep', file], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/8 already in grid\.jsonl; nothing to run/);
    expect(readFileSync(out).equals(before)).toBe(true);
  });

  it('a torn last line is cut off, reported, and its cell runs again', () => {
    const whole = stableLines(readRecords(out));
    const text = readFileSync(out, 'utf8');
    const lastStart = text.slice(0, -1).lastIndexOf('\n') + 1;
    truncateSync(out, lastStart + 100); // the last line, cut 100 bytes in: a write killed midway
    const r = cli(['sweep', file], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/dropped a torn last line \(100 bytes\) from grid\.jsonl/);
    expect(r.stderr).toMatch(/7 already in grid\.jsonl; running 1 virtual on 1 worker/);
    expect(stableLines(readRecords(out))).toEqual(whole);
  });

  it("refuses to append to another sweep's results", () => {
    const other = writeSweep(dir, 'other', { ...spec, seeds: 3 });
    const r = cli(['sweep', other, '-o', out], { cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/holds results of another sweep/);
  });
});

describe('stopping and resuming', () => {
  // 12 cells of ~100 ms on one worker: long enough to stop in the middle.
  const spec = { name: 'slow', base: { engine: 'virtual', memory: '512MiB', vcpus: 2 }, seeds: 12 };

  it('after SIGKILL mid-sweep, a re-run completes it: the union equals an uninterrupted run', async () => {
    const dir = scratch('sweep-kill');
    const file = writeSweep(dir, 'slow', spec);
    const out = join(dir, 'slow.jsonl');
    const child = cliChild(['sweep', file, '--jobs', '1'], { cwd: dir });
    await until(() => lineCount(out) >= 3, 60_000, 'three cells written');
    child.kill('SIGKILL');
    expect((await exited(child)).signal).toBe('SIGKILL');
    const atKill = readFileSync(out, 'utf8');
    const complete = atKill.slice(0, atKill.lastIndexOf('\n') + 1);
    const kept = complete.split('\n').filter(Boolean);
    expect(kept.length).toBeGreaterThanOrEqual(3);
    expect(kept.length).toBeLessThan(12);
    for (const l of kept) JSON.parse(l); // every complete line is whole

    const resumed = cli(['sweep', file, '--jobs', '1'], { cwd: dir });
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain(`${kept.length} already in slow.jsonl`);
    expect(readFileSync(out, 'utf8').startsWith(complete)).toBe(true); // written lines untouched
    const recs = readRecords(out);
    expect(recs.map((r) => r.cell.index).sort((a, b) => a - b)).toEqual([...Array(12).keys()]);

    const fresh = scratch('sweep-nokill');
    const ref = cli(['sweep', writeSweep(fresh, 'slow', spec), '--jobs', '2'], { cwd: fresh });
    expect(ref.code).toBe(0);
    expect(stableLines(recs)).toEqual(stableLines(readRecords(join(fresh, 'slow.jsonl'))));
  });

  it('SIGINT stops cleanly: exit code 130, whole lines only, says what was discarded', async () => {
    const dir = scratch('sweep-int');
    const file = writeSweep(dir, 'slow', spec);
    const out = join(dir, 'slow.jsonl');
    const child = cliChild(['sweep', file, '--jobs', '1'], { cwd: dir });
    await until(() => lineCount(out) >= 1, 60_000, 'a cell written');
    child.kill('SIGINT');
    const { code } = await exited(child);
    expect(code).toBe(130);
    expect(child.stderrText()).toMatch(
      /sweep: stopped by SIGINT: \d+ cells written to slow\.jsonl, [01] in flight discarded; run the same command again to resume/,
    );
    const text = readFileSync(out, 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    expect(readRecords(out).length).toBeLessThan(12);
  });
});

// `script` (util-linux) gives the CLI a terminal, so the progress bar is drawn for real.
const hasScript = spawnSync('script', ['--version']).status === 0;

describe.skipIf(!hasScript)(needs('script', 'the progress bar on a terminal'), () => {
  const shell = (dir: string, cmd: string) =>
    spawnSync('script', ['-qec', cmd, '/dev/null'], { cwd: dir, encoding: 'utf8', env: cleanEnv(), timeout: 60_000 }).stdout;
  /** The bar hid the cursor and showed it again afterwards. */
  const restored = (tty: string) => tty.includes('\x1b[?25l') && tty.lastIndexOf('\x1b[?25h') > tty.lastIndexOf('\x1b[?25l');

  it('is drawn, then stopped, when the sweep completes', () => {
    const dir = scratch('sweep-tty');
    const file = writeSweep(dir, 'tty', { base: TINY, seeds: 4 });
    const tty = shell(dir, `${process.execPath} ${CLI} sweep ${file}`);
    expect(tty).toMatch(/sweep \[=+\] 4\/4 cells \| 0 failed/);
    expect(restored(tty)).toBe(true);
  });

  it('is stopped, and the cursor shown, when the sweep is stopped by a signal', () => {
    const dir = scratch('sweep-tty-stop');
    const file = writeSweep(dir, 'slow', { name: 'slow', base: { engine: 'virtual', memory: '512MiB', vcpus: 2 }, seeds: 40 });
    // SIGTERM, not SIGINT: a non-interactive shell starts background jobs with SIGINT ignored. The
    // signal goes once the first cell is written, so the sweep is surely running (and handling it).
    const tty = shell(
      dir,
      `${process.execPath} ${CLI} sweep ${file} --jobs 1 & ` +
        'for i in $(seq 600); do [ -s slow.jsonl ] && break; sleep 0.05; done; kill -TERM $!; wait $!; echo "rc=$?"',
    );
    expect(tty).toMatch(/stopped by SIGTERM/);
    expect(tty).toMatch(/rc=143/); // 143 on SIGTERM, as every command (130 on Ctrl-C)
    expect(restored(tty)).toBe(true);
  });
});

describe('engines and failures', () => {
  it('a worker that dies mid-cell fails that cell only; the pool goes on', async () => {
    const pool = new CellPool(1, new URL('./fixtures/sweep-crash-worker.mjs', import.meta.url));
    try {
      await expect(pool.run({ options: { crash: true } })).rejects.toBeInstanceOf(WorkerDied);
      await expect(pool.run({ options: {} })).resolves.toMatchObject({ status: 'ok' });
    } finally {
      await pool.close();
    }
  });

  it('threaded-engine cells run one at a time after the pool, and the output says so', () => {
    const dir = scratch('sweep-mixed');
    const file = writeSweep(dir, 'mixed', { base: { memory: '8MiB', vcpus: 1, accesses: 1000 }, axes: { grid: { engine: ['virtual', 'threads'] } } });
    const r = cli(['sweep', file], { cwd: dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/running 1 virtual on 1 worker, then 1 threaded-engine cell one at a time \(each uses every core\)/);
    expect(
      readRecords(join(dir, 'mixed.jsonl'))
        .map((x) => x.result!.engine)
        .sort(),
    ).toEqual(['threads', 'virtual']);
  });

  it('a cell that fails is written with its error, the others run, exit code 1', () => {
    const dir = scratch('sweep-fail');
    // An injected crash of the page fetcher loses the guest when that cell runs: it fails that cell only.
    const file = writeSweep(dir, 'fail', { base: { ...TINY }, axes: { grid: { inject: [[], ['fetcher-crash@0.5ms']] } } });
    const r = cli(['sweep', file], { cwd: dir });
    expect(r.stderr).toMatch(/1 failed or did not verify/);
    expect(r.code).toBe(1);
    const recs = readRecords(join(dir, 'fail.jsonl'));
    expect(recs).toHaveLength(2);
    const failed = recs.find((x) => x.status === 'error')!;
    expect(failed.result).toBeNull();
    expect(failed.error).toMatchObject({ code: 'GUEST_LOST', message: expect.stringContaining('the guest is lost') });
    expect(statSync(join(dir, 'fail.jsonl')).size).toBeGreaterThan(0);
  });
});
