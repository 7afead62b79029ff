/**
 * Reading the files a user names (scenario, sweep, cost profile, results): one way to fail, so a
 * missing or malformed file is always BAD_INPUT naming the field and the file, on one line.
 */
import { readFileSync } from 'node:fs';
import { Errors } from './errors.js';

/** The file's text, or BAD_INPUT `field: cannot read FILE: ENOENT`. `what` names the file's kind ("sweep file"). */
export function readTextFile(file: string, field: string, what = ''): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw Errors.badInput(field, `cannot read ${what ? `${what} ` : ''}${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** `text` parsed as JSON, or BAD_INPUT `field: FILE is not valid JSON: ...` (the parser's first line). */
export function parseJsonText(text: string, file: string, field: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw Errors.badInput(field, `${file} is not valid JSON: ${(e as Error).message.split('\n')[0]}`);
  }
}

/** The file's text and its JSON value, failing as the two above do. */
export function readJsonFile(file: string, field: string, what = ''): { text: string; data: unknown } {
  const text = readTextFile(file, field, what);
  return { text, data: parseJsonText(text, file, field) };
}
