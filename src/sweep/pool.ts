/**
 * The pool that runs virtual-engine cells in parallel: a virtual run is single-threaded and shares
 * nothing, so N workers on N cores finish N cells at a time. The caller keeps at most `threads`
 * cells in flight (no queue inside piscina), so a stop discards exactly the cells that were running.
 */
import { Piscina } from 'piscina';
import type { CellTask } from './cell.js';
import type { CellOutcome } from './output.js';

/** Workers are the compiled files in dist/ (Node 20 cannot load .ts in a worker; see threads/paths.ts). */
const fromSource = import.meta.url.endsWith('.ts');
export const SWEEP_WORKER = new URL(fromSource ? '../../dist/workers/sweep-cell.js' : '../../workers/sweep-cell.js', import.meta.url);

export class CellPool {
  private readonly pool: Piscina;
  /** A worker that failed outside a task (e.g. could not load): fails the next run. */
  private failure: Error | null = null;
  private closing: Promise<void> | null = null;

  constructor(readonly threads: number) {
    if (!(threads >= 1)) throw new Error(`assertion failed: a pool needs at least one thread, got ${threads}`);
    this.pool = new Piscina({ filename: SWEEP_WORKER.href, minThreads: threads, maxThreads: threads, idleTimeout: 30_000 });
    // Without a listener a worker that fails to start crashes the process (ecosystem.md, P5).
    this.pool.on('error', (e: Error) => { this.failure = e; });
  }

  async run(task: CellTask): Promise<CellOutcome> {
    if (this.failure) throw this.failure;
    return (await this.pool.run(task)) as CellOutcome;
  }

  /** Terminates the workers; cells still running reject. */
  close(): Promise<void> {
    this.closing ??= this.pool.destroy();
    return this.closing;
  }
}
