/**
 * `postcopy-sim sweep`: the command line of src/sweep/. Flags are parsed strictly; bad input is one
 * BAD_INPUT line (exit code 2), like every other command.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { Errors, signalExitCode } from '../errors.js';
import { flagError } from '../cli/flag-error.js';
import { mergeShards } from './merge.js';
import { defaultJobs, runSweep, type SweepRunSummary } from './run.js';
import { resolveShard, shardLabel, WHOLE } from './shard.js';
import { DEFAULT_MAX_SHARDS, shardOutput, submitSlurm, writeSlurmScripts } from './slurm.js';
import { describeParams, loadSweep } from './spec.js';

export const SWEEP_USAGE = `usage: postcopy-sim sweep FILE [options]
       postcopy-sim sweep merge OUT IN...

  Runs every cell of a sweep file (base options, axes, seeds; see docs/sweeps.md) and appends one
  JSON line per cell to the output (schema: docs/sweep-result.schema.json). Virtual-engine cells run
  in parallel on a pool of workers; threaded-engine cells run one at a time after them.
  Running the same command again skips the cells already written: a killed sweep resumes.

  -o, --output FILE    results file (default NAME.jsonl, a shard NAME.shard-K.jsonl)
  --shard K/N          run shard K (0-based) of N: cells K, K+N, K+2N, ... Default: from
                       SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT, or JOB_COMPLETION_INDEX/JOB_COMPLETIONS
  --jobs N             workers for virtual-engine cells (default SLURM_CPUS_PER_TASK, else all cores)
  --list               print the cells (index, id, swept values) and exit
  --slurm              write NAME.sbatch (a job array, one task per shard) and NAME.merge.sbatch
  --submit             with --slurm: submit both; the merge runs once every task succeeded
  --shards N           with --slurm: array tasks (default: one per cell, at most ${DEFAULT_MAX_SHARDS})
  --cpus-per-task N    with --slurm: CPUs per task (default 1; whole nodes if a cell uses the threaded engine)
  --sbatch=OPT         with --slurm: one more #SBATCH line, e.g. --sbatch=--time=1:00:00 (repeatable)

  merge OUT IN...      joins shard outputs into OUT in cell order; fails (nothing written) when a
                       cell is missing or duplicated

Exit codes: 0 done, every cell ok; 1 some cell failed or did not verify (its line says why);
2 bad input; 130 stopped by Ctrl-C, 143 by SIGTERM (cells in flight are discarded; re-run to resume).`;

const FLAGS = {
  help: { type: 'boolean', short: 'h' },
  output: { type: 'string', short: 'o' },
  shard: { type: 'string' },
  jobs: { type: 'string' },
  list: { type: 'boolean' },
  slurm: { type: 'boolean' },
  submit: { type: 'boolean' },
  shards: { type: 'string' },
  'cpus-per-task': { type: 'string' },
  sbatch: { type: 'string', multiple: true },
} as const;

function parse(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: FLAGS, strict: true, allowPositionals: true });
  } catch (e) {
    throw flagError(e, 'sweep');
  }
}

function positiveInt(text: string | undefined, flag: string, max: number): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > max) throw Errors.badInput(flag, `must be a whole number from 1 to ${max}, got "${text}"`);
  return Number(text);
}

const say = (line: string) => process.stderr.write(`${line}\n`);

export async function sweepCommand(argv: string[]): Promise<number> {
  if (argv[0] === 'merge') return mergeCommand(argv.slice(1));
  const { values: v, positionals } = parse(argv);
  if (v.help) {
    process.stdout.write(`${SWEEP_USAGE}\n`);
    return 0;
  }
  if (positionals.length !== 1)
    throw Errors.badInput(
      'sweep',
      positionals.length
        ? `expected one sweep file, got ${positionals.length}`
        : 'name the sweep file (postcopy-sim sweep FILE; see postcopy-sim sweep --help)',
    );
  const slurmOnly = ['submit', 'shards', 'cpus-per-task', 'sbatch'] as const;
  for (const f of slurmOnly) if (v[f] !== undefined && !v.slurm) throw Errors.badInput(`--${f}`, 'only applies with --slurm');
  if (v.slurm && (v.shard !== undefined || v.jobs !== undefined || v.list))
    throw Errors.badInput('--slurm', '--shard, --jobs and --list do not apply (each array task takes its shard and CPUs from Slurm)');
  const file = positionals[0]!;
  const sweep = loadSweep(file);

  if (v.list) {
    process.stdout.write(sweep.cells.map((c) => `${c.index}\t${c.id}\t${c.engine}\t${describeParams(c.params)}\n`).join(''));
    return 0;
  }
  if (v.slurm) {
    const shards = positiveInt(v.shards, '--shards', 100_000) ?? Math.min(sweep.cells.length, DEFAULT_MAX_SHARDS);
    if (shards > sweep.cells.length) throw Errors.badInput('--shards', `${shards} shards for ${sweep.cells.length} cells would leave shards empty`);
    const cpus = positiveInt(v['cpus-per-task'], '--cpus-per-task', 4096);
    const plan = {
      sweep,
      sweepFile: resolve(file),
      output: resolve(v.output ?? `${sweep.name}.jsonl`),
      shards,
      sbatchArgs: v.sbatch ?? [],
      cwd: process.cwd(),
      cpusPerTask: cpus ?? (sweep.cells.some((c) => c.engine === 'threads') ? ('exclusive' as const) : 1),
    };
    const files = writeSlurmScripts(plan);
    say(`sweep ${sweep.name}: ${sweep.cells.length} cells in ${shards} array tasks; wrote ${files.array} and ${files.merge}`);
    if (!v.submit) {
      say(`submit with: jid=$(sbatch --parsable ${files.array}) && sbatch --dependency=afterok:$jid --kill-on-invalid-dep=yes ${files.merge}`);
      return 0;
    }
    const ids = submitSlurm(files);
    say(`submitted array job ${ids.arrayJobId} and merge job ${ids.mergeJobId}; merged results: ${plan.output}`);
    process.stdout.write(`${ids.arrayJobId} ${ids.mergeJobId}\n`);
    return 0;
  }

  const shard = resolveShard(v.shard);
  const output = v.output ?? (shard.count > 1 ? shardOutput(`${sweep.name}.jsonl`, shard.index) : `${sweep.name}.jsonl`);
  const jobs = positiveInt(v.jobs, '--jobs', 1024) ?? defaultJobs();
  const stop = new AbortController();
  let signalName = '';
  const onSignal = (sig: NodeJS.Signals) => {
    if (stop.signal.aborted) process.exit(signalExitCode(sig)); // a second signal: the bar is already stopped
    signalName = sig;
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let s: SweepRunSummary;
  try {
    s = await runSweep(sweep, { output, shard, jobs, tty: process.stderr.isTTY === true, signal: stop.signal });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  const failed = s.failed ? ` (${s.failed} failed or did not verify: see their lines)` : '';
  if (s.stopped) {
    say(
      `sweep: stopped by ${signalName}: ${s.written} cells written to ${output}${failed}, ${s.discarded} in flight discarded; run the same command again to resume`,
    );
    return signalExitCode(signalName);
  }
  say(
    `sweep ${sweep.name}: wrote ${s.written} cells to ${output}${failed}; ${s.skipped + s.written} of ${s.shardCells} cells of ${shard === WHOLE ? 'the sweep' : `shard ${shardLabel(shard)}`} are there`,
  );
  return s.failed ? 1 : 0;
}

function mergeCommand(argv: string[]): number {
  const { values: v, positionals } = parse(argv);
  if (v.help) {
    process.stdout.write(`${SWEEP_USAGE}\n`);
    return 0;
  }
  for (const [k, val] of Object.entries(v)) if (val !== undefined) throw Errors.badInput(`--${k}`, 'does not apply to sweep merge');
  if (positionals.length < 2) throw Errors.badInput('merge', 'usage: postcopy-sim sweep merge OUT IN... (the merged file first, then the shard outputs)');
  const [out, ...inputs] = positionals as [string, ...string[]];
  const m = mergeShards(out, inputs);
  const failed = m.failed ? `; ${m.failed} of them failed (status error)` : '';
  say(`sweep ${m.sweepName}: merged ${m.cells} cells from ${inputs.length} file${inputs.length > 1 ? 's' : ''} into ${out}${failed}`);
  return 0;
}
