// Goal: Ctrl-C and SIGTERM stop a command within a slice (issue 23, "Ctrl-C and SIGTERM"): a long
// virtual run yields between slices of events, so the signal is handled while it runs; SIGTERM
// cleans up as Ctrl-C does (the trace spool's temporary directory is removed); an interrupted
// calibrate writes nothing; a threaded run, compare and demo exit 130 / 143 with the one line; an
// interrupted trace conversion leaves no partial file; a stopped trace record leaves no temp
// directory and no perf, nor the program it recorded, running.
// Method: each command as a child process with its own TMPDIR; once it is under way (its first
// output, a file its recorded program writes, or a fixed delay into a run that lasts many seconds),
// the test sends the signal and checks the exit code, the one line, that no result was printed and
// what is left on disk. A run that had finished instead would exit 0 with results on stdout, which
// fails the test; no wall time is asserted (the spawn's timeout only catches a hang). The trace
// writer is stopped the way the CLI stops it on a signal: process.exit in the middle of a write.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { perfEnvironment, perfProblem } from '../src/trace/record.js';
import { needs } from './helpers/tools.js';

const dir = mkdtempSync(join(tmpdir(), 'postcopy-signals-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Stopped {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI and sends `signal` once it is under way: `after` ms after its start, or as soon as
 * `after(output)` says so (polled); resolves when it has exited.
 */
function stopAfter(
  args: string[],
  signal: NodeJS.Signals,
  after: number | ((o: { stdout: string; stderr: string }) => boolean),
  env: Record<string, string> = {},
): Promise<Stopped> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['dist/src/cli/main.js', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = { stdout: '', stderr: '' };
    child.stdout.on('data', (d: Buffer) => {
      out.stdout += d;
    });
    child.stderr.on('data', (d: Buffer) => {
      out.stderr += d;
    });
    const kill =
      typeof after === 'number'
        ? setTimeout(() => child.kill(signal), after)
        : setInterval(() => {
            if (!after(out)) return;
            clearInterval(kill);
            child.kill(signal);
          }, 50);
    const hang = setTimeout(
      () => {
        child.kill('SIGKILL');
        reject(new Error(`no exit after ${signal}: ${out.stderr}`));
      },
      (typeof after === 'number' ? after : 10_000) + 20_000,
    );
    child.on('exit', (code) => {
      clearTimeout(kill);
      clearInterval(kill);
      clearTimeout(hang);
      resolve({ code, ...out });
    });
  });
}

// A virtual run of many seconds: 16 GiB at 4 KiB pages is 4 Mi pages to push (an 8 GiB one took 6 s here).
const LONG_VIRTUAL = ['run', '--engine', 'virtual', '--memory', '16GiB', '--vcpus', '2', '--json'];

describe('a long virtual run stops on a signal', () => {
  it('Ctrl-C (SIGINT): exit 130, one line, no result', async () => {
    const r = await stopAfter(LONG_VIRTUAL, 'SIGINT', 2500);
    expect(r.stdout).toBe('');
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/postcopy-sim: interrupted: the migrating run in progress was discarded; nothing was written\n$/);
  });
  it("SIGTERM: exit 143, and the trace spool's temporary directory is removed", async () => {
    const tmp = mkdtempSync(join(dir, 'tmp-'));
    const trace = join(dir, 'long.trace');
    writeFileSync(trace, `${Array.from({ length: 2000 }, (_, i) => `${i % 2} R 0x${(i * 4096).toString(16)}`).join('\n')}\n`);
    const r = await stopAfter([...LONG_VIRTUAL, '--workload', 'trace', '--trace', trace, '--vcpus', '2'], 'SIGTERM', 2500, { TMPDIR: tmp });
    expect(r.stdout).toBe('');
    expect(r.code).toBe(143);
    expect(r.stderr).toMatch(/interrupted \(SIGTERM\)/);
    expect(readdirSync(tmp)).toEqual([]);
  });
});

describe('calibrate', () => {
  it('interrupted, it writes no profile and no partial file', async () => {
    const out = join(dir, 'profile.json');
    const r = await stopAfter(['calibrate', '--quick', '-o', out], 'SIGINT', 3000);
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/interrupted/);
    expect(readdirSync(dir).filter((f) => f.includes('profile'))).toEqual([]);
  });
});

describe('the other commands stop on a signal, with the same line and exit code', () => {
  it('a threaded run, on Ctrl-C: exit 130, no result', async () => {
    const r = await stopAfter(['run', '--memory', '2GiB', '--json'], 'SIGINT', 2500);
    expect(r.stdout).toBe('');
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/postcopy-sim: interrupted: the migrating run in progress was discarded; nothing was written\n$/);
  });
  it('compare, on SIGTERM: exit 143, no table', async () => {
    const r = await stopAfter(['compare', '--engine', 'virtual', '--memory', '16GiB'], 'SIGTERM', 2500);
    expect(r.stdout).toBe('');
    expect(r.code).toBe(143);
    expect(r.stderr).toMatch(/postcopy-sim: interrupted \(SIGTERM\): .*discarded; nothing was written\n$/);
  });
  it('demo, on SIGTERM once it serves: exit 143 and the line (it exited 0 silently)', async () => {
    const r = await stopAfter(['demo', '--port', '0'], 'SIGTERM', (o) => o.stdout.includes('http://'));
    expect(r.code).toBe(143);
    expect(r.stderr).toMatch(/postcopy-sim: interrupted \(SIGTERM\): the demo server stopped/);
  });
});

describe('an interrupted trace conversion leaves no partial file', () => {
  it('TraceWriter removes its temporary file when the process exits as a signal makes it (process.exit)', () => {
    const out = join(dir, 'cut.trace.gz');
    // What src/cli/main.ts does on a signal: process.exit mid-write, so no finally runs.
    const code = `import { TraceWriter } from './dist/src/trace/writer.js';
      const w = new TraceWriter(${JSON.stringify(out)});
      w.write('x'.repeat(2 << 20));
      process.exit(143);`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status, r.stderr).toBe(143);
    expect(readdirSync(dir).filter((f) => f.startsWith('cut.trace'))).toEqual([]);
  });
});

const perf = perfProblem(perfEnvironment());
describe.skipIf(perf !== null)(needs('perf', `trace record, stopped${perf ? ` (skipped: ${perf})` : ''}`), () => {
  it('on SIGTERM: exit 143, no temp directory, no trace, and perf and the program it records are gone', async () => {
    const tmp = mkdtempSync(join(dir, 'rec-tmp-'));
    const pidFile = join(dir, 'recorded.pid');
    const trace = join(dir, 'stopped.trace.gz');
    const r = await stopAfter(
      ['trace', 'record', '--out', trace, '--', 'sh', '-c', `echo $$ > ${pidFile}; exec sleep 30`],
      'SIGTERM',
      () => existsSync(pidFile),
      {
        TMPDIR: tmp,
      },
    );
    expect(r.code).toBe(143);
    expect(r.stderr).toMatch(/interrupted \(SIGTERM\): nothing was written/);
    expect(readdirSync(tmp)).toEqual([]);
    expect(existsSync(trace)).toBe(false);
    // perf record ends its program when it is stopped: poll a little, never assert a time.
    const pid = Number(readFileSync(pidFile, 'utf8'));
    const alive = () => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    for (let i = 0; i < 100 && alive(); i++) await new Promise((res) => setTimeout(res, 50));
    expect(alive(), 'the recorded program outlived the command').toBe(false);
  });
});
