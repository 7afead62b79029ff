/**
 * A sweep as a Slurm job array: one array task per shard (the task takes its shard from
 * SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT and writes its own file), and a merge job that runs
 * after every task succeeded (`--dependency=afterok`). Slurm does the scheduling, retries and
 * accounting; the scripts only say what to run. Paths are absolute, so the checkout, the sweep file
 * and the output directory must be on a file system every node sees (as on most clusters).
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Errors } from '../errors.js';
import { cliPath } from './provenance.js';
import type { Sweep } from './spec.js';
import { makeDirs } from '../make-dirs.js';

export interface SlurmPlan {
  sweep: Sweep;
  /** Absolute path of the sweep file. */
  sweepFile: string;
  /** Absolute path of the merged output; shards and logs go next to it. */
  output: string;
  shards: number;
  /** CPUs per array task; 'exclusive' takes whole nodes (threaded-engine cells want every core). */
  cpusPerTask: number | 'exclusive';
  /** Extra sbatch options, one per #SBATCH line (e.g. --time=1:00:00). */
  sbatchArgs: string[];
  /** Working directory of the jobs. */
  cwd: string;
}

/** Most array tasks the default plan asks for (Slurm's default MaxArraySize is 1001). */
export const DEFAULT_MAX_SHARDS = 64;

const base = (output: string) => output.replace(/\.jsonl$/, '');
export const shardOutput = (output: string, k: number | string) => `${base(output)}.shard-${k}.jsonl`;

/** Single-quoted for sh: safe for any path. */
export const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

function header(p: SlurmPlan, what: string, lines: string[]): string {
  for (const a of p.sbatchArgs)
    if (!/^--?[A-Za-z]/.test(a) || a.includes('\n')) throw Errors.badInput('--sbatch', `"${a}" is not an sbatch option (e.g. --sbatch=--time=1:00:00)`);
  return [
    '#!/bin/bash',
    `# postcopy-sim sweep ${p.sweep.name} (id ${p.sweep.id}): ${what}.`,
    `# Written by: postcopy-sim sweep ${p.sweepFile} --slurm`,
    ...lines.map((l) => `#SBATCH ${l}`),
    ...p.sbatchArgs.map((a) => `#SBATCH ${a}`),
    'set -euo pipefail',
  ].join('\n');
}

/** The array job: task K runs shard K of N into its own file. A requeued or re-run task resumes. */
export function arrayScript(p: SlurmPlan): string {
  return `${header(p, `${p.sweep.cells.length} cells in ${p.shards} array tasks`, [
    `--job-name=pcs-${p.sweep.name}`,
    `--array=0-${p.shards - 1}`,
    p.cpusPerTask === 'exclusive' ? '--exclusive' : `--cpus-per-task=${p.cpusPerTask}`,
    `--output=${base(p.output)}.shard-%a.log`,
    `--chdir=${p.cwd}`,
  ])}
# The shard comes from SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT; pool workers from SLURM_CPUS_PER_TASK.
# To re-run failed tasks, submit this whole script again: finished shards find all their cells and
# exit at once. (A partial --array=3,5 would change SLURM_ARRAY_TASK_COUNT, and so the shards.)
exec ${shq(process.execPath)} ${shq(cliPath())} sweep ${shq(p.sweepFile)} --output ${shq(base(p.output))}".shard-\${SLURM_ARRAY_TASK_ID}.jsonl"
`;
}

/** The merge job: checks that every cell is there exactly once and writes the merged file. */
export function mergeScript(p: SlurmPlan): string {
  const shards = [...Array(p.shards).keys()].map((k) => shq(shardOutput(p.output, k)));
  return `${header(p, `merge of the ${p.shards} shard outputs`, [
    `--job-name=pcs-${p.sweep.name}-merge`,
    '--cpus-per-task=1',
    `--output=${base(p.output)}.merge.log`,
    `--chdir=${p.cwd}`,
  ])}
exec ${shq(process.execPath)} ${shq(cliPath())} sweep merge ${shq(p.output)} \\
  ${shards.join(' \\\n  ')}
`;
}

export interface WrittenScripts {
  array: string;
  merge: string;
}

export function writeSlurmScripts(p: SlurmPlan): WrittenScripts {
  const files = { array: `${base(p.output)}.sbatch`, merge: `${base(p.output)}.merge.sbatch` };
  try {
    makeDirs(dirname(p.output));
    writeFileSync(files.array, arrayScript(p), { mode: 0o755 });
    writeFileSync(files.merge, mergeScript(p), { mode: 0o755 });
  } catch (e) {
    throw Errors.badInput('--output', `cannot write the Slurm scripts next to ${p.output}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return files;
}

function sbatch(args: string[]): string {
  let out: string;
  try {
    out = execFileSync('sbatch', ['--parsable', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === 'ENOENT') throw Errors.badInput('--submit', 'sbatch is not on the PATH (is this a Slurm login node?)');
    throw Errors.badInput('--submit', `sbatch failed: ${(err.stderr ?? err.message).trim().split('\n')[0]}`);
  }
  const id = out.trim().split(';')[0]!;
  if (!/^\d+$/.test(id)) throw Errors.badInput('--submit', `sbatch printed "${out.trim()}", not a job id`);
  return id;
}

/** Submits the array job, then the merge job to run once every array task succeeded. */
export function submitSlurm(files: WrittenScripts): { arrayJobId: string; mergeJobId: string } {
  const arrayJobId = sbatch([files.array]);
  const mergeJobId = sbatch([`--dependency=afterok:${arrayJobId}`, '--kill-on-invalid-dep=yes', files.merge]);
  return { arrayJobId, mergeJobId };
}
