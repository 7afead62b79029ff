/**
 * A trace's header, read before the run is resolved: a v2 trace says how many vCPUs recorded it and
 * how much guest memory its layout needs, and those become the run's defaults (flags still win).
 * Only the head of the file is read (inflated partially when gzipped), never the whole trace.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { constants, gunzipSync } from 'node:zlib';
import { Errors } from '../errors.js';
import { isGzip } from './lines.js';
import { missingHeaderKey, parseHeaderLine, v1Header, V2_MAGIC, type TraceHeader } from '../model/trace-format.js';

/** Bytes of the file read for the header: room for hundreds of `# area:` lines. */
const HEAD_BYTES = 256 * 1024;

export function readTraceHeader(file: string): TraceHeader {
  const gz = isGzip(file, 'trace');
  const buf = Buffer.alloc(HEAD_BYTES);
  let n: number;
  try {
    const fd = openSync(file, 'r');
    try {
      n = readSync(fd, buf, 0, HEAD_BYTES, 0);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    throw Errors.badInput('trace', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let text: string;
  try {
    // Z_SYNC_FLUSH inflates what is there without demanding the end of the stream (Node's documented
    // way to read a truncated input): the rest of the file is the spool's business.
    text = (gz ? gunzipSync(buf.subarray(0, n), { finishFlush: constants.Z_SYNC_FLUSH }) : buf.subarray(0, n)).toString('utf8');
  } catch (e) {
    throw Errors.badInput(`trace ${file}:1`, `corrupt gzip data (${(e as Error).message})`);
  }
  return parseHead(text, file, n === HEAD_BYTES);
}

/** The header from the first lines of a trace; `cut`: the text may end inside a line. */
export function parseHead(text: string, file: string, cut: boolean): TraceHeader {
  const lines = text.split('\n');
  if (cut && lines.length > 1) lines.pop();
  if (lines[0]?.replace(/\r$/, '') !== V2_MAGIC) return v1Header();
  const h: TraceHeader = { ...v1Header(), version: 2 };
  let i = 1;
  for (; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '').trim();
    if (line && !line.startsWith('#')) break;
    const why = parseHeaderLine(line, h);
    if (why) throw Errors.badInput(`trace ${file}:${i + 1}`, why);
  }
  const missing = missingHeaderKey(h);
  if (missing) throw Errors.badInput(`trace ${file}:${i + 1}`, missing);
  return h;
}
