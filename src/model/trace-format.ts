/**
 * The trace file format, as text: pure functions that parse and format one line. Reading a file
 * (maybe gzipped, streamed) is src/trace/lines.ts; decoding it for the engines is src/trace/spool.ts.
 *
 * v1, no header, no time (hand-written traces; still read):
 *
 *   # comment
 *   <vcpu> <R|W|X> <gpa>                       e.g.  0 R 0x7f000   1 W 4096
 *
 * v2, a header of `# key: value` lines naming where the trace came from, then timestamped accesses:
 *
 *   # postcopy-sim trace v2
 *   # source: perf record -e page-faults -c 1 -d -- sort -n in.txt
 *   # page-size: 4096
 *   # vcpus: 2
 *   # memory: 29360128                          guest memory the layout needs (bytes), optional
 *   # area: 0x0 0x1d000 r--p /usr/bin/sort      one per VMA packed into guest memory, informational
 *   <time_us> <vcpu> <R|W|X> <gpa>              e.g.  12.345 1 W 0x1c000
 *
 * Time is microseconds since the trace began, never decreasing for one vCPU. A replay waits the
 * recorded time between a vCPU's accesses (scaled by --trace-time-scale), or none with
 * --trace-timing asap. Whether the file is gzipped is decided by its first two bytes, not its name.
 */
import { clip } from '../errors.js';
import { Access } from './uapi.js';

export const V2_MAGIC = '# postcopy-sim trace v2';

/** A packed VMA: where it sits in guest memory and what it was on the recording host. */
export interface TraceArea {
  gpa: number;
  bytes: number;
  prot: string;
  name: string;
}

export interface TraceHeader {
  version: 1 | 2;
  source: string;
  pageSize: number;
  vcpus: number;
  /** Guest memory the trace's layout needs; undefined when the header does not say. */
  memoryBytes: number | undefined;
  areas: TraceArea[];
}

/** The header of a v1 file: nothing is known. */
export function v1Header(): TraceHeader {
  return { version: 1, source: '', pageSize: 4096, vcpus: 0, memoryBytes: undefined, areas: [] };
}

/** One access, parsed into reusable fields. */
export class AccessLine {
  timeUs = 0;
  vcpu = 0;
  access: Access = Access.Read;
  gpa = 0;
}

const KEYS = new Set(['source', 'page-size', 'vcpus', 'memory', 'area']);

/**
 * Applies one `# key: value` header line to `h`. Returns null when done, else why the line is bad.
 * Unknown keys are ignored so later versions can add some; a plain comment has no `key:`.
 */
export function parseHeaderLine(line: string, h: TraceHeader): string | null {
  const m = /^#\s*([a-z-]+):\s*(.*)$/.exec(line);
  if (!m || !KEYS.has(m[1]!)) return null;
  const key = m[1]!,
    value = m[2]!.trim();
  switch (key) {
    case 'source':
      h.source = value;
      return null;
    case 'page-size': {
      const n = Number(value);
      if (n !== 4096 && n !== 2097152) return `page-size must be 4096 or 2097152, got "${clip(value)}"`;
      h.pageSize = n;
      return null;
    }
    case 'vcpus': {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1 || n > 1024) return `vcpus must be an integer from 1 to 1024, got "${clip(value)}"`;
      h.vcpus = n;
      return null;
    }
    case 'memory': {
      const n = parseNumber(value);
      if (!Number.isSafeInteger(n) || n <= 0) return `memory must be a positive number of bytes, got "${clip(value)}"`;
      h.memoryBytes = n;
      return null;
    }
    default: {
      // area
      const p = value.split(/\s+/);
      const gpa = parseNumber(p[0] ?? ''),
        bytes = parseNumber(p[1] ?? '');
      if (!Number.isSafeInteger(gpa) || !Number.isSafeInteger(bytes)) return `area must be "<gpa> <bytes> <prot> <name>", got "${clip(value)}"`;
      h.areas.push({ gpa, bytes, prot: p[2] ?? '', name: p.slice(3).join(' ') });
      return null;
    }
  }
}

/** What a v2 header must name; null when complete. */
export function missingHeaderKey(h: TraceHeader): string | null {
  if (h.version !== 2) return null;
  if (!h.source) return 'the v2 header names no source (# source: ...)';
  if (!h.vcpus) return 'the v2 header names no vcpus (# vcpus: N)';
  return null;
}

/** Parses an access line (v1: 3 fields, v2: 4) into `out`. Returns null when good, else why not. */
export function parseAccess(line: string, version: 1 | 2, out: AccessLine): string | null {
  const parts = line.split(/\s+/);
  const want = version === 2 ? 4 : 3;
  if (parts.length !== want) {
    return version === 2 ? `expected "<time_us> <vcpu> <R|W|X> <gpa>", got "${clip(line)}"` : `expected "<vcpu> <R|W|X> <gpa>", got "${clip(line)}"`;
  }
  let i = 0;
  if (version === 2) {
    const t = Number(parts[i++]);
    if (!Number.isFinite(t) || t < 0) return `time "${clip(parts[0]!)}" is not a non-negative number of microseconds`;
    out.timeUs = t;
  } else out.timeUs = 0;
  const v = parts[i++]!,
    op = parts[i++]!,
    addr = parts[i]!;
  const vcpu = Number(v);
  if (!Number.isInteger(vcpu) || vcpu < 0) return `vcpu "${clip(v)}" is not a non-negative integer`;
  const access = accessOf(op);
  if (access < 0) return `access "${clip(op)}" must be R, W or X`;
  const gpa = parseNumber(addr);
  if (!Number.isSafeInteger(gpa) || gpa < 0) return `gpa "${clip(addr)}" is not a number (decimal or 0x hex)`;
  out.vcpu = vcpu;
  out.access = access as Access;
  out.gpa = gpa;
  return null;
}

function accessOf(op: string): number {
  switch (op) {
    case 'R':
    case 'r':
      return Access.Read;
    case 'W':
    case 'w':
      return Access.Write;
    case 'X':
    case 'x':
      return Access.Exec;
    default:
      return -1;
  }
}

/** Decimal or 0x hex; NaN otherwise. */
export function parseNumber(s: string): number {
  return /^0x[0-9a-f]+$/i.test(s) ? parseInt(s, 16) : /^\d+$/.test(s) ? Number(s) : NaN;
}

export function formatHeader(h: TraceHeader): string {
  // A header line cannot hold a line break (a recorded `python3 -c "..."` has several).
  const source = h.source.replace(/\s+/g, ' ').trim();
  const lines = [V2_MAGIC, `# source: ${source}`, `# page-size: ${h.pageSize}`, `# vcpus: ${h.vcpus}`];
  if (h.memoryBytes !== undefined) lines.push(`# memory: ${h.memoryBytes}`);
  for (const a of h.areas) lines.push(`# area: 0x${a.gpa.toString(16)} 0x${a.bytes.toString(16)} ${a.prot || '-'} ${a.name || '-'}`);
  lines.push('# columns: time_us vcpu access gpa');
  return `${lines.join('\n')}\n`;
}

const ACCESS_LETTER = ['R', 'W', 'X'];

export function formatAccess(timeUs: number, vcpu: number, access: Access, gpa: number): string {
  return `${timeUs.toFixed(3)} ${vcpu} ${ACCESS_LETTER[access]} 0x${gpa.toString(16)}\n`;
}
