/**
 * One line of `perf script` text, as `trace record` asks perf for it:
 *
 *   perf script -F comm,pid,tid,time,event,addr --show-mmap-events
 *
 *     sort 32461/32461  1225.975463: PERF_RECORD_MMAP2 32461/32461: [0x5594d2889000(0x1d000) @ 0 fe:00 260879 0]: r--p /usr/bin/sort
 *     sort 32461/32461  1225.977766: page-faults:     7f159ea50000
 *
 * A sample line is a page fault of thread `tid` of process `pid` at `addr` (the `-d` data address);
 * a PERF_RECORD_MMAP/MMAP2 line is a VMA the process mapped. Other records and other events are
 * skipped; anything else is not perf script output of that shape, and the caller reports its line.
 * Pure: no I/O.
 */

export interface PerfSample {
  kind: 'sample';
  pid: number;
  tid: number;
  timeUs: number;
  addr: number;
}
export interface PerfMmap {
  kind: 'mmap';
  pid: number;
  start: number;
  bytes: number;
  prot: string;
  name: string;
}
export interface PerfSkip {
  kind: 'skip';
}
export type PerfLine = PerfSample | PerfMmap | PerfSkip;

export const PERF_SCRIPT_FIELDS = ['-F', 'comm,pid,tid,time,event,addr', '--show-mmap-events'];

/** Software fault events, with or without modifiers (page-faults:u). */
const FAULT_EVENT = /^(page-faults|faults|minor-faults|major-faults)(:[a-zA-Z]*)?$/;
const PREFIX = /^\s*(?:.*?\s+)?(-?\d+)\/(-?\d+)\s+(\d+)\.(\d+):\s*(.*)$/;
const MMAP = /^PERF_RECORD_MMAP2?\s+(-?\d+)\/-?\d+:\s+\[0x([0-9a-f]+)\(0x([0-9a-f]+)\)[^\]]*\]:\s+(\S+)\s*(.*)$/;
const SAMPLE = /^(?:\d+\s+)?([\w:.-]+):\s+([0-9a-f]+)(?:\s|$)/;

const SKIP: PerfSkip = { kind: 'skip' };

/** Why a line is not perf script output we can read (the caller adds file and line). */
export const NOT_PERF_SCRIPT =
  'not a perf script line with pid/tid, time, event and addr ' + '(expected the output of: perf script -F comm,pid,tid,time,event,addr --show-mmap-events)';

/** The line's meaning, or a string saying why it is malformed. */
export function parsePerfLine(line: string): PerfLine | string {
  const t = line.trim();
  if (t === '' || t.startsWith('#')) return SKIP;
  const m = PREFIX.exec(line);
  if (!m) return `${NOT_PERF_SCRIPT}: "${clip(t)}"`;
  const pid = Number(m[1]),
    tid = Number(m[2]);
  // Seconds with 6 (us) or 9 (--ns) decimals, in exact integer steps rather than a float product.
  const timeUs = Number(m[3]) * 1e6 + Number(m[4]!.padEnd(9, '0').slice(0, 9)) / 1000;
  const rest = m[5]!;
  if (rest.startsWith('PERF_RECORD_MMAP')) {
    const mm = MMAP.exec(rest);
    if (!mm) return `a PERF_RECORD_MMAP line without [0xstart(0xlength) ...]: prot name: "${clip(t)}"`;
    const mpid = Number(mm[1]);
    if (mpid < 0) return SKIP; // the kernel's own maps
    return { kind: 'mmap', pid: mpid, start: parseInt(mm[2]!, 16), bytes: parseInt(mm[3]!, 16), prot: mm[4]!, name: mm[5]!.trim() };
  }
  if (rest.startsWith('PERF_RECORD_')) return SKIP;
  const s = SAMPLE.exec(rest);
  if (!s) return `${NOT_PERF_SCRIPT}: "${clip(t)}"`;
  if (!FAULT_EVENT.test(s[1]!)) return SKIP;
  return { kind: 'sample', pid, tid, timeUs, addr: parseInt(s[2]!, 16) };
}

function clip(s: string): string {
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}
