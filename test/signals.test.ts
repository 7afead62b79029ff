// Goal: Ctrl-C and SIGTERM stop a command within a slice (issue 23, "Ctrl-C and SIGTERM"): a long
// virtual run yields between slices of events, so the signal is handled while it runs; SIGTERM
// cleans up as Ctrl-C does (the trace spool's temporary directory is removed); an interrupted
// calibrate writes nothing.
// Method: each command as a child process with its own TMPDIR; once it is under way (its first
// stderr output, or a fixed delay into a run that lasts many seconds), the test sends the signal
// and checks the exit code, the one line, that no result was printed and what is left on disk. A
// run that had finished instead would exit 0 with results on stdout, which fails the test; no
// wall time is asserted (the spawn's timeout only catches a hang).
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'postcopy-signals-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Stopped {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI, sends `signal` `afterMs` after its start, and resolves when it has exited. */
function stopAfter(args: string[], signal: NodeJS.Signals, afterMs: number, env: Record<string, string> = {}): Promise<Stopped> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['dist/src/cli/main.js', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '',
      stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
    });
    const kill = setTimeout(() => child.kill(signal), afterMs);
    const hang = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no exit after ${signal}: ${stderr}`));
    }, afterMs + 20_000);
    child.on('exit', (code) => {
      clearTimeout(kill);
      clearTimeout(hang);
      resolve({ code, stdout, stderr });
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
