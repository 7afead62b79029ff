/**
 * perf script text -> a v2 trace. Two streamed passes over the text, so neither it nor the trace is
 * held whole: the first collects every process's VMAs, the pages its threads touched and the threads
 * themselves; the layout is packed (vma-layout.ts); the second writes one access per page fault.
 *
 *   - addresses become gpas in the packed layout;
 *   - time is microseconds since the first fault, so the replay keeps the time between faults;
 *   - each thread becomes a vCPU, numbered in the order of its first fault;
 *   - faults on kernel addresses are dropped (counted), they are not the program's memory.
 *
 * perf's page-faults event does not say whether the access read, wrote or fetched, so the access is
 * inferred from the mapping: X in an executable one; W in a writable anonymous one (heap, stack,
 * anonymous maps: written before they are read, in the common case) and on a second fault of a page
 * of a writable file mapping (the copy-on-write after a first read); R otherwise.
 */
import { Errors } from '../errors.js';
import { formatAccess, formatHeader, type TraceHeader } from '../model/trace-format.js';
import { forEachLine } from './lines.js';
import { Access } from '../model/uapi.js';
import { parsePerfLine, type PerfLine } from './perf-script.js';
import { HOST_PAGE, VmaLayout, type PackedArea } from './vma-layout.js';
import { TraceWriter } from './writer.js';

/** x86-64 user addresses end at 2^47; anything above is the kernel's. */
const USER_END = 2 ** 47;

export interface Conversion {
  file: string;
  accesses: number;
  vcpus: number;
  areas: number;
  memoryBytes: number;
  durationUs: number;
  droppedKernel: number;
  bytesWritten: number;
}

export async function convertPerfScript(input: string, out: string, source: string): Promise<Conversion> {
  const layout = new VmaLayout();
  const vcpuOf = new Map<number, number>();
  let firstUs = NaN,
    lastUs = 0,
    samples = 0,
    kernel = 0;
  await eachPerfLine(input, (p) => {
    if (p.kind === 'mmap') {
      layout.addVma(p.pid, p.start, p.bytes, p.prot, p.name);
      return;
    }
    if (p.kind !== 'sample') return;
    if (p.addr >= USER_END) {
      kernel++;
      return;
    }
    layout.touch(p.pid, p.addr);
    if (!vcpuOf.has(p.tid)) vcpuOf.set(p.tid, vcpuOf.size);
    if (Number.isNaN(firstUs)) firstUs = p.timeUs;
    lastUs = Math.max(lastUs, p.timeUs);
    samples++;
  });
  if (samples === 0)
    throw Errors.badInput(`perf script ${input}`, `holds no page-fault samples of user memory${kernel ? ` (${kernel} on kernel addresses)` : ''}`);
  layout.pack();
  const header: TraceHeader = {
    version: 2,
    source,
    pageSize: HOST_PAGE,
    vcpus: vcpuOf.size,
    memoryBytes: layout.memoryBytes,
    areas: layout.areas().map((a) => ({ gpa: a.gpa, bytes: (a.lastPage - a.firstPage + 1) * HOST_PAGE, prot: a.prot, name: a.name })),
  };
  const w = new TraceWriter(out);
  try {
    w.write(formatHeader(header));
    const seen = new Map<number, Set<number>>();
    const lastOf = new Float64Array(vcpuOf.size);
    await eachPerfLine(input, (p) => {
      if (p.kind !== 'sample' || p.addr >= USER_END) return;
      const area = layout.areaOf(p.pid, p.addr)!;
      const vcpu = vcpuOf.get(p.tid)!;
      // perf sorts by time; should two samples of one thread come out of order, keep them in order.
      const t = Math.max(lastOf[vcpu]!, p.timeUs - firstUs);
      lastOf[vcpu] = t;
      w.write(formatAccess(t, vcpu, accessOf(area, firstTouch(seen, p.pid, p.addr)), VmaLayout.gpaIn(area, p.addr)));
    });
    w.close();
  } catch (e) {
    w.abandon();
    throw e;
  }
  return {
    file: out,
    accesses: samples,
    vcpus: vcpuOf.size,
    areas: header.areas.length,
    memoryBytes: layout.memoryBytes,
    durationUs: lastUs - firstUs,
    droppedKernel: kernel,
    bytesWritten: w.bytesWritten,
  };
}

async function eachPerfLine(input: string, f: (p: PerfLine) => void): Promise<void> {
  await forEachLine(input, 'perf script', (line, n) => {
    const p = parsePerfLine(line);
    if (typeof p === 'string') throw Errors.badInput(`perf script ${input}:${n}`, p);
    f(p);
  });
}

function firstTouch(seen: Map<number, Set<number>>, pid: number, addr: number): boolean {
  let s = seen.get(pid);
  if (!s) {
    s = new Set();
    seen.set(pid, s);
  }
  const page = Math.floor(addr / HOST_PAGE);
  if (s.has(page)) return false;
  s.add(page);
  return true;
}

const ANONYMOUS = /^(\/\/anon|\[heap\]|\[stack.*\]|\[unmapped\]|)$/;

export function accessOf(area: PackedArea, first: boolean): Access {
  if (area.prot.includes('x')) return Access.Exec;
  if (!area.prot.includes('w')) return Access.Read;
  return ANONYMOUS.test(area.name) || !first ? Access.Write : Access.Read;
}
