// Shared by the test/sweep*.test.ts files: the built CLI, scratch directories, sweep files and
// reading results back. Sweeps here are tiny virtual-engine guests, so a cell takes milliseconds.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SweepRecordSchema, withoutVolatile, type SweepRecord } from '../src/sweep/schema.js';

export const CLI = join(import.meta.dirname, '..', 'dist', 'src', 'cli', 'main.js');

/** A small, fast, deterministic base: each cell runs in well under 100 ms. */
export const TINY = { engine: 'virtual', memory: '16MiB', vcpus: 2, accesses: 3000, workload: 'random' } as const;

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI to completion. Scheduler variables of the caller never leak in. */
export function cli(args: string[], o: { cwd?: string; env?: Record<string, string> } = {}): CliResult {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 120_000, cwd: o.cwd, env: { ...cleanEnv(), ...o.env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The CLI as a child process, for tests that stop it. */
export function cliChild(args: string[], o: { cwd?: string } = {}): ChildProcess & { stderrText: () => string } {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: o.cwd, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  return Object.assign(child, { stderrText: () => err });
}

export function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('SLURM_') || k.startsWith('JOB_COMPLETION')) delete env[k];
  delete env.JOB_COMPLETIONS;
  return env;
}

export const scratch = (what: string) => mkdtempSync(join(tmpdir(), `pcs-${what}-`));

export function writeSweep(dir: string, name: string, spec: unknown): string {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify(spec, null, 2));
  return file;
}

/** Every line of a results file, validated. */
export function readRecords(path: string): SweepRecord[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => SweepRecordSchema.parse(JSON.parse(l)));
}

/** Lines in cell order without the wall-clock and host fields: equal for two runs of virtual cells. */
export function stableLines(records: SweepRecord[]): string[] {
  return [...records].sort((a, b) => a.cell.index - b.cell.index).map((r) => JSON.stringify(withoutVolatile(r)));
}

/** Resolves when `f()` is true (polled every 20 ms), rejects after `ms`. */
export async function until(f: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const exited = (child: ChildProcess) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });
