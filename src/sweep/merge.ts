/**
 * `sweep merge OUT IN...`: joins the outputs of a sweep's shards into one file in cell order, after
 * checking every line against the result schema and the set of cells as a whole: one sweep, every
 * cell exactly once. A missing cell means a shard did not finish (run it again: it resumes); a
 * duplicate means two shards overlapped (a wrong K/N). Either is BAD_INPUT and nothing is written.
 *
 * Two passes keep memory flat: the first validates and notes where each cell's line is, the second
 * copies the lines in cell order into a temporary file that is renamed over OUT at the end.
 */
import { closeSync, openSync, renameSync, rmSync } from 'node:fs';
import { Errors, SimError } from '../errors.js';
import { formatZodError } from '../options.js';
import { LineAppender, readAt, readLines } from './jsonl.js';
import { SweepRecordSchema } from './schema.js';

export interface MergeSummary {
  cells: number;
  sweepName: string;
  sweepId: string;
  failed: number;
  /** Inputs whose last line was torn (a killed shard): that cell counts as missing. */
  torn: string[];
}

interface Where {
  file: number;
  lineNo: number;
  offset: number;
  bytes: number;
}

/** `3, 7-9, 12` (the first `max` runs). */
export function indexRanges(xs: number[], max = 8): string {
  const runs: string[] = [];
  for (let i = 0; i < xs.length && runs.length < max; ) {
    let j = i;
    while (j + 1 < xs.length && xs[j + 1] === xs[j]! + 1) j++;
    runs.push(i === j ? `${xs[i]}` : `${xs[i]}-${xs[j]}`);
    i = j + 1;
  }
  const shown = runs.join(', ');
  return runs.length === max && xs.length ? `${shown}, ...` : shown;
}

/** Checks the inputs and, when they are complete, writes OUT. Throws BAD_INPUT naming the problem. */
export function mergeShards(out: string, inputs: string[]): MergeSummary {
  if (!inputs.length) throw Errors.badInput('merge', 'name the shard outputs to merge (postcopy-sim sweep merge OUT IN...)');
  let sweep: { id: string; name: string; cells: number; from: string } | null = null;
  let where: Array<Where | undefined> = [];
  const dups: string[] = [];
  const torn: string[] = [];
  let failed = 0;
  inputs.forEach((path, file) => {
    try {
      readLines(path, {
        line(text, lineNo, offset, bytes) {
          const at = `${path} line ${lineNo}`;
          let data: unknown;
          try {
            data = JSON.parse(text);
          } catch {
            throw Errors.badInput('', `${at} is not JSON`);
          }
          const r = SweepRecordSchema.safeParse(data);
          if (!r.success) throw Errors.badInput('', `${at}: ${formatZodError(r.error)}`);
          const rec = r.data;
          if (!sweep) {
            sweep = { id: rec.sweep.id, name: rec.sweep.name, cells: rec.sweep.cells, from: at };
            where = new Array<Where | undefined>(rec.sweep.cells);
          } else if (rec.sweep.id !== sweep.id || rec.sweep.cells !== sweep.cells) {
            throw Errors.badInput(
              '',
              `${at} is from sweep ${rec.sweep.name} (id ${rec.sweep.id}), but ${sweep.from} is from sweep ${sweep.name} (id ${sweep.id}): merge the shards of one sweep`,
            );
          }
          const i = rec.cell.index;
          if (i >= sweep.cells) throw Errors.badInput('', `${at}: cell ${i} is outside the sweep's ${sweep.cells} cells`);
          const seen = where[i];
          if (seen) dups.push(`cell ${i} (${inputs[seen.file]} line ${seen.lineNo} and ${at})`);
          else where[i] = { file, lineNo, offset, bytes };
          if (rec.status !== 'ok') failed++;
        },
        tornTail() {
          torn.push(path);
        },
      });
    } catch (e) {
      if (e instanceof SimError) throw e;
      const code = (e as NodeJS.ErrnoException).code;
      if (code) throw Errors.badInput('', `cannot read ${path}: ${code}`);
      throw e;
    }
  });
  if (!sweep) throw Errors.badInput('merge', `no results in ${inputs.join(', ')}`);
  const s = sweep as { id: string; name: string; cells: number };
  if (dups.length)
    throw Errors.badInput(
      'merge',
      `${dups.length} duplicated cell${dups.length > 1 ? 's' : ''}: ${dups.slice(0, 3).join('; ')}${dups.length > 3 ? '; ...' : ''} (do the shards overlap? each needs its own K of the same N)`,
    );
  const missing = [...Array(s.cells).keys()].filter((i) => !where[i]);
  if (missing.length) {
    throw Errors.badInput(
      'merge',
      `${missing.length} of ${s.cells} cells missing: ${indexRanges(missing)}${torn.length ? ` (torn last line in ${torn.join(', ')})` : ''}; run their shards again (they resume), then merge`,
    );
  }

  const tmp = `${out}.merging-${process.pid}`;
  const fds = inputs.map((p) => openSync(p, 'r'));
  let w: LineAppender | null = null;
  try {
    rmSync(tmp, { force: true });
    w = new LineAppender(tmp);
    for (const at of where as Where[]) w.append(readAt(fds[at.file]!, at.offset, at.bytes).toString('utf8'));
    w.close();
    w = null;
    renameSync(tmp, out);
  } catch (e) {
    w?.close();
    rmSync(tmp, { force: true });
    const code = e instanceof SimError ? undefined : (e as NodeJS.ErrnoException).code;
    if (code) throw Errors.badInput('', `cannot write ${out}: ${code}`);
    throw e;
  } finally {
    for (const fd of fds) closeSync(fd);
  }
  return { cells: s.cells, sweepName: s.name, sweepId: s.id, failed, torn };
}
