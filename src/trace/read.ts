/**
 * Every access of a trace file, in file order, v1 or v2 alike: the header is parsed (a v2 file
 * starts with its magic line), comments and blank lines are skipped, and a malformed line is bad
 * input naming the file and line. Streamed (lines.ts). The spool and `trace stats` read
 * traces through here, so both accept exactly the same files.
 */
import { Errors } from '../errors.js';
import { AccessLine, missingHeaderKey, parseAccess, parseHeaderLine, v1Header, V2_MAGIC, type TraceHeader } from '../model/trace-format.js';
import { forEachLine } from './lines.js';

/**
 * Calls `onAccess(access, where, header)` for each access; `where` is "trace FILE:LINE" for the
 * caller's own checks, and `access` is one object reused for every line. Resolves with the header.
 */
export async function forEachAccess(file: string, onAccess: (a: AccessLine, where: string, header: TraceHeader) => void): Promise<TraceHeader> {
  let header: TraceHeader = v1Header();
  let inHeader = false;
  const a = new AccessLine();
  await forEachLine(file, 'trace', (raw, n) => {
    if (n === 1 && raw.trim() === V2_MAGIC) {
      header = { ...header, version: 2 };
      inHeader = true;
      return;
    }
    const where = `trace ${file}:${n}`;
    if (inHeader) {
      if (raw.trim() === '' || raw.trimStart().startsWith('#')) {
        const why = parseHeaderLine(raw.trim(), header);
        if (why) throw Errors.badInput(where, why);
        return;
      }
      inHeader = false;
      const missing = missingHeaderKey(header);
      if (missing) throw Errors.badInput(where, missing);
    }
    const line = raw.replace(/#.*/, '').trim();
    if (!line) return;
    const why = parseAccess(line, header.version, a);
    if (why) throw Errors.badInput(where, why);
    onAccess(a, where, header);
  });
  return header;
}
