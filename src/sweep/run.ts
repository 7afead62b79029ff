/**
 * Runs (one shard of) a sweep into its output file:
 *
 *   cells of this shard -> minus those already in the file -> virtual cells on the pool, N at a
 *   time -> threaded cells one at a time on the main thread (each starts its own vCPU and service
 *   threads and wants every core, so running two together would measure the contention, not the run)
 *
 * Each finished cell is appended as one line at once, so stopping (Ctrl-C, SIGTERM, a scheduler's
 * kill) loses only the cells in flight, and running the same command again picks up the rest.
 */
import { availableParallelism } from 'node:os';
import { CellAborted, runCell } from './cell.js';
import { openOutput, recordLine, type CellOutcome } from './output.js';
import { CellPool, WorkerDied } from './pool.js';
import { sweepProgress } from './progress.js';
import { inShard, shardLabel, type Shard } from './shard.js';
import { describeParams, type Cell, type Sweep } from './spec.js';

export interface SweepRunOptions {
  output: string;
  shard: Shard;
  /** Pool workers for virtual cells. */
  jobs: number;
  /** Draw a progress bar (stderr is a terminal). */
  tty: boolean;
  /** Stops the sweep: no new cells start, cells in flight are discarded. */
  signal?: AbortSignal;
  /** Status lines (stderr). */
  log?: (line: string) => void;
}

export interface SweepRunSummary {
  /** Cells in the whole sweep, and in this shard. */
  cells: number;
  shardCells: number;
  /** Already in the output file before this run. */
  skipped: number;
  /** Written by this run, and how many of them failed or did not verify. */
  written: number;
  failed: number;
  /** Running when the sweep was stopped: not written. */
  discarded: number;
  stopped: boolean;
  droppedBytes: number;
}

/** Pool workers by default: the CPUs Slurm gave this task, else every core. */
export function defaultJobs(env: NodeJS.ProcessEnv = process.env): number {
  const slurm = Number(env.SLURM_CPUS_PER_TASK);
  return Number.isInteger(slurm) && slurm > 0 ? slurm : availableParallelism();
}

export async function runSweep(sweep: Sweep, o: SweepRunOptions): Promise<SweepRunSummary> {
  const log = o.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const mine = sweep.cells.filter((c) => inShard(c.index, o.shard));
  const out = openOutput(o.output, sweep);
  const summary: SweepRunSummary = {
    cells: sweep.cells.length,
    shardCells: mine.length,
    skipped: 0,
    written: 0,
    failed: 0,
    discarded: 0,
    stopped: false,
    droppedBytes: out.droppedBytes,
  };
  const todo = mine.filter((c) => !out.done.has(c.index));
  summary.skipped = mine.length - todo.length;
  const virtual = todo.filter((c) => c.engine === 'virtual');
  const threaded = todo.filter((c) => c.engine === 'threads');
  const workers = Math.max(1, Math.min(o.jobs, virtual.length));

  if (out.droppedBytes) log(`sweep: dropped a torn last line (${out.droppedBytes} bytes) from ${o.output}: a killed run was writing it; that cell runs again`);
  const shardText = o.shard.count > 1 ? `, shard ${shardLabel(o.shard)} (${o.shard.from}): ${mine.length} cells` : '';
  const plan = [
    virtual.length ? `${virtual.length} virtual on ${workers} worker${workers > 1 ? 's' : ''}` : '',
    threaded.length ? `${threaded.length} threaded-engine cell${threaded.length > 1 ? 's' : ''} one at a time (each uses every core)` : '',
  ]
    .filter(Boolean)
    .join(', then ');
  log(
    `sweep ${sweep.name}: ${sweep.cells.length} cells${shardText}; ${summary.skipped} already in ${o.output}; ${todo.length ? `running ${plan}` : 'nothing to run'}`,
  );

  const progress = sweepProgress(todo.length, o.tty, log);
  let pool: CellPool | null = null;
  const stopped = () => o.signal?.aborted === true;
  const finish = (cell: Cell, outcome: CellOutcome) => {
    out.appender.append(recordLine(sweep, cell, outcome, o.shard));
    summary.written++;
    const ok = outcome.status === 'ok' && outcome.verified;
    if (!ok) summary.failed++;
    progress.cellDone(describeParams(cell.params), ok, outcome.wallMs);
  };
  // On a stop the bar goes at once (the terminal is the user's again), then the running cells.
  const onAbort = () => {
    progress.stop();
    void pool?.close();
  };
  o.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (virtual.length && !stopped()) {
      pool = new CellPool(workers);
      let next = 0;
      const lane = async () => {
        while (next < virtual.length && !stopped()) {
          const cell = virtual[next++]!;
          let outcome: CellOutcome;
          const startedAt = new Date().toISOString();
          try {
            outcome = await pool!.run({ options: cell.options });
          } catch (e) {
            if (stopped()) {
              summary.discarded++;
              return;
            } // terminated by the stop
            if (!(e instanceof WorkerDied)) throw e;
            outcome = {
              status: 'error',
              resultJson: null,
              verified: false,
              error: { code: 'WORKER_DIED', message: `the pool worker running this cell died: ${e.message}` },
              startedAt,
              wallMs: 0,
            };
          }
          finish(cell, outcome); // finished, even if a stop came meanwhile: keep it
        }
      };
      await Promise.all([...Array(workers)].map(lane));
    }
    for (const cell of threaded) {
      if (stopped()) break;
      try {
        finish(cell, await runCell({ options: cell.options }, o.signal));
      } catch (e) {
        if (!(e instanceof CellAborted)) throw e;
        summary.discarded++;
      }
    }
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
    summary.stopped = stopped();
    progress.stop();
    out.appender.close();
    await pool?.close();
  }
  return summary;
}
