/**
 * Which part of a sweep this process runs. Cells are dealt round-robin (cell i goes to shard
 * i mod N), so every shard gets a similar mix of every axis. The shard comes from `--shard K/N`, or
 * from the scheduler that started the process:
 *
 *   Slurm job array          SLURM_ARRAY_TASK_ID (minus SLURM_ARRAY_TASK_MIN), SLURM_ARRAY_TASK_COUNT
 *   Kubernetes Indexed Job   JOB_COMPLETION_INDEX, and JOB_COMPLETIONS (set it to the Job's
 *                            .spec.completions in the pod template: Kubernetes has no variable for it)
 *
 * K is 0-based, like array task ids and completion indexes.
 */
import { Errors } from '../errors.js';

export interface Shard {
  index: number;
  count: number;
  /** Where it came from, for the log line. */
  from: string;
}

export const WHOLE: Shard = { index: 0, count: 1, from: 'whole sweep' };

/** Most shards one sweep can be cut into (Slurm's default MaxArraySize is 1001). */
const MAX_SHARDS = 100_000;

function parseIndex(text: string | undefined, what: string): number {
  if (text === undefined || !/^\d+$/.test(text.trim())) throw Errors.badInput(what, `expected a whole number, got "${text ?? ''}"`);
  return Number(text.trim());
}

function checked(index: number, count: number, from: string, what: string): Shard {
  if (count < 1 || count > MAX_SHARDS) throw Errors.badInput(what, `the shard count must be 1 to ${MAX_SHARDS}, got ${count}`);
  if (index >= count) throw Errors.badInput(what, `shard ${index} of ${count}: shards are numbered from 0 to ${count - 1}`);
  return { index, count, from };
}

/** `--shard K/N` if given, else the scheduler's variables, else the whole sweep. */
export function resolveShard(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): Shard {
  if (flag !== undefined) {
    const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(flag);
    if (!m) throw Errors.badInput('--shard', `expected K/N (0-based, e.g. 0/4), got "${flag}"`);
    return checked(Number(m[1]), Number(m[2]), '--shard', '--shard');
  }
  if (env.SLURM_ARRAY_TASK_ID !== undefined) {
    const id = parseIndex(env.SLURM_ARRAY_TASK_ID, 'SLURM_ARRAY_TASK_ID');
    const min = env.SLURM_ARRAY_TASK_MIN !== undefined ? parseIndex(env.SLURM_ARRAY_TASK_MIN, 'SLURM_ARRAY_TASK_MIN') : 0;
    if (env.SLURM_ARRAY_TASK_COUNT === undefined)
      throw Errors.badInput('SLURM_ARRAY_TASK_COUNT', 'is not set, but SLURM_ARRAY_TASK_ID is (submit with sbatch --array=0-(N-1))');
    const count = parseIndex(env.SLURM_ARRAY_TASK_COUNT, 'SLURM_ARRAY_TASK_COUNT');
    if (id < min) throw Errors.badInput('SLURM_ARRAY_TASK_ID', `${id} is below SLURM_ARRAY_TASK_MIN ${min}`);
    return checked(id - min, count, 'SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT', 'SLURM_ARRAY_TASK_ID');
  }
  if (env.JOB_COMPLETION_INDEX !== undefined) {
    const index = parseIndex(env.JOB_COMPLETION_INDEX, 'JOB_COMPLETION_INDEX');
    if (env.JOB_COMPLETIONS === undefined) {
      throw Errors.badInput('JOB_COMPLETIONS', "is not set, but JOB_COMPLETION_INDEX is (set it to the Indexed Job's .spec.completions in the pod template)");
    }
    return checked(index, parseIndex(env.JOB_COMPLETIONS, 'JOB_COMPLETIONS'), 'JOB_COMPLETION_INDEX/JOB_COMPLETIONS', 'JOB_COMPLETION_INDEX');
  }
  return WHOLE;
}

export function inShard(cellIndex: number, shard: Shard): boolean {
  return cellIndex % shard.count === shard.index;
}

export const shardLabel = (s: Shard) => `${s.index}/${s.count}`;
