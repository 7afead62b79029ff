/**
 * `trace record`: runs a real program under perf, recording every page fault it takes with its data
 * address (`perf record -e page-faults -c 1 -d`), asks perf for the samples and the memory maps as
 * text (`perf script`, perf-script.ts) and converts them into a v2 trace (convert.ts).
 *
 * Recording needs perf (Debian: linux-perf) and permission to use perf events: root, or a
 * kernel.perf_event_paranoid of at most 2 (Debian's default 3 forbids unprivileged users; at 2,
 * faults the kernel takes on the program's behalf, as in read(), are not recorded). Either missing
 * is one line saying so, before anything runs (exit code 2).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { Errors } from '../errors.js';
import { convertPerfScript, type Conversion } from './convert.js';
import { PERF_SCRIPT_FIELDS } from './perf-script.js';

export const PERF_RECORD_ARGS = ['record', '-e', 'page-faults', '-c', '1', '-d'];
const PARANOID_FILE = '/proc/sys/kernel/perf_event_paranoid';

/** What recording needs from this machine. */
export interface PerfEnvironment {
  /** perf's path, or null when there is none. */
  perf: string | null;
  /** kernel.perf_event_paranoid, or null when the kernel has no perf events. */
  paranoid: number | null;
  root: boolean;
}

/** Why recording cannot work here, as one line; null when it can. Pure. */
export function perfProblem(env: PerfEnvironment): string | null {
  if (env.perf === null) return 'perf not found: install it (Debian: apt-get install linux-perf) or set PERF=/path/to/perf';
  if (env.paranoid === null) return `this kernel has no perf events (${PARANOID_FILE} is missing)`;
  if (!env.root && env.paranoid > 2) {
    return `kernel.perf_event_paranoid is ${env.paranoid}, which forbids perf to users other than root: run as root, or as root set it to 2 (sysctl kernel.perf_event_paranoid=2)`;
  }
  return null;
}

/** This machine's perf: $PERF if set, else `perf` on the PATH. */
export function perfEnvironment(): PerfEnvironment {
  let paranoid: number | null = null;
  try {
    paranoid = Number(readFileSync(PARANOID_FILE, 'utf8').trim());
  } catch {
    paranoid = null;
  }
  return { perf: findPerf(), paranoid, root: process.getuid?.() === 0 };
}

function findPerf(): string | null {
  const explicit = process.env.PERF;
  const candidates = explicit
    ? [explicit]
    : (process.env.PATH ?? '')
        .split(delimiter)
        .filter(Boolean)
        .map((d) => join(d, 'perf'));
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      /* next */
    }
  }
  return null;
}

export interface Recording extends Conversion {
  exitCode: number;
}

/** Records `command` into the trace `out`; `note` gets one-line progress messages. */
export async function recordTrace(command: string[], out: string, note: (line: string) => void): Promise<Recording> {
  if (command.length === 0) throw Errors.badInput('trace record', 'no program to record: trace record [--out FILE] -- CMD [ARGS]');
  const env = perfEnvironment();
  const problem = perfProblem(env);
  if (problem) throw Errors.badInput('trace record', problem);
  const dir = mkdtempSync(join(tmpdir(), 'postcopy-sim-record-'));
  // Ctrl-C and SIGTERM end the process with process.exit (src/cli/main.ts), so no finally runs: the
  // 'exit' listener stops perf (perf record ends the program it records) and removes the directory,
  // so neither an orphaned perf nor its half-written perf.data is left behind.
  const onExit = () => {
    running?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onExit);
  try {
    const data = join(dir, 'perf.data');
    const rec = await run(env.perf!, [...PERF_RECORD_ARGS, '-q', '-o', data, '--', ...command], 'inherit');
    if (/paranoid|Permission denied|Access to performance monitoring/i.test(rec.stderr)) {
      throw Errors.badInput('trace record', `perf may not record here: ${lastLine(rec.stderr)} (see kernel.perf_event_paranoid)`);
    }
    const text = join(dir, 'perf.txt');
    const fd = openSync(text, 'w');
    let script: ChildExit;
    try {
      script = await run(env.perf!, ['script', '-i', data, ...PERF_SCRIPT_FIELDS], fd);
    } finally {
      closeSync(fd);
    }
    if (script.code !== 0) {
      const why =
        rec.code !== 0
          ? `perf record exited with ${rec.code}${rec.stderr ? `: ${lastLine(rec.stderr)}` : ' (does the program exist?)'}`
          : lastLine(script.stderr);
      throw Errors.badInput('trace record', `perf recorded nothing readable: ${why}`);
    }
    if (rec.code !== 0) note(`the program exited with status ${rec.code}; its trace is kept`);
    const source = `perf ${PERF_RECORD_ARGS.join(' ')} -- ${command.join(' ')}`;
    return { ...(await convertPerfScript(text, out, source)), exitCode: rec.code };
  } finally {
    process.off('exit', onExit);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The child `run` is waiting on, if any: what an interrupted recording must stop. */
let running: ChildProcess | null = null;

/** How a child ended: its exit code (128 if a signal ended it) and the tail of its stderr. */
interface ChildExit {
  code: number;
  stderr: string;
}

/** Runs a child; its stderr passes through to ours and the tail is kept for diagnosis. */
function run(cmd: string, args: string[], stdout: 'inherit' | number): Promise<ChildExit> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['inherit', stdout, 'pipe'] });
    running = child;
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      process.stderr.write(d);
      stderr = (stderr + d.toString('utf8')).slice(-4096);
    });
    child.on('error', (e) => reject(Errors.badInput('trace record', `cannot run ${cmd}: ${(e as NodeJS.ErrnoException).code ?? e.message}`)));
    child.on('close', (code, signal) => {
      running = null;
      resolve({ code: code ?? (signal ? 128 : 1), stderr });
    });
  });
}

function lastLine(s: string): string {
  return s.trim().split('\n').pop()?.trim() ?? '';
}
