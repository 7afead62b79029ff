/**
 * A sweep's output file: which cells it already holds (so a re-run skips them), and the record
 * written for each finished cell. The file is only ever appended to, one whole line per cell, in
 * the order cells finish; `sweep merge` writes them in cell order.
 */
import { dirname } from 'node:path';
import { Errors, SimError } from '../errors.js';
import { LineAppender, readLines, repairTail } from './jsonl.js';
import { hostFacts, toolFacts } from './provenance.js';
import { RESULT_SCHEMA_NAME, RESULT_SCHEMA_VERSION, type SweepRecord } from './schema.js';
import { shardLabel, type Shard } from './shard.js';
import type { Cell, Sweep } from './spec.js';
import { makeDirs } from '../make-dirs.js';

/**
 * What one cell's run produced (from a pool worker or the main thread). The RunResult travels as its
 * JSON text, made where the cell ran: a pool worker serialises its own result in parallel, and the
 * main thread only copies a string into the line (parsing and re-serialising ~50 KB of numbers per
 * cell on the main thread cost it about as much as a small cell's whole run).
 */
export interface CellOutcome {
  status: 'ok' | 'error';
  /** JSON of the RunResult; null when status is error. */
  resultJson: string | null;
  /** The run verified every page (RunResult.verified); false for errors. */
  verified: boolean;
  error: { code: string; message: string } | null;
  startedAt: string;
  wallMs: number;
}

export interface OpenedOutput {
  /** Indexes of the cells already in the file. */
  done: Set<number>;
  /** Bytes of a torn last line cut off (a sweep killed mid-write). */
  droppedBytes: number;
  appender: LineAppender;
}

/**
 * Opens (or creates) the output of `sweep` for appending: cuts off a torn last line, then reads which
 * cells are there. A line that is not a result of this same sweep is BAD_INPUT: appending to another
 * sweep's file would make a file no merge can check.
 */
export function openOutput(path: string, sweep: Sweep): OpenedOutput {
  try {
    makeDirs(dirname(path));
  } catch (e) {
    throw Errors.badInput('--output', `cannot create the directory of ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let droppedBytes = 0;
  const done = new Set<number>();
  try {
    droppedBytes = repairTail(path);
    readLines(path, {
      line(text, lineNo) {
        let r: Partial<SweepRecord>;
        try {
          r = JSON.parse(text) as Partial<SweepRecord>;
        } catch {
          throw Errors.badInput('', `${path} line ${lineNo} is not JSON: not a sweep output file (write elsewhere with -o)`);
        }
        if (r?.schema !== RESULT_SCHEMA_NAME) throw Errors.badInput('', `${path} line ${lineNo} is not a sweep result (write elsewhere with -o)`);
        if (r.sweep?.id !== sweep.id) {
          throw Errors.badInput(
            '',
            `${path} holds results of another sweep (id ${r.sweep?.id}, this one is ${sweep.id}): write to a new file with -o, or delete it`,
          );
        }
        const cell = sweep.cells[r.cell?.index ?? -1];
        if (!cell || cell.id !== r.cell?.id) throw Errors.badInput('', `${path} line ${lineNo}: cell ${r.cell?.index} does not match this sweep's cell`);
        done.add(cell.index);
      },
    });
  } catch (e) {
    if (e instanceof SimError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw Errors.badInput('--output', `cannot read ${path}: ${code ?? (e as Error).message}`);
  }
  let appender: LineAppender;
  try {
    appender = new LineAppender(path);
  } catch (e) {
    throw Errors.badInput('--output', `cannot write ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return { done, droppedBytes, appender };
}

/** The line written for one finished cell (a SweepRecord, keys in schema order, without a newline). */
export function recordLine(sweep: Sweep, cell: Cell, outcome: CellOutcome, shard: Shard): string {
  const head: Omit<SweepRecord, 'result' | 'error' | 'run'> = {
    schema: RESULT_SCHEMA_NAME,
    schemaVersion: RESULT_SCHEMA_VERSION,
    tool: toolFacts(),
    sweep: { id: sweep.id, name: sweep.name, cells: sweep.cells.length, axes: sweep.axes },
    cell: { index: cell.index, id: cell.id, params: cell.params as SweepRecord['cell']['params'] },
    options: cell.options,
    status: outcome.status,
  };
  const tail: Pick<SweepRecord, 'error' | 'run'> = {
    error: outcome.error,
    run: { startedAt: outcome.startedAt, wallMs: outcome.wallMs, shard: shardLabel(shard), host: hostFacts() },
  };
  if ((outcome.status === 'ok') !== (outcome.resultJson !== null)) throw new Error('assertion failed: a result exactly when status is ok');
  // {...head, "result": <the worker's JSON>, ...tail}: the result text is spliced in, not re-parsed.
  return `${JSON.stringify(head).slice(0, -1)},"result":${outcome.resultJson ?? 'null'},${JSON.stringify(tail).slice(1)}`;
}
