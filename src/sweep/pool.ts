/**
 * The pool that runs virtual-engine cells in parallel: a virtual run is single-threaded and shares
 * nothing, so N workers on N cores finish N cells at a time. A sweep's cells by default; the
 * published bench's sensitivity runs its series on it too (its own worker entry and task type). The caller keeps at most `threads`
 * cells in flight (no queue inside piscina), so a stop discards exactly the cells that were running.
 */
import { Piscina } from 'piscina';
import { builtUrl } from '../paths.js';
import type { CellTask } from './cell.js';
import type { CellOutcome } from './output.js';

/** Workers are the compiled files in dist/ (Node 20 cannot load .ts in a worker; see src/paths.ts). */
export const SWEEP_WORKER = builtUrl('workers/sweep-cell.js');

export class WorkerDied extends Error {}

export class CellPool<Task = CellTask, Outcome = CellOutcome> {
  private readonly pool: Piscina;
  /** A worker that failed outside a task (e.g. could not load): fails the next run. */
  private failure: Error | null = null;
  private closing: Promise<void> | null = null;

  /** `filename`: the worker entry (tests pass a fixture). */
  constructor(
    readonly threads: number,
    filename: URL = SWEEP_WORKER,
  ) {
    if (!(threads >= 1)) throw new Error(`assertion failed: a pool needs at least one thread, got ${threads}`);
    this.pool = new Piscina({ filename: filename.href, minThreads: threads, maxThreads: threads, idleTimeout: 30_000 });
    // Without a listener a worker that fails to start crashes the process (ecosystem.md, P5).
    this.pool.on('error', (e: Error) => {
      this.failure = e;
    });
  }

  /**
   * Runs one cell. A worker that dies in the middle of a cell (out of memory, a crash in native
   * code) rejects with WorkerDied, which the caller records as that cell's failure: piscina starts a
   * new worker for the next cell. A pool whose workers cannot start at all rejects with that error.
   */
  async run(task: Task): Promise<Outcome> {
    if (this.failure) throw this.failure;
    try {
      return (await this.pool.run(task)) as Outcome;
    } catch (e) {
      if (this.failure) throw this.failure;
      throw new WorkerDied(e instanceof Error ? e.message : String(e));
    }
  }

  /** Terminates the workers; cells still running reject. */
  close(): Promise<void> {
    this.closing ??= this.pool.destroy();
    return this.closing;
  }
}
