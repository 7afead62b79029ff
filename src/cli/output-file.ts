/**
 * Output files of the commands (-o / --out): probed for writability before any work, so a bad path
 * is one line (exit 2) at once instead of after minutes of measuring, and written atomically (a
 * temporary file beside it, then a rename), so an interrupted or failed command never leaves a half
 * file under the name asked for.
 */
import { closeSync, openSync, renameSync, rmSync, type Stats, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Errors } from '../errors.js';

/** The temporary name beside `path` (same directory: the rename stays on one file system). */
export function tempBeside(path: string): string {
  return join(dirname(path), `.${basename(path)}.partial-${process.pid}`);
}

/** Throws BAD_INPUT naming `field` unless a file can be created at `path` (nothing is left behind). */
export function probeWritable(path: string, field: string): void {
  let st: Stats | undefined;
  try {
    st = statSync(path);
  } catch {
    /* not there yet: its directory decides */
  }
  if (st?.isDirectory()) throw Errors.badInput(field, `cannot write ${path}: it is a directory`);
  const tmp = tempBeside(path);
  try {
    closeSync(openSync(tmp, 'wx'));
  } catch (e) {
    throw Errors.badInput(field, `cannot write ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** Writes `text` to `path` through a temporary file and a rename. */
export function writeAtomically(path: string, text: string, field: string): void {
  const tmp = tempBeside(path);
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw Errors.badInput(field, `cannot write ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
