/**
 * JSON Lines files that survive being killed. A writer appends each line with one write() of the
 * whole line (the file is opened O_APPEND), so a SIGKILL leaves at most one torn line, and only at
 * the end. Whoever opens the file for appending again first cuts that torn tail off (repairTail);
 * readers report it instead of failing on it. Lines are read in chunks, so files larger than one JS
 * string (~512 MiB) are fine.
 */
import { closeSync, existsSync, fstatSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';

const CHUNK = 1 << 20;
const NL = 0x0a;

/**
 * Cuts a torn last line (bytes after the last newline) off the file. Returns the bytes dropped
 * (0 when the file ends with a newline, is empty, or does not exist).
 */
export function repairTail(path: string): number {
  if (!existsSync(path)) return 0;
  const fd = openSync(path, 'r+');
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return 0;
    const buf = Buffer.alloc(Math.min(CHUNK, size));
    let end = size;
    while (end > 0) {
      const start = Math.max(0, end - buf.length);
      const n = readSync(fd, buf, 0, end - start, start);
      const i = buf.subarray(0, n).lastIndexOf(NL);
      if (i >= 0) {
        const keep = start + i + 1;
        if (keep < size) ftruncateSync(fd, keep);
        return size - keep;
      }
      end = start;
    }
    ftruncateSync(fd, 0); // not one complete line
    return size;
  } finally {
    closeSync(fd);
  }
}

export interface LineVisitor {
  /**
   * A complete line (without its newline), numbered from 1, at byte `offset` of the file and
   * `bytes` long (newline excluded). Empty lines are skipped.
   */
  line(text: string, lineNo: number, offset: number, bytes: number): void;
  /** Bytes after the last newline: a line torn by a kill. */
  tornTail?(bytes: number, lineNo: number): void;
}

/** Calls `v.line` for every complete line of the file, in order. */
export function readLines(path: string, v: LineVisitor): void {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(CHUNK);
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let lineNo = 0;
    let lineStart = 0; // file offset of the line being assembled
    let pos = 0; // file offset of buf[0]
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      let from = 0;
      for (let i = buf.indexOf(NL, 0); i >= 0 && i < n; i = buf.indexOf(NL, from)) {
        const piece = buf.subarray(from, i);
        const text = pendingBytes ? Buffer.concat([...pending, piece]).toString('utf8') : piece.toString('utf8');
        pending = [];
        pendingBytes = 0;
        lineNo++;
        if (text.trim()) v.line(text, lineNo, lineStart, pos + i - lineStart);
        from = i + 1;
        lineStart = pos + from;
      }
      if (from < n) {
        pending.push(Buffer.from(buf.subarray(from, n)));
        pendingBytes += n - from;
      }
      pos += n;
    }
    if (pendingBytes && Buffer.concat(pending).toString('utf8').trim()) v.tornTail?.(pendingBytes, lineNo + 1);
  } finally {
    closeSync(fd);
  }
}

/** Reads `bytes` at `offset` of an open file (a line found by readLines). */
export function readAt(fd: number, offset: number, bytes: number): Buffer {
  const buf = Buffer.alloc(bytes);
  let got = 0;
  while (got < bytes) {
    const n = readSync(fd, buf, got, bytes - got, offset + got);
    if (n === 0) throw new Error(`assertion failed: the file ended inside a line at offset ${offset}`);
    got += n;
  }
  return buf;
}

/** An append-only JSON Lines writer: one write() per line. */
export class LineAppender {
  private readonly fd: number;
  constructor(readonly path: string) {
    this.fd = openSync(path, 'a');
  }

  append(line: string): void {
    if (line.includes('\n')) throw new Error('assertion failed: a JSON line holds no newline');
    const buf = Buffer.from(`${line}\n`, 'utf8');
    // Regular files take the whole buffer in one write; the loop only guards the rare short write.
    let off = 0;
    while (off < buf.length) off += writeSync(this.fd, buf, off, buf.length - off);
  }

  close(): void {
    closeSync(this.fd);
  }
}
