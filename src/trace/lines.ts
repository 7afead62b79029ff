/**
 * Reads a text file line by line, streamed: gzip is recognised by its magic bytes and inflated on
 * the fly, so a trace of any length costs one chunk of memory, never the whole file. A truncated or
 * corrupt gzip stream is bad input naming the file and the line at which the text stopped.
 */
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { createGunzip } from 'node:zlib';
import { Errors, SimError } from '../errors.js';

/**
 * The longest line read, in characters: a trace line is a few dozen, a perf script line a few
 * hundred (a long symbol name or path); a longer one is not such a file, and is refused at once
 * rather than gathered (a 50 MB file without a newline took 56 s before this bound).
 */
export const MAX_LINE_CHARS = 64 * 1024;

/** Whether `file` starts with the gzip magic bytes (1f 8b). Throws BAD_INPUT when it cannot be read. */
export function isGzip(file: string, what: string): boolean {
  const head = Buffer.alloc(2);
  let n = 0;
  try {
    const fd = openSync(file, 'r');
    try {
      n = readSync(fd, head, 0, 2, 0);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    throw Errors.badInput(what, `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return n === 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/**
 * Calls `onLine(line, lineNumber)` for every line of `file` (1-based numbers, `\r\n` tolerated) and
 * resolves with the number of lines. `what` prefixes error messages ("trace", "perf script").
 * A SimError thrown by `onLine` stops the read and is passed on unchanged.
 */
export async function forEachLine(file: string, what: string, onLine: (line: string, lineNo: number) => void): Promise<number> {
  const gz = isGzip(file, what);
  const raw = createReadStream(file);
  let input: Readable = raw;
  if (gz) {
    const gunzip = createGunzip();
    raw.on('error', (e) => gunzip.destroy(e));
    input = raw.pipe(gunzip);
  }
  const decoder = new StringDecoder('utf8');
  let rest = '';
  let n = 0;
  try {
    for await (const chunk of input) {
      const text = rest + decoder.write(chunk as Buffer);
      let start = 0;
      for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', start)) {
        if (i - start > MAX_LINE_CHARS) throw tooLong(what, file, n + 1);
        onLine(stripCr(text.slice(start, i)), ++n);
        start = i + 1;
      }
      if (text.length - start > MAX_LINE_CHARS) throw tooLong(what, file, n + 1);
      rest = text.slice(start);
    }
  } catch (e) {
    raw.destroy();
    if (e instanceof SimError) throw e;
    throw Errors.badInput(`${what} ${file}:${n + 1}`, streamFailure(e as NodeJS.ErrnoException, gz));
  }
  rest += decoder.end();
  if (rest) onLine(stripCr(rest), ++n);
  return n;
}

function tooLong(what: string, file: string, lineNo: number): SimError {
  return Errors.badInput(`${what} ${file}:${lineNo}`, `the line is longer than ${MAX_LINE_CHARS} characters (the limit of a line; is this a ${what} file?)`);
}

function stripCr(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

/** One clause saying why the stream stopped. */
function streamFailure(e: NodeJS.ErrnoException, gz: boolean): string {
  if (gz && e.code === 'Z_BUF_ERROR') return 'the gzip stream ends early: the file is truncated';
  if (gz && e.code === 'Z_DATA_ERROR') return `corrupt gzip data (${e.message})`;
  return `cannot read: ${e.code ?? e.message}`;
}
